"""The unit of work over one database transaction, writing events and audit entries on commit."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, text

from loket.adapters.db import schema as t
from loket.adapters.db.assistant_repository import SqlAssistantRepository
from loket.adapters.db.callback_repository import SqlCallbackRepository
from loket.adapters.db.codraft_repository import SqlSharedDraftRepository
from loket.adapters.db.exchange_repository import SqlExchangeRepository
from loket.adapters.db.figure_repository import SqlFigureRepository
from loket.adapters.db.follow_up_repository import SqlFollowUpRepository
from loket.adapters.db.handover_repository import SqlHandoverRepository
from loket.adapters.db.help_repository import SqlHelpRequestRepository
from loket.adapters.db.identity_repository import SqlIdentityRepository
from loket.adapters.db.invitation_repository import SqlInvitationRepository
from loket.adapters.db.report_repository import SqlReportRepository
from loket.adapters.db.repositories import (
    SqlLocationRepository,
    SqlStaffRepository,
    SqlThrottleRepository,
    SqlTicketRepository,
    SqlTokenRepository,
    Tracker,
)
from loket.adapters.db.retention_repository import SqlRetentionRepository
from loket.adapters.db.survey_repository import SqlSurveyRepository
from loket.adapters.vault import Vault
from loket.domain.audit import GENESIS_HASH, AuditRecord, chain
from loket.domain.events import Event

# One PostgreSQL advisory lock orders every append to the event log and the audit chain,
# so sequence numbers become visible in the order they were given: a client that resumes
# "after N" can never miss an event that committed late with a smaller number.
APPEND_LOCK = 7_234_001


class SqlAuditTrail:
    def __init__(self) -> None:
        self.pending: list[AuditRecord] = []

    def record(self, record: AuditRecord) -> None:
        self.pending.append(record)


class SqlUnitOfWork:
    def __init__(
        self,
        engine: Engine,
        on_commit: Callable[[], None] = lambda: None,
        *,
        read_only: bool = False,
        vault: Vault | None = None,
    ) -> None:
        self._engine = engine
        self._on_commit = on_commit
        self._read_only = read_only
        self._vault = vault
        self._conn: Connection | None = None

    def __enter__(self) -> SqlUnitOfWork:
        conn = self._engine.connect()
        if self._read_only:
            conn = conn.execution_options(loket_read_only=True)
        conn.begin()
        self._conn = conn
        self._tracker = Tracker()
        self.tickets = SqlTicketRepository(conn, self._tracker)
        self.locations = SqlLocationRepository(conn)
        self.staff = SqlStaffRepository(conn, self._tracker)
        self.tokens = SqlTokenRepository(conn)
        self.throttle = SqlThrottleRepository(conn)
        self.audit = SqlAuditTrail()
        self.help = SqlHelpRequestRepository(conn, self._tracker)
        self.exchange = SqlExchangeRepository(conn, self._vault)
        self.callbacks = SqlCallbackRepository(conn, self._tracker)
        self.reports = SqlReportRepository(conn, self._vault)
        self.invitations = SqlInvitationRepository(conn)
        self.handover = SqlHandoverRepository(conn, self._vault)
        self.codrafts = SqlSharedDraftRepository(conn)
        self.identities = SqlIdentityRepository(conn)
        self.follow_up = SqlFollowUpRepository(conn)
        self.retention = SqlRetentionRepository(conn)
        self.figures = SqlFigureRepository(conn)
        self.surveys = SqlSurveyRepository(conn)
        self.assistant = SqlAssistantRepository(conn, self._vault)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn = self._conn
        self._conn = None
        if conn is None:
            return
        try:
            if conn.in_transaction():
                conn.rollback()
        finally:
            conn.close()
        # Audit entries of reads must not be lost when the reading transaction only read.
        if self.audit.pending and exc_type is None:
            self._write_audit_alone(self.audit.pending)

    @property
    def connection(self) -> Connection:
        assert self._conn is not None, "unit of work used outside its `with` block"
        return self._conn

    def commit(self) -> None:
        conn = self.connection
        events = [event for item in self._tracker.seen for event in item.events]
        for item in self._tracker.seen:
            item.events.clear()
        records, self.audit.pending = self.audit.pending, []
        if events or records:
            _take_append_lock(conn)
            if events:
                conn.execute(_INSERT_EVENTS, [_event_row(e) for e in events])
            if records:
                _append_audit(conn, records)
        conn.commit()
        if events:
            self._on_commit()

    def rollback(self) -> None:
        self.connection.rollback()

    def _write_audit_alone(self, records: list[AuditRecord]) -> None:
        self.audit.pending = []
        with self._engine.begin() as conn:
            _take_append_lock(conn)
            _append_audit(conn, records)


# Built once: SQLAlchemy then skips rebuilding each statement's cache key per commit.
_APPEND_LOCK = text("SELECT pg_advisory_xact_lock(:key)")
_INSERT_EVENTS = insert(t.events)
_INSERT_AUDIT = insert(t.audit_log)
_AUDIT_HEAD = (
    select(t.audit_log.c.sequence, t.audit_log.c.entry_hash)
    .order_by(t.audit_log.c.sequence.desc())
    .limit(1)
)


def _take_append_lock(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(_APPEND_LOCK, {"key": APPEND_LOCK})


def _event_row(event: Event) -> dict[str, Any]:
    return {
        "type": event.type,
        "version": event.version,
        "location_id": event.location_id,
        "at": event.at,
        "payload": event.payload(),
    }


def _append_audit(conn: Connection, records: list[AuditRecord]) -> None:
    last = conn.execute(_AUDIT_HEAD).first()
    sequence, previous = (0, GENESIS_HASH) if last is None else (last[0], last[1])
    rows = []
    for record in records:
        sequence += 1
        entry = chain(record, sequence=sequence, previous_hash=previous)
        previous = entry.entry_hash
        rows.append(
            {
                "sequence": entry.sequence,
                "actor": record.actor,
                "action": record.action.value,
                "subject_type": record.subject_type,
                "subject_id": record.subject_id,
                "at": record.at,
                "details": dict(record.details),
                "personal_data": record.personal_data,
                "previous_hash": entry.previous_hash,
                "entry_hash": entry.entry_hash,
            }
        )
    conn.execute(_INSERT_AUDIT, rows)


class SqlUnitOfWorkFactory:
    """Opens a unit of work per use case; `on_commit` wakes this node's event hub."""

    def __init__(
        self,
        engine: Engine,
        on_commit: Callable[[], None] = lambda: None,
        *,
        vault: Vault | None = None,
    ) -> None:
        self.engine = engine
        self.on_commit = on_commit
        self.vault = vault

    def __call__(self, *, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, self._notify, read_only=read_only, vault=self.vault)

    def _notify(self) -> None:
        self.on_commit()
