"""indexes for the hand-out and the supervisor board

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    waiting = sa.text("state = 'waiting'")
    op.create_index(
        "ix_tickets_waiting_rank",
        "tickets",
        ["rank_at", "taken_at", "id"],
        postgresql_where=waiting,
        sqlite_where=waiting,
    )
    op.create_index("ix_tickets_taken", "tickets", ["taken_at"])


def downgrade() -> None:
    op.drop_index("ix_tickets_taken", table_name="tickets")
    op.drop_index("ix_tickets_waiting_rank", table_name="tickets")
