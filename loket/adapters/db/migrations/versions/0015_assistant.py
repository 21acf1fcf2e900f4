"""the virtual agent: conversations, their lines, and unanswered questions

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op


revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assistant_conversations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("location_slug", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "ticket_id",
            sa.String(length=32),
            sa.ForeignKey("tickets.id", name="fk_assistant_conversations_ticket_id_tickets"),
        ),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_assistant_conversations"),
    )
    op.create_index("ix_assistant_conversations_last", "assistant_conversations", ["last_at"])
    op.create_index("ix_assistant_conversations_ticket", "assistant_conversations", ["ticket_id"])
    op.create_table(
        "assistant_lines",
        sa.Column(
            "conversation_id",
            sa.String(length=32),
            sa.ForeignKey(
                "assistant_conversations.id",
                name="fk_assistant_lines_conversation_id_assistant_conversations",
                ondelete="CASCADE",
            ),
            nullable=False,
        ),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("speaker", sa.String(length=16), nullable=False),
        sa.Column("text", sa.LargeBinary(), nullable=False),
        sa.Column("intent", sa.String(length=40)),
        sa.Column("confidence", sa.Integer()),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", "position", name="pk_assistant_lines"),
    )
    op.create_table(
        "assistant_unanswered",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=300), nullable=False),
        sa.Column("text", sa.String(length=300), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_assistant_unanswered"),
        sa.UniqueConstraint("language", "key", name="uq_assistant_unanswered_language_key"),
    )


def downgrade() -> None:
    op.drop_table("assistant_unanswered")
    op.drop_table("assistant_lines")
    op.drop_index("ix_assistant_conversations_ticket", table_name="assistant_conversations")
    op.drop_index("ix_assistant_conversations_last", table_name="assistant_conversations")
    op.drop_table("assistant_conversations")
