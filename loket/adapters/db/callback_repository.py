"""Storing callback requests over SQLAlchemy Core."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, select, text, update
from sqlalchemy.exc import IntegrityError

from loket.adapters.db import schema as t
from loket.adapters.db.repositories import Tracker
from loket.domain.callbacks import ACTIVE_STATES, Callback, CallbackMode, CallbackState
from loket.domain.errors import ConcurrentUpdate, NotFound

# One PostgreSQL advisory lock orders bookings (SQLite's BEGIN IMMEDIATE already does):
# counting a slot's callbacks and adding one must not interleave with another booking.
BOOKING_LOCK = 7_234_002


class SqlCallbackRepository:
    def __init__(self, conn: Connection, tracker: Tracker) -> None:
        self._conn = conn
        self._tracker = tracker
        self._locks = conn.dialect.name == "postgresql"

    def add(self, callback: Callback) -> None:
        try:
            self._conn.execute(insert(t.callbacks).values(**_values(callback)))
        except IntegrityError:
            # The same idempotency key committed first, or (rarely) the reference was
            # taken: the use case's retry answers with the first or draws a new one.
            raise ConcurrentUpdate("callback.changed") from None
        self._tracker.track(callback)

    def get(self, callback_id: str) -> Callback:
        return self._one(select(t.callbacks).where(t.callbacks.c.id == callback_id))

    def get_for_update(self, callback_id: str) -> Callback:
        query = select(t.callbacks).where(t.callbacks.c.id == callback_id)
        return self._one(query.with_for_update() if self._locks else query)

    def save(self, callback: Callback) -> None:
        values = _values(callback)
        values["version"] = callback.version + 1
        c = t.callbacks.c
        result = self._conn.execute(
            update(t.callbacks)
            .where(c.id == callback.id, c.version == callback.version)
            .values(**values)
        )
        if result.rowcount != 1:
            raise ConcurrentUpdate("callback.changed")
        callback.version += 1

    def by_idempotency_key(self, key: str) -> Callback | None:
        row = self._conn.execute(
            select(t.callbacks).where(t.callbacks.c.idempotency_key == key)
        ).first()
        return None if row is None else _callback(row)

    def by_ticket_for_update(self, ticket_id: str) -> Callback | None:
        query = select(t.callbacks).where(t.callbacks.c.ticket_id == ticket_id)
        if self._locks:
            query = query.with_for_update()
        row = self._conn.execute(query).first()
        return None if row is None else self._tracker.track(_callback(row))  # type: ignore[no-any-return]

    def lock_slots(self) -> None:
        if self._locks:
            self._conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": BOOKING_LOCK})

    def booked_starts(self, start: datetime, end: datetime) -> list[datetime]:
        c = t.callbacks.c
        query = select(c.slot_start_at).where(
            c.slot_start_at >= start,
            c.slot_start_at < end,
            c.state.in_([state.value for state in ACTIVE_STATES]),
        )
        return [row[0] for row in self._conn.execute(query)]

    def due(self, at: datetime, limit: int) -> list[Callback]:
        c = t.callbacks.c
        query = (
            select(t.callbacks)
            .where(c.state == CallbackState.SCHEDULED.value, c.due_at <= at)
            .order_by(c.due_at, c.id)
            .limit(limit)
        )
        if self._locks:
            query = query.with_for_update(skip_locked=True)
        return [self._tracker.track(_callback(row)) for row in self._conn.execute(query)]

    def _one(self, query: Any) -> Callback:
        row = self._conn.execute(query).first()
        if row is None:
            raise NotFound("callback.unknown")
        return self._tracker.track(_callback(row))  # type: ignore[no-any-return]


def _values(callback: Callback) -> dict[str, Any]:
    return {
        "id": callback.id,
        "reference": callback.reference,
        "mode": callback.mode.value,
        "language": callback.language,
        "location_id": callback.location_id,
        "slot_start_at": callback.slot_start_at,
        "slot_end_at": callback.slot_end_at,
        "due_at": callback.due_at,
        "state": callback.state.value,
        "requested_at": callback.requested_at,
        "changed_at": callback.changed_at,
        "phone": callback.phone,
        "email": callback.email,
        "attempts": callback.attempts,
        "ticket_id": callback.ticket_id,
        "finished_at": callback.finished_at,
        "idempotency_key": callback.idempotency_key,
        "version": callback.version,
    }


def _callback(row: Row[Any]) -> Callback:
    m = row._mapping
    return Callback(
        id=m["id"],
        reference=m["reference"],
        mode=CallbackMode(m["mode"]),
        language=m["language"],
        location_id=m["location_id"],
        slot_start_at=m["slot_start_at"],
        slot_end_at=m["slot_end_at"],
        due_at=m["due_at"],
        state=CallbackState(m["state"]),
        requested_at=m["requested_at"],
        changed_at=m["changed_at"],
        phone=m["phone"],
        email=m["email"],
        attempts=m["attempts"],
        ticket_id=m["ticket_id"],
        finished_at=m["finished_at"],
        idempotency_key=m["idempotency_key"],
        version=m["version"],
    )
