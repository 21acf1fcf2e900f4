"""signed statements of reports and acknowledgement download codes

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op


revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "statements",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column(
            "report_id",
            sa.String(length=32),
            sa.ForeignKey("reports.id", name="fk_statements_report_id_reports"),
            nullable=False,
        ),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_statements"),
        sa.UniqueConstraint("report_id", "version", name="uq_statements_report_version"),
    )
    op.create_table(
        "acknowledgement_codes",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column(
            "report_id",
            sa.String(length=32),
            sa.ForeignKey("reports.id", name="fk_acknowledgement_codes_report_id_reports"),
            nullable=False,
        ),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uses_left", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_acknowledgement_codes"),
        sa.UniqueConstraint("code_hash", name="uq_acknowledgement_codes_code_hash"),
    )
    op.create_index("ix_acknowledgement_codes_expires", "acknowledgement_codes", ["expires_at"])


def downgrade() -> None:
    op.drop_index("ix_acknowledgement_codes_expires", table_name="acknowledgement_codes")
    op.drop_table("acknowledgement_codes")
    op.drop_table("statements")
