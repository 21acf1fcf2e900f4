"""Survey invitations (token hashes only) and anonymous answers over SQLAlchemy Core."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, case, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from loket.adapters.db import schema as t
from loket.domain.errors import ConcurrentUpdate
from loket.domain.surveys import (
    SCALE,
    SLOTS,
    Satisfaction,
    SurveyAnswer,
    SurveyContext,
    SurveyInvitation,
)

_I = t.survey_invitations.c
_A = t.survey_answers.c
_VALUES = (0, *SCALE)  # yes/no answers are 1 and 0, scales 1 to 5
# One count per slot and value: the whole distribution of a group in one pass.
_COUNTS = [
    func.sum(case((_A[f"s{slot}"] == value, 1), else_=0)).label(f"s{slot}_{value}")
    for slot in range(1, SLOTS + 1)
    for value in _VALUES
]


class SqlSurveyRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._locks = conn.dialect.name == "postgresql"

    def add_invitation(self, invitation: SurveyInvitation) -> None:
        """Store a new invitation; ConcurrentUpdate if its token was offered meanwhile."""
        try:
            self._conn.execute(
                insert(t.survey_invitations).values(**_invitation_values(invitation))
            )
        except IntegrityError:
            raise ConcurrentUpdate("survey.offered_elsewhere") from None

    def invitation(self, token_hash: str, *, for_update: bool = False) -> SurveyInvitation | None:
        query = select(t.survey_invitations).where(_I.token_hash == token_hash)
        if for_update and self._locks:
            query = query.with_for_update()
        row = self._conn.execute(query).first()
        return None if row is None else _invitation(row)

    def save_invitation(self, invitation: SurveyInvitation) -> None:
        values = _invitation_values(invitation) | {"version": invitation.version + 1}
        result = self._conn.execute(
            update(t.survey_invitations)
            .where(_I.token_hash == invitation.token_hash, _I.version == invitation.version)
            .values(**values)
        )
        if result.rowcount != 1:
            raise ConcurrentUpdate("survey.changed")
        invitation.version += 1

    def add_answer(self, answer: SurveyAnswer) -> None:
        context = answer.context
        values: dict[str, Any] = {
            "id": answer.id,
            "answered_on": answer.answered_on,
            "location_id": context.location_id,
            "service_code": context.service_code,
            "channel": context.channel,
            "outcome": context.outcome,
            "language": context.language,
            "comment": answer.comment,
        }
        for slot in range(1, SLOTS + 1):
            values[f"s{slot}"] = answer.slots.get(slot)
        self._conn.execute(insert(t.survey_answers).values(**values))

    def reached_callbacks(self, since: datetime) -> list[tuple[str, str, str, str]]:
        """(callback id, ticket id, e-mail address, language) of video callbacks reached."""
        c = t.callbacks.c
        query = select(c.id, c.ticket_id, c.email, c.language).where(
            c.state == "reached",
            c.finished_at >= since,
            c.email.is_not(None),
            c.ticket_id.is_not(None),
        )
        return [
            (row.id, row.ticket_id, row.email, row.language) for row in self._conn.execute(query)
        ]

    def prune_invitations(self, before: datetime) -> int:
        result = self._conn.execute(delete(t.survey_invitations).where(_I.expires_at < before))
        return int(result.rowcount or 0)

    def satisfaction(
        self, start: date, end: date, location_id: int | None
    ) -> list[tuple[int, str, str, Satisfaction]]:
        """(desk, service, channel, answers) for answers given in [start, end]."""
        query = (
            select(_A.location_id, _A.service_code, _A.channel, func.count(), *_COUNTS)
            .where(_A.answered_on.between(start, end))
            .group_by(_A.location_id, _A.service_code, _A.channel)
        )
        if location_id is not None:
            query = query.where(_A.location_id == location_id)
        found = []
        for row in self._conn.execute(query):
            result = Satisfaction(responses=int(row[3]))
            mapping = row._mapping
            for slot in range(1, SLOTS + 1):
                counts = {v: int(mapping[f"s{slot}_{v}"] or 0) for v in _VALUES}
                counts = {v: c for v, c in counts.items() if c}
                if counts:
                    result.counts[slot] = counts
            found.append((row[0], row[1], row[2], result))
        return found

    def comments(
        self, start: date, end: date, location_id: int | None, limit: int
    ) -> list[tuple[date, int, str, str]]:
        """(day, desk, service, comment) of the latest answers with a comment."""
        query = (
            select(_A.answered_on, _A.location_id, _A.service_code, _A.comment)
            .where(_A.answered_on.between(start, end), _A.comment.is_not(None))
            .order_by(_A.answered_on.desc())
            .limit(limit)
        )
        if location_id is not None:
            query = query.where(_A.location_id == location_id)
        return [(row[0], row[1], row[2], row[3]) for row in self._conn.execute(query)]


def _invitation_values(invitation: SurveyInvitation) -> dict[str, Any]:
    context = invitation.context
    return {
        "token_hash": invitation.token_hash,
        "location_id": None if context is None else context.location_id,
        "service_code": None if context is None else context.service_code,
        "channel": None if context is None else context.channel,
        "outcome": None if context is None else context.outcome,
        "language": None if context is None else context.language,
        "expires_at": invitation.expires_at,
        "is_answered": invitation.is_answered,
        "version": invitation.version,
    }


def _invitation(row: Any) -> SurveyInvitation:
    context = None
    if row.location_id is not None:
        context = SurveyContext(
            location_id=row.location_id,
            service_code=row.service_code,
            channel=row.channel,
            outcome=row.outcome,
            language=row.language,
        )
    return SurveyInvitation(
        token_hash=row.token_hash,
        context=context,
        expires_at=row.expires_at,
        is_answered=row.is_answered,
        version=row.version,
    )
