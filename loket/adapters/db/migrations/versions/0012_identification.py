"""identification: the level reached on drafts and reports, verifications, officer checks

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op


revision = "0012"
# The lead re-chains the helpers' migrations when merging.
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing drafts and reports were made under a name the citizen gave.
    with op.batch_alter_table("report_drafts") as batch:
        batch.add_column(
            sa.Column(
                "identification",
                sa.String(length=24),
                nullable=False,
                server_default="self_declared",
            )
        )
    with op.batch_alter_table("reports") as batch:
        batch.add_column(
            sa.Column(
                "identification",
                sa.String(length=24),
                nullable=False,
                server_default="self_declared",
            )
        )
    op.create_table(
        "identity_verifications",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column(
            "draft_id",
            sa.String(length=32),
            sa.ForeignKey(
                "report_drafts.id",
                name="fk_identity_verifications_draft_id_report_drafts",
                ondelete="CASCADE",
            ),
            nullable=False,
        ),
        sa.Column("level", sa.String(length=24), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("subject_ref", sa.String(length=64), nullable=True),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column(
            "officer_id",
            sa.Integer(),
            sa.ForeignKey("staff.id", name="fk_identity_verifications_officer_id_staff"),
            nullable=True,
        ),
        sa.Column("document_type", sa.String(length=24), nullable=True),
        sa.Column("document_suffix", sa.String(length=4), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_identity_verifications"),
    )
    op.create_index("ix_identity_verifications_draft", "identity_verifications", ["draft_id"])
    op.create_table(
        "identity_call_requests",
        sa.Column(
            "ticket_id",
            sa.String(length=32),
            sa.ForeignKey("tickets.id", name="fk_identity_call_requests_ticket_id_tickets"),
            nullable=False,
        ),
        sa.Column(
            "draft_id",
            sa.String(length=32),
            sa.ForeignKey(
                "report_drafts.id",
                name="fk_identity_call_requests_draft_id_report_drafts",
                ondelete="CASCADE",
            ),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("ticket_id", name="pk_identity_call_requests"),
    )
    op.create_index("ix_identity_call_requests_draft", "identity_call_requests", ["draft_id"])


def downgrade() -> None:
    op.drop_index("ix_identity_call_requests_draft", table_name="identity_call_requests")
    op.drop_table("identity_call_requests")
    op.drop_index("ix_identity_verifications_draft", table_name="identity_verifications")
    op.drop_table("identity_verifications")
    with op.batch_alter_table("reports") as batch:
        batch.drop_column("identification")
    with op.batch_alter_table("report_drafts") as batch:
        batch.drop_column("identification")
