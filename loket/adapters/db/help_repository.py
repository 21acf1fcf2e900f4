"""Storing help requests (calls for the host) over SQLAlchemy Core."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, insert, select, update
from sqlalchemy.exc import IntegrityError

from loket.adapters.db import schema as t
from loket.adapters.db.repositories import Tracker
from loket.domain.errors import ConcurrentUpdate, NotFound
from loket.domain.help import ACTIVE_STATES, HelpRequest, HelpState


class SqlHelpRequestRepository:
    def __init__(self, conn: Connection, tracker: Tracker) -> None:
        self._conn = conn
        self._tracker = tracker
        self._locks = conn.dialect.name == "postgresql"

    def add(self, help_request: HelpRequest) -> None:
        try:
            self._conn.execute(insert(t.help_requests).values(**_values(help_request)))
        except IntegrityError:
            # Another press at the same desk committed first (the one-active-call index);
            # the use case's retry then finds and returns that call.
            raise ConcurrentUpdate("help.changed") from None
        self._tracker.track(help_request)

    def get_for_update(self, help_id: str) -> HelpRequest:
        query = select(t.help_requests).where(t.help_requests.c.id == help_id)
        if self._locks:
            query = query.with_for_update()
        row = self._conn.execute(query).first()
        if row is None:
            raise NotFound("help.unknown", field="help")
        return self._tracker.track(_help(row))  # type: ignore[no-any-return]

    def save(self, help_request: HelpRequest) -> None:
        values = _values(help_request)
        values["version"] = help_request.version + 1
        c = t.help_requests.c
        result = self._conn.execute(
            update(t.help_requests)
            .where(c.id == help_request.id, c.version == help_request.version)
            .values(**values)
        )
        if result.rowcount != 1:
            raise ConcurrentUpdate("help.changed")
        help_request.version += 1

    def active_at(self, location_id: int) -> HelpRequest | None:
        found = self.active(location_id)
        return found[0] if found else None

    def active(self, location_id: int | None = None) -> list[HelpRequest]:
        c = t.help_requests.c
        query = select(t.help_requests).where(c.state.in_([s.value for s in ACTIVE_STATES]))
        if location_id is not None:
            query = query.where(c.location_id == location_id)
        query = query.order_by(c.requested_at, c.id)
        return [_help(row) for row in self._conn.execute(query)]


def _values(help_request: HelpRequest) -> dict[str, Any]:
    return {
        "id": help_request.id,
        "location_id": help_request.location_id,
        "location_code": help_request.location_code,
        "kiosk": help_request.kiosk,
        "state": help_request.state.value,
        "requested_at": help_request.requested_at,
        "changed_at": help_request.changed_at,
        "acknowledged_at": help_request.acknowledged_at,
        "acknowledged_by": help_request.acknowledged_by,
        "resolved_at": help_request.resolved_at,
        "resolved_by": help_request.resolved_by,
        "version": help_request.version,
    }


def _help(row: Row[Any]) -> HelpRequest:
    m = row._mapping
    return HelpRequest(
        id=m["id"],
        location_id=m["location_id"],
        location_code=m["location_code"],
        kiosk=m["kiosk"],
        state=HelpState(m["state"]),
        requested_at=m["requested_at"],
        changed_at=m["changed_at"],
        acknowledged_at=m["acknowledged_at"],
        acknowledged_by=m["acknowledged_by"],
        resolved_at=m["resolved_at"],
        resolved_by=m["resolved_by"],
        version=m["version"],
    )
