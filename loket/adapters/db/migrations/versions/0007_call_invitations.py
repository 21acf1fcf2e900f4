"""interpreters invited into video calls

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op


revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "call_invitations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column(
            "ticket_id",
            sa.String(length=32),
            sa.ForeignKey("tickets.id", name="fk_call_invitations_ticket_id_tickets"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column(
            "invited_by",
            sa.Integer(),
            sa.ForeignKey("staff.id", name="fk_call_invitations_invited_by_staff"),
            nullable=False,
        ),
        sa.Column(
            "staff_id",
            sa.Integer(),
            sa.ForeignKey("staff.id", name="fk_call_invitations_staff_id_staff"),
            nullable=True,
        ),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("holder_hash", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_call_invitations"),
        sa.UniqueConstraint("code_hash", name="uq_call_invitations_code_hash"),
    )
    op.create_index("ix_call_invitations_ticket", "call_invitations", ["ticket_id"])
    op.create_index("ix_call_invitations_staff", "call_invitations", ["staff_id"])


def downgrade() -> None:
    op.drop_index("ix_call_invitations_staff", table_name="call_invitations")
    op.drop_index("ix_call_invitations_ticket", table_name="call_invitations")
    op.drop_table("call_invitations")
