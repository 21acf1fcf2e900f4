"""Reading the event log: what a hub relays and what a reconnecting client missed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, delete, func, select

from loket.adapters.db import schema as t


@dataclass(frozen=True)
class StoredEvent:
    """An event as logged: its sequence number is the log's id."""

    seq: int
    type: str
    version: int
    location_id: int | None
    at: datetime
    payload: dict[str, Any]

    def message(self) -> dict[str, Any]:
        """The realtime message clients receive."""
        return {"seq": self.seq, "type": self.type, "version": self.version, "data": self.payload}


class EventLog:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def after(
        self, seq: int, *, limit: int = 500, location_id: int | None = None
    ) -> list[StoredEvent]:
        query = select(t.events).where(t.events.c.id > seq)
        if location_id is not None:
            query = query.where(t.events.c.location_id == location_id)
        query = query.order_by(t.events.c.id).limit(limit)
        with self._engine.connect() as conn:
            return [_stored(row._mapping) for row in conn.execute(query)]

    def last_seq(self) -> int:
        with self._engine.connect() as conn:
            return int(conn.execute(select(func.coalesce(func.max(t.events.c.id), 0))).scalar_one())

    def first_seq(self) -> int:
        """The oldest event still kept; a client behind it gets the current state instead."""
        with self._engine.connect() as conn:
            return int(conn.execute(select(func.coalesce(func.min(t.events.c.id), 0))).scalar_one())

    def prune_before(self, at: datetime) -> int:
        # The newest event always stays: SQLite numbers a new row after the largest one
        # present, so an emptied log would hand out numbers that clients have already seen.
        newest = select(func.max(t.events.c.id)).scalar_subquery()
        with self._engine.begin() as conn:
            query = delete(t.events).where(t.events.c.at < at, t.events.c.id < newest)
            return conn.execute(query).rowcount

    def ping(self) -> None:
        with self._engine.connect() as conn:
            conn.execute(select(1))


def _stored(m: Any) -> StoredEvent:
    return StoredEvent(
        seq=int(m["id"]),
        type=m["type"],
        version=m["version"],
        location_id=m["location_id"],
        at=m["at"],
        payload=m["payload"],
    )
