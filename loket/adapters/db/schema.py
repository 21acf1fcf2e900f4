"""The database tables; Alembic migrations are written against this metadata."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.engine import Dialect

from loket.domain.figures import FIELDS, SUM_FIELDS

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in and out; SQLite keeps no zone, so it is restored on read."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use UTC-aware ones")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
        return value.astimezone(UTC)  # type: ignore[no-any-return]


# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a real bigint.
BigId = BigInteger().with_variant(Integer(), "sqlite")

locations = Table(
    "locations",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("code", String(4), nullable=False, unique=True),
    Column("slug", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("municipality", String(200), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("country", String(2), nullable=False),
    Column("time_zone", String(64), nullable=False),
    Column("languages", JSON, nullable=False),
    Column("service_codes", JSON, nullable=False),
    Column("hours", JSON, nullable=False),
    Column("is_active", Boolean, nullable=False, default=True),
)

staff = Table(
    "staff",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("roles", JSON, nullable=False),
    Column("languages", JSON, nullable=False),
    Column("services", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("status_since_at", UtcDateTime),
    Column("ui_language", String(8), nullable=False),
    Column("is_active", Boolean, nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("totp_secret", String(64)),
    # False until the person proved they hold the secret (first sign-in shows the QR code).
    Column("totp_enrolled", Boolean, nullable=False),
    # The time step of the last authenticator code used: a code works once.
    Column("totp_last_step", BigInteger),
    # True while the password is one an administrator chose: changed at the next sign-in.
    Column("password_change_required", Boolean, nullable=False, server_default=false()),
)

# Failed sign-ins are counted per account *and* address: a guesser slows only their own
# attempts and cannot lock a real officer, signing in from elsewhere, out.
sign_in_throttle = Table(
    "sign_in_throttle",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("address", String(64), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_failed_at", UtcDateTime, nullable=False),
    Column("locked_until", UtcDateTime),
)

staff_tokens = Table(
    "staff_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("staff_id", Integer, ForeignKey("staff.id"), nullable=False, index=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime),
)

tickets = Table(
    "tickets",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("number", String(16), nullable=False),
    Column("location_id", Integer, ForeignKey("locations.id"), nullable=False),
    Column("location_code", String(4), nullable=False),
    Column("service_code", String(64), nullable=False),
    Column("language", String(8), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("taken_at", UtcDateTime, nullable=False),
    Column("rank_at", UtcDateTime, nullable=False),
    Column("changed_at", UtcDateTime, nullable=False),
    Column("officer_id", Integer, ForeignKey("staff.id")),
    Column("lease_expires_at", UtcDateTime),
    Column("offered_at", UtcDateTime),
    Column("accepted_at", UtcDateTime),
    Column("finished_at", UtcDateTime),
    Column("is_returned", Boolean, nullable=False),
    Column("return_count", Integer, nullable=False),
    Column("note", Text),
    Column("outcome", String(16)),
    Column("idempotency_key", String(200), unique=True),
    Column("version", Integer, nullable=False),
    # The hand-out scans waiting tickets in rank order; the sweeper scans leases.
    Index("ix_tickets_state_rank", "state", "rank_at"),
    Index("ix_tickets_officer_state", "officer_id", "state"),
    Index("ix_tickets_lease", "lease_expires_at"),
    Index("ix_tickets_location_state", "location_id", "state"),
    Index("ix_tickets_service_finished", "service_code", "finished_at"),
    # "Next ticket" reads only waiting tickets in rank order: a partial index keeps that a
    # short index walk however many finished tickets the day has (0.9 ms -> 0.1 ms at 1,000).
    Index(
        "ix_tickets_waiting_rank",
        "rank_at",
        "taken_at",
        "id",
        postgresql_where=text("state = 'waiting'"),
        sqlite_where=text("state = 'waiting'"),
    ),
    # The supervisor board counts tickets taken in the last 24 hours.
    Index("ix_tickets_taken", "taken_at"),
    # The figures' roll-up reads the tickets closed since its last run.
    Index("ix_tickets_finished", "finished_at"),
)

# Calls for the host from a kiosk. No personal data: where, when, and which staff answered.
help_requests = Table(
    "help_requests",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("location_id", Integer, ForeignKey("locations.id"), nullable=False),
    Column("location_code", String(4), nullable=False),
    Column("kiosk", String(64)),
    Column("state", String(16), nullable=False),
    Column("requested_at", UtcDateTime, nullable=False),
    Column("changed_at", UtcDateTime, nullable=False),
    Column("acknowledged_at", UtcDateTime),
    Column("acknowledged_by", Integer, ForeignKey("staff.id")),
    Column("resolved_at", UtcDateTime),
    Column("resolved_by", Integer, ForeignKey("staff.id")),
    Column("version", Integer, nullable=False),
    # One active call per desk, even when two presses race on two nodes: the second insert
    # fails and its retry finds the first.
    Index(
        "uq_help_requests_active_location",
        "location_id",
        unique=True,
        sqlite_where=text("state != 'resolved'"),
        postgresql_where=text("state != 'resolved'"),
    ),
    Index("ix_help_requests_state_requested", "state", "requested_at"),
)

# Callback requests. The phone number or e-mail address is personal data: only the
# officer serving the callback reads it (audited), and only to call back.
callbacks = Table(
    "callbacks",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("reference", String(16), nullable=False, unique=True),
    Column("mode", String(8), nullable=False),
    Column("language", String(8), nullable=False),
    Column("location_id", Integer, ForeignKey("locations.id"), nullable=False),
    Column("slot_start_at", UtcDateTime, nullable=False),
    Column("slot_end_at", UtcDateTime, nullable=False),
    Column("due_at", UtcDateTime, nullable=False),
    Column("state", String(16), nullable=False),
    Column("requested_at", UtcDateTime, nullable=False),
    Column("changed_at", UtcDateTime, nullable=False),
    Column("phone", String(32)),
    Column("email", String(254)),
    Column("attempts", Integer, nullable=False),
    Column("ticket_id", String(32), ForeignKey("tickets.id")),
    Column("finished_at", UtcDateTime),
    Column("idempotency_key", String(200), unique=True),
    Column("version", Integer, nullable=False),
    # The sweeper reads due scheduled callbacks; booking counts a slot's active callbacks.
    Index("ix_callbacks_state_due", "state", "due_at"),
    Index("ix_callbacks_slot_state", "slot_start_at", "state"),
    Index("ix_callbacks_ticket", "ticket_id"),
)

# The default notifier's outbox: notifications as written, for a mail relay or the tests.
notifications = Table(
    "notifications",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("kind", String(64), nullable=False),
    Column("recipient", String(254), nullable=False),
    Column("language", String(8), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("sent_at", UtcDateTime),
    # Delivery by SMTP (adapters/notify/delivery.py): tries so far, when to try again, the
    # claim of the node sending it now, and why the last try failed.
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", UtcDateTime),
    Column("claimed_until", UtcDateTime),
    Column("last_error", String(300)),
    Column("failed_at", UtcDateTime),  # gave up: a permanent refusal or too many tries
    Index("ix_notifications_unsent", "sent_at", "failed_at", "next_attempt_at"),
)

ticket_counters = Table(
    "ticket_counters",
    metadata,
    Column("location_id", Integer, ForeignKey("locations.id"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("last_number", Integer, nullable=False),
)

# The event log is also the outbox: events are written in the transaction that caused
# them, and each node's hub tails this table, so a crash after commit loses nothing.
events = Table(
    "events",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("type", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("location_id", Integer),
    Column("at", UtcDateTime, nullable=False),
    Column("payload", JSON, nullable=False),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("sequence", BigId, primary_key=True, autoincrement=False),
    Column("actor", String(64), nullable=False),
    Column("action", String(32), nullable=False),
    Column("subject_type", String(32), nullable=False),
    Column("subject_id", String(64), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("details", JSON, nullable=False),
    Column("personal_data", Boolean, nullable=False),
    Column("previous_hash", String(64), nullable=False),
    Column("entry_hash", String(64), nullable=False),
    Index("ix_audit_subject", "subject_type", "subject_id"),
)

# What citizen and officer exchange during a contact (loket/domain/exchange.py). Stored in
# the database, not on a node's disk, so every node of a scale-out serves every document.
contact_messages = Table(
    "contact_messages",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("ticket_id", String(32), ForeignKey("tickets.id"), nullable=False),
    Column("author_role", String(16), nullable=False),
    Column("author_name", String(120), nullable=False),
    Column("author_staff_id", Integer, ForeignKey("staff.id")),
    Column("body", Text, nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Index("ix_contact_messages_ticket", "ticket_id", "id"),
)

contact_documents = Table(
    "contact_documents",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("ticket_id", String(32), ForeignKey("tickets.id"), nullable=False),
    Column("author_role", String(16), nullable=False),
    Column("author_name", String(120), nullable=False),
    Column("author_staff_id", Integer, ForeignKey("staff.id")),
    Column("filename", String(120), nullable=False),
    Column("content_type", String(64), nullable=False),
    Column("size", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Index("ix_contact_documents_ticket", "ticket_id", "id"),
)

idempotency = Table(
    "idempotency_keys",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("scope", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("response", JSON, nullable=False),
)

# Reports and tips being filled in (loket/domain/reports.py). Answers are JSON; a draft of an
# anonymous tip holds only what the tipster typed, the desk and the channel.
report_drafts = Table(
    "report_drafts",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("form_code", String(64), nullable=False),
    Column("form_version", Integer, nullable=False),
    Column("language", String(8), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("location_id", Integer, ForeignKey("locations.id"), nullable=False),
    Column("country", String(2), nullable=False),
    Column("answers", JSON, nullable=False),
    Column("step", String(40)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    # Only the hash of a resume code is kept; unique so a code finds one draft.
    Column("resume_code_hash", String(64), unique=True),
    Column("resume_expires_at", UtcDateTime),
    Column("report_id", String(32)),
    Column("version", Integer, nullable=False),
    # The identification level reached (loket/domain/identification.py); migration 0012.
    Column("identification", String(24), nullable=False, server_default="self_declared"),
    Index("ix_report_drafts_expires", "expires_at"),
)

# Files attached to answers, sealed with the vault like contact documents.
report_files = Table(
    "report_files",
    metadata,
    Column(
        "draft_id", String(32), ForeignKey("report_drafts.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("question", String(40), primary_key=True),
    Column("content", LargeBinary, nullable=False),
)

reports = Table(
    "reports",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("reference", String(16), nullable=False, unique=True),
    # One report per draft: a double submit finds the first (see services/reports.py).
    Column("draft_id", String(32), nullable=False, unique=True),
    Column("form_code", String(64), nullable=False),
    Column("form_version", Integer, nullable=False),
    Column("language", String(8), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("location_id", Integer, ForeignKey("locations.id"), nullable=False),
    Column("answers", JSON, nullable=False),
    Column("state", String(16), nullable=False),
    Column("submitted_at", UtcDateTime, nullable=False),
    Column("changed_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
    Column("identification", String(24), nullable=False, server_default="self_declared"),
    Index("ix_reports_state_submitted", "state", "submitted_at"),
    # The figures' roll-up reads the reports sent since its last run.
    Index("ix_reports_submitted", "submitted_at"),
)

# Interpreters invited into a contact's video call (loket/domain/invitations.py). A link's
# code is never stored, only its hash.
call_invitations = Table(
    "call_invitations",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("ticket_id", String(32), ForeignKey("tickets.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("invited_by", Integer, ForeignKey("staff.id"), nullable=False),
    Column("staff_id", Integer, ForeignKey("staff.id")),
    Column("code_hash", String(64), unique=True),
    Column("holder_hash", String(64)),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("accepted_at", UtcDateTime),
    Column("revoked_at", UtcDateTime),
    Index("ix_call_invitations_ticket", "ticket_id"),
    Index("ix_call_invitations_staff", "staff_id"),
)

# A report's signed statement (loket/domain/handover.py): the PDF sealed with the vault, bound
# to its row id; a correction is a new row with the next version.
statements = Table(
    "statements",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("report_id", String(32), ForeignKey("reports.id"), nullable=False),
    Column("reference", String(16), nullable=False),
    Column("version", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("content", LargeBinary, nullable=False),
    # One statement per version of a report: a double submit cannot sign twice.
    UniqueConstraint("report_id", "version", name="uq_statements_report_version"),
)

# One-time codes to fetch a report's acknowledgement; only the hash of a code is stored.
acknowledgement_codes = Table(
    "acknowledgement_codes",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("report_id", String(32), ForeignKey("reports.id"), nullable=False),
    Column("code_hash", String(64), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("uses_left", Integer, nullable=False),
    Index("ix_acknowledgement_codes_expires", "expires_at"),
)

# A contact's report drafted with the officer in the call (domain/codraft.py): which draft,
# the two confirmations (draft version and answers' fingerprint), and the officer's marks.
call_drafts = Table(
    "call_drafts",
    metadata,
    Column("ticket_id", String(32), ForeignKey("tickets.id"), primary_key=True),
    Column(
        "draft_id",
        String(32),
        ForeignKey("report_drafts.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("started_by", String(16), nullable=False),
    Column("citizen_version", Integer),
    Column("citizen_answers", String(64)),
    Column("citizen_at", UtcDateTime),
    Column("citizen_name", String(200)),
    Column("officer_version", Integer),
    Column("officer_answers", String(64)),
    Column("officer_at", UtcDateTime),
    Column("officer_id", Integer, ForeignKey("staff.id")),
    Column("officer_changes", JSON, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("version", Integer, nullable=False),
)

# How a draft's identity was verified (loket/domain/identification.py): a pseudonym of the
# OIDC subject and a display name, or the document type and last four characters an officer
# saw on camera. No image of a document is ever stored.
identity_verifications = Table(
    "identity_verifications",
    metadata,
    Column("id", String(32), primary_key=True),
    Column(
        "draft_id", String(32), ForeignKey("report_drafts.id", ondelete="CASCADE"), nullable=False
    ),
    Column("level", String(24), nullable=False),
    Column("method", String(16), nullable=False),
    Column("verified_at", UtcDateTime, nullable=False),
    Column("subject_ref", String(64)),
    Column("display_name", String(200)),
    Column("officer_id", Integer, ForeignKey("staff.id")),
    Column("document_type", String(24)),
    Column("document_suffix", String(4)),
    Index("ix_identity_verifications_draft", "draft_id"),
)

# A video ticket a citizen took to have their identity checked on camera for a draft: the
# officer serving the ticket sees the check form for that draft.
identity_call_requests = Table(
    "identity_call_requests",
    metadata,
    Column("ticket_id", String(32), ForeignKey("tickets.id"), primary_key=True),
    Column(
        "draft_id", String(32), ForeignKey("report_drafts.id", ondelete="CASCADE"), nullable=False
    ),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_identity_call_requests_draft", "draft_id"),
)

# The one secret a citizen keeps for a report or tip (loket/domain/follow_up.py): a tip's
# passphrase (argon2 hash) or a report's status code (SHA-256); never the secret itself.
report_access_codes = Table(
    "report_access_codes",
    metadata,
    Column("report_id", String(32), ForeignKey("reports.id"), primary_key=True),
    Column("purpose", String(16), primary_key=True),
    Column("secret_hash", String(255), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

# What tipsters added to their tip later. Like the tip: no address, agent or session.
tip_follow_ups = Table(
    "tip_follow_ups",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("report_id", String(32), ForeignKey("reports.id"), nullable=False),
    Column("text", Text, nullable=False),
    Column("added_at", UtcDateTime, nullable=False),
    Index("ix_tip_follow_ups_report", "report_id", "added_at"),
)

# Each export of a report to the police back-end, with the hashes of what was sent.
report_exports = Table(
    "report_exports",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("report_id", String(32), ForeignKey("reports.id"), nullable=False),
    Column("reference", String(16), nullable=False),
    Column("exported_at", UtcDateTime, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("destination", String(500), nullable=False),
    Column("report_sha256", String(64), nullable=False),
    Column("statement_sha256", String(64)),
    Index("ix_report_exports_report", "report_id", "exported_at"),
)

# -- the service monitor (loket/domain/figures.py, loket/domain/surveys.py) -----------------


def _figure_columns() -> list[Column[Any]]:
    return [
        Column(name, Float if name in SUM_FIELDS else Integer, nullable=False, default=0)
        for name in FIELDS
    ]


# Contacts rolled up per local day and month of each desk: by service and channel, by hour
# of the day (service and channel "") and the desk's total (hour -1). See docs/service-monitor.md.
contact_figures = Table(
    "contact_figures",
    metadata,
    Column("grain", String(8), primary_key=True),
    Column("period", Date, primary_key=True),
    Column("location_id", Integer, primary_key=True),
    Column("service_code", String(64), primary_key=True),
    Column("channel", String(16), primary_key=True),
    Column("hour", Integer, primary_key=True),
    *_figure_columns(),
)

# How far the roll-up has read: tickets closed and reports sent up to this moment are in
# contact_figures; later ones are added live when figures are read.
figure_watermark = Table(
    "figure_watermark",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("rolled_until", UtcDateTime, nullable=False),
)

# A survey offered for one contact: only the hash of its token, and the kind of contact
# (wiped once answered). Never the ticket, report or person.
survey_invitations = Table(
    "survey_invitations",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("location_id", Integer),
    Column("service_code", String(64)),
    Column("channel", String(16)),
    Column("outcome", String(16)),
    Column("language", String(8)),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("is_answered", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    Index("ix_survey_invitations_expires", "expires_at"),
)

# Anonymous answers: the kind of contact and the day, closed answers in numbered slots.
survey_answers = Table(
    "survey_answers",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("answered_on", Date, nullable=False),
    Column("location_id", Integer, nullable=False),
    Column("service_code", String(64), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("outcome", String(16)),
    Column("language", String(8), nullable=False),
    *(Column(f"s{slot}", Integer) for slot in range(1, 7)),
    Column("comment", Text),
    Index("ix_survey_answers_answered", "answered_on"),
)

# Conversations with the virtual agent (loket/domain/assistant.py): kept for a handover to an
# officer and then the retention period only. A line's text is sealed with the vault.
assistant_conversations = Table(
    "assistant_conversations",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("language", String(8), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("location_slug", String(64), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("last_at", UtcDateTime, nullable=False),
    Column("ticket_id", String(32), ForeignKey("tickets.id")),
    Column("lines", Integer, nullable=False),
    Index("ix_assistant_conversations_last", "last_at"),
    Index("ix_assistant_conversations_ticket", "ticket_id"),
)

assistant_lines = Table(
    "assistant_lines",
    metadata,
    Column(
        "conversation_id",
        String(32),
        ForeignKey("assistant_conversations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("position", Integer, primary_key=True),
    Column("speaker", String(16), nullable=False),
    Column("text", LargeBinary, nullable=False),
    Column("intent", String(40)),
    Column("confidence", Integer),  # thousandths, so both databases store it exactly
    Column("at", UtcDateTime, nullable=False),
)

# Questions the agent could not answer, counted per language and normalised text.
assistant_unanswered = Table(
    "assistant_unanswered",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("language", String(8), nullable=False),
    Column("key", String(300), nullable=False),
    Column("text", String(300), nullable=False),
    Column("count", Integer, nullable=False),
    Column("first_at", UtcDateTime, nullable=False),
    Column("last_at", UtcDateTime, nullable=False),
    Column("handled_at", UtcDateTime),
    UniqueConstraint("language", "key", name="uq_assistant_unanswered_language_key"),
)
