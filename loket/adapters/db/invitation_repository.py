"""Storing interpreters' invitations to video calls over SQLAlchemy Core."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, insert, select, update
from sqlalchemy.exc import IntegrityError

from loket.adapters.db import schema as t
from loket.domain.errors import ConcurrentUpdate, NotFound
from loket.domain.invitations import Invitation, InvitationKind


class SqlInvitationRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._locks = conn.dialect.name == "postgresql"

    def add(self, invitation: Invitation) -> None:
        try:
            self._conn.execute(insert(t.call_invitations).values(**_values(invitation)))
        except IntegrityError:
            raise ConcurrentUpdate("invitation.changed") from None

    def get(self, invitation_id: str, *, for_update: bool = False) -> Invitation:
        query = select(t.call_invitations).where(t.call_invitations.c.id == invitation_id)
        row = self._conn.execute(query.with_for_update() if for_update and self._locks else query)
        found = row.first()
        if found is None:
            raise NotFound("invitation.unknown")
        return _invitation(found)

    def by_code_hash(self, code_hash: str, *, for_update: bool = False) -> Invitation | None:
        query = select(t.call_invitations).where(t.call_invitations.c.code_hash == code_hash)
        found = self._conn.execute(
            query.with_for_update() if for_update and self._locks else query
        ).first()
        return None if found is None else _invitation(found)

    def for_ticket(self, ticket_id: str) -> list[Invitation]:
        c = t.call_invitations.c
        query = select(t.call_invitations).where(c.ticket_id == ticket_id).order_by(c.created_at)
        return [_invitation(row) for row in self._conn.execute(query)]

    def for_staff(self, staff_id: int) -> list[Invitation]:
        c = t.call_invitations.c
        query = (
            select(t.call_invitations)
            .where(c.staff_id == staff_id, c.revoked_at.is_(None))
            .order_by(c.created_at.desc())
        )
        return [_invitation(row) for row in self._conn.execute(query)]

    def save(self, invitation: Invitation) -> None:
        values = _values(invitation)
        result = self._conn.execute(
            update(t.call_invitations)
            .where(t.call_invitations.c.id == invitation.id)
            .values(**values)
        )
        if result.rowcount != 1:
            raise ConcurrentUpdate("invitation.changed")


def _values(invitation: Invitation) -> dict[str, Any]:
    return {
        "id": invitation.id,
        "ticket_id": invitation.ticket_id,
        "kind": invitation.kind.value,
        "invited_by": invitation.invited_by,
        "staff_id": invitation.staff_id,
        "code_hash": invitation.code_hash,
        "holder_hash": invitation.holder_hash,
        "created_at": invitation.created_at,
        "expires_at": invitation.expires_at,
        "accepted_at": invitation.accepted_at,
        "revoked_at": invitation.revoked_at,
    }


def _invitation(row: Row[Any]) -> Invitation:
    m = row._mapping
    return Invitation(
        id=m["id"],
        ticket_id=m["ticket_id"],
        kind=InvitationKind(m["kind"]),
        invited_by=m["invited_by"],
        created_at=m["created_at"],
        expires_at=m["expires_at"],
        staff_id=m["staff_id"],
        code_hash=m["code_hash"],
        holder_hash=m["holder_hash"],
        accepted_at=m["accepted_at"],
        revoked_at=m["revoked_at"],
    )
