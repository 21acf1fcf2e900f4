"""Storing drafts shared in a call (one per contact) over SQLAlchemy Core."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, insert, select, update
from sqlalchemy.exc import IntegrityError

from loket.adapters.db import schema as t
from loket.domain.codraft import SharedDraft, Side, SideConfirmation
from loket.domain.errors import ConcurrentUpdate


class SqlSharedDraftRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._locks = conn.dialect.name == "postgresql"

    def get(self, ticket_id: str, *, for_update: bool = False) -> SharedDraft | None:
        query = select(t.call_drafts).where(t.call_drafts.c.ticket_id == ticket_id)
        if for_update and self._locks:
            query = query.with_for_update()
        row = self._conn.execute(query).first()
        return None if row is None else _shared(row)

    def add(self, shared: SharedDraft) -> None:
        try:
            self._conn.execute(insert(t.call_drafts).values(**_values(shared)))
        except IntegrityError:
            # Both sides linked the contact at once: the first stays, the caller reads it.
            raise ConcurrentUpdate("codraft.changed") from None

    def save(self, shared: SharedDraft) -> None:
        values = _values(shared)
        values["version"] = shared.version + 1
        c = t.call_drafts.c
        result = self._conn.execute(
            update(t.call_drafts)
            .where(c.ticket_id == shared.ticket_id, c.version == shared.version)
            .values(**values)
        )
        if result.rowcount != 1:
            raise ConcurrentUpdate("codraft.changed")
        shared.version += 1

    def replace(self, shared: SharedDraft) -> None:
        c = t.call_drafts.c
        current = self._conn.execute(
            select(c.version).where(c.ticket_id == shared.ticket_id)
        ).scalar()
        if current is None:
            self.add(shared)
            return
        shared.version = current
        self.save(shared)


def _values(shared: SharedDraft) -> dict[str, Any]:
    citizen, officer = shared.citizen, shared.officer
    return {
        "ticket_id": shared.ticket_id,
        "draft_id": shared.draft_id,
        "started_by": shared.started_by.value,
        "citizen_version": citizen.draft_version if citizen else None,
        "citizen_answers": citizen.answers if citizen else None,
        "citizen_at": citizen.at if citizen else None,
        "citizen_name": shared.citizen_name,
        "officer_version": officer.draft_version if officer else None,
        "officer_answers": officer.answers if officer else None,
        "officer_at": officer.at if officer else None,
        "officer_id": shared.officer_id,
        "officer_changes": list(shared.officer_changes),
        "created_at": shared.created_at,
        "updated_at": shared.updated_at,
        "version": shared.version,
    }


def _confirmation(m: Any, side: str) -> SideConfirmation | None:
    if m[f"{side}_version"] is None:
        return None
    return SideConfirmation(m[f"{side}_version"], m[f"{side}_answers"], m[f"{side}_at"])


def _shared(row: Row[Any]) -> SharedDraft:
    m = row._mapping
    return SharedDraft(
        ticket_id=m["ticket_id"],
        draft_id=m["draft_id"],
        started_by=Side(m["started_by"]),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        citizen=_confirmation(m, "citizen"),
        officer=_confirmation(m, "officer"),
        citizen_name=m["citizen_name"],
        officer_id=m["officer_id"],
        officer_changes=list(m["officer_changes"] or []),
        version=m["version"],
    )
