"""callback requests and the notification outbox

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "callbacks",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("slot_start_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("slot_end_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.String(length=32), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["location_id"], ["locations.id"], name=op.f("fk_callbacks_location_id_locations")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_callbacks_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callbacks")),
        sa.UniqueConstraint("reference", name=op.f("uq_callbacks_reference")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_callbacks_idempotency_key")),
    )
    op.create_index("ix_callbacks_state_due", "callbacks", ["state", "due_at"])
    op.create_index("ix_callbacks_slot_state", "callbacks", ["slot_start_at", "state"])
    op.create_index("ix_callbacks_ticket", "callbacks", ["ticket_id"])
    op.create_table(
        "notifications",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )


def downgrade() -> None:
    op.drop_table("notifications")
    op.drop_index("ix_callbacks_ticket", table_name="callbacks")
    op.drop_index("ix_callbacks_slot_state", table_name="callbacks")
    op.drop_index("ix_callbacks_state_due", table_name="callbacks")
    op.drop_table("callbacks")
