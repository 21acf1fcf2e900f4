"""the service monitor: contact figures rolled up, survey invitations and answers

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op


revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# Written out here (not imported) so this migration stays as it was when the code changes.
_BUCKETS = 27
_COUNTS = (
    "contacts",
    "self_service",
    "called",
    "finished",
    "no_shows",
    "gave_up",
    "outcome_listened",
    "outcome_informed",
    "outcome_referred",
    "outcome_mediated",
    "outcome_report_taken",
    "handled",
)
_SUMS = ("wait_seconds", "handling_seconds")


def _measures() -> list[sa.Column]:
    columns = [sa.Column(name, sa.Integer(), nullable=False) for name in _COUNTS]
    columns += [sa.Column(name, sa.Float(), nullable=False) for name in _SUMS]
    for family in ("wait", "unserved"):
        columns += [
            sa.Column(f"{family}_{i:02d}", sa.Integer(), nullable=False) for i in range(_BUCKETS)
        ]
    return columns


def upgrade() -> None:
    op.create_index("ix_tickets_finished", "tickets", ["finished_at"])
    op.create_index("ix_reports_submitted", "reports", ["submitted_at"])
    op.create_table(
        "contact_figures",
        sa.Column("grain", sa.String(length=8), nullable=False),
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("service_code", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("hour", sa.Integer(), nullable=False),
        *_measures(),
        sa.PrimaryKeyConstraint(
            "grain",
            "period",
            "location_id",
            "service_code",
            "channel",
            "hour",
            name="pk_contact_figures",
        ),
    )
    op.create_table(
        "figure_watermark",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("rolled_until", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_figure_watermark"),
    )
    op.create_table(
        "survey_invitations",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=True),
        sa.Column("service_code", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("is_answered", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash", name="pk_survey_invitations"),
    )
    op.create_index("ix_survey_invitations_expires", "survey_invitations", ["expires_at"])
    op.create_table(
        "survey_answers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("answered_on", sa.Date(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("service_code", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=False),
        *(sa.Column(f"s{slot}", sa.Integer(), nullable=True) for slot in range(1, 7)),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_survey_answers"),
    )
    op.create_index("ix_survey_answers_answered", "survey_answers", ["answered_on"])


def downgrade() -> None:
    op.drop_index("ix_survey_answers_answered", table_name="survey_answers")
    op.drop_table("survey_answers")
    op.drop_index("ix_survey_invitations_expires", table_name="survey_invitations")
    op.drop_table("survey_invitations")
    op.drop_table("figure_watermark")
    op.drop_table("contact_figures")
    op.drop_index("ix_reports_submitted", table_name="reports")
    op.drop_index("ix_tickets_finished", table_name="tickets")
