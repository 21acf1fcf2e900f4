"""tips' follow-up, reports' status codes and exports to the back-end

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op


revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_access_codes",
        sa.Column(
            "report_id",
            sa.String(length=32),
            sa.ForeignKey("reports.id", name="fk_report_access_codes_report_id_reports"),
            nullable=False,
        ),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("report_id", "purpose", name="pk_report_access_codes"),
    )
    op.create_table(
        "tip_follow_ups",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column(
            "report_id",
            sa.String(length=32),
            sa.ForeignKey("reports.id", name="fk_tip_follow_ups_report_id_reports"),
            nullable=False,
        ),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tip_follow_ups"),
    )
    op.create_index("ix_tip_follow_ups_report", "tip_follow_ups", ["report_id", "added_at"])
    op.create_table(
        "report_exports",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column(
            "report_id",
            sa.String(length=32),
            sa.ForeignKey("reports.id", name="fk_report_exports_report_id_reports"),
            nullable=False,
        ),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column("exported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("destination", sa.String(length=500), nullable=False),
        sa.Column("report_sha256", sa.String(length=64), nullable=False),
        sa.Column("statement_sha256", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_report_exports"),
    )
    op.create_index("ix_report_exports_report", "report_exports", ["report_id", "exported_at"])


def downgrade() -> None:
    op.drop_index("ix_report_exports_report", table_name="report_exports")
    op.drop_table("report_exports")
    op.drop_index("ix_tip_follow_ups_report", table_name="tip_follow_ups")
    op.drop_table("tip_follow_ups")
    op.drop_table("report_access_codes")
