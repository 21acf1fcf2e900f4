"""report drafts, their attached files, and submitted reports and tips

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op


revision = "0006"
# The brief named 0003; 0004 and 0005 are already on this branch, so this follows them
# (one head). The lead re-chains when merging.
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "report_drafts",
        sa.Column("id", sa.String(length=32), primary_key=True),
        sa.Column("form_code", sa.String(length=64), nullable=False),
        sa.Column("form_version", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column(
            "location_id",
            sa.Integer(),
            sa.ForeignKey("locations.id", name="fk_report_drafts_location_id_locations"),
            nullable=False,
        ),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("step", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resume_code_hash", sa.String(length=64), nullable=True),
        sa.Column("resume_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("report_id", sa.String(length=32), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_report_drafts"),
        sa.UniqueConstraint("resume_code_hash", name="uq_report_drafts_resume_code_hash"),
    )
    op.create_index("ix_report_drafts_expires", "report_drafts", ["expires_at"])
    op.create_table(
        "report_files",
        sa.Column(
            "draft_id",
            sa.String(length=32),
            sa.ForeignKey(
                "report_drafts.id",
                name="fk_report_files_draft_id_report_drafts",
                ondelete="CASCADE",
            ),
            nullable=False,
        ),
        sa.Column("question", sa.String(length=40), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("draft_id", "question", name="pk_report_files"),
    )
    op.create_table(
        "reports",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column("draft_id", sa.String(length=32), nullable=False),
        sa.Column("form_code", sa.String(length=64), nullable=False),
        sa.Column("form_version", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column(
            "location_id",
            sa.Integer(),
            sa.ForeignKey("locations.id", name="fk_reports_location_id_locations"),
            nullable=False,
        ),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_reports"),
        sa.UniqueConstraint("reference", name="uq_reports_reference"),
        sa.UniqueConstraint("draft_id", name="uq_reports_draft_id"),
    )
    op.create_index("ix_reports_state_submitted", "reports", ["state", "submitted_at"])


def downgrade() -> None:
    op.drop_index("ix_reports_state_submitted", table_name="reports")
    op.drop_table("reports")
    op.drop_table("report_files")
    op.drop_index("ix_report_drafts_expires", table_name="report_drafts")
    op.drop_table("report_drafts")
