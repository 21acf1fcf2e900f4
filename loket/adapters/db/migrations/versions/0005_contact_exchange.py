"""chat messages and documents exchanged during a contact

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _author_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("author_role", sa.String(length=16), nullable=False),
        sa.Column("author_name", sa.String(length=120), nullable=False),
        sa.Column("author_staff_id", sa.Integer(), sa.ForeignKey("staff.id"), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "contact_messages",
        sa.Column("id", sa.String(length=32), primary_key=True),
        sa.Column("ticket_id", sa.String(length=32), sa.ForeignKey("tickets.id"), nullable=False),
        *_author_columns(),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_contact_messages_ticket", "contact_messages", ["ticket_id", "id"])
    op.create_table(
        "contact_documents",
        sa.Column("id", sa.String(length=32), primary_key=True),
        sa.Column("ticket_id", sa.String(length=32), sa.ForeignKey("tickets.id"), nullable=False),
        *_author_columns(),
        sa.Column("filename", sa.String(length=120), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
    )
    op.create_index("ix_contact_documents_ticket", "contact_documents", ["ticket_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_contact_documents_ticket", table_name="contact_documents")
    op.drop_table("contact_documents")
    op.drop_index("ix_contact_messages_ticket", table_name="contact_messages")
    op.drop_table("contact_messages")
