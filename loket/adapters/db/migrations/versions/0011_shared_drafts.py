"""reports drafted with an officer in a call: the contact's draft and both confirmations

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op


revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "call_drafts",
        sa.Column(
            "ticket_id",
            sa.String(length=32),
            sa.ForeignKey("tickets.id", name="fk_call_drafts_ticket_id_tickets"),
            nullable=False,
        ),
        sa.Column(
            "draft_id",
            sa.String(length=32),
            sa.ForeignKey(
                "report_drafts.id",
                name="fk_call_drafts_draft_id_report_drafts",
                ondelete="CASCADE",
            ),
            nullable=False,
        ),
        sa.Column("started_by", sa.String(length=16), nullable=False),
        sa.Column("citizen_version", sa.Integer(), nullable=True),
        sa.Column("citizen_answers", sa.String(length=64), nullable=True),
        sa.Column("citizen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("citizen_name", sa.String(length=200), nullable=True),
        sa.Column("officer_version", sa.Integer(), nullable=True),
        sa.Column("officer_answers", sa.String(length=64), nullable=True),
        sa.Column("officer_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "officer_id",
            sa.Integer(),
            sa.ForeignKey("staff.id", name="fk_call_drafts_officer_id_staff"),
            nullable=True,
        ),
        sa.Column("officer_changes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("ticket_id", name="pk_call_drafts"),
    )
    op.create_index("ix_call_drafts_draft_id", "call_drafts", ["draft_id"])


def downgrade() -> None:
    op.drop_index("ix_call_drafts_draft_id", table_name="call_drafts")
    op.drop_table("call_drafts")
