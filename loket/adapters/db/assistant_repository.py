"""Storing the virtual agent's conversations and unanswered questions over SQLAlchemy Core.

A line's text is sealed with the vault (bound to its conversation and position), like the
documents of a contact: a copy of the database alone reveals no chat.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from loket.adapters.db import schema as t
from loket.adapters.vault import Vault
from loket.domain.assistant import ChatLine, Conversation, Speaker, UnansweredQuestion
from loket.domain.errors import ConcurrentUpdate

_c = t.assistant_conversations.c
_l = t.assistant_lines.c
_u = t.assistant_unanswered.c
_KIND = "assistant-line"


class SqlAssistantRepository:
    def __init__(self, conn: Connection, vault: Vault | None) -> None:
        self._conn = conn
        self._vault = vault
        self._locks = conn.dialect.name == "postgresql"

    @property
    def vault(self) -> Vault:
        if self._vault is None:
            raise RuntimeError("this unit of work has no vault for chat lines")
        return self._vault

    # -- conversations

    def add_conversation(self, conversation: Conversation) -> None:
        try:
            self._conn.execute(insert(t.assistant_conversations).values(**_values(conversation)))
        except IntegrityError:
            raise ConcurrentUpdate("assistant.changed") from None

    def conversation(
        self, conversation_id: str, *, for_update: bool = False
    ) -> Conversation | None:
        query = select(t.assistant_conversations).where(_c.id == conversation_id)
        if for_update and self._locks:
            query = query.with_for_update()
        row = self._conn.execute(query).first()
        return None if row is None else _conversation(row)

    def conversation_for_ticket(self, ticket_id: str) -> Conversation | None:
        query = (
            select(t.assistant_conversations)
            .where(_c.ticket_id == ticket_id)
            .order_by(_c.last_at.desc())
            .limit(1)
        )
        row = self._conn.execute(query).first()
        return None if row is None else _conversation(row)

    def save_conversation(self, conversation: Conversation) -> None:
        result = self._conn.execute(
            update(t.assistant_conversations)
            .where(_c.id == conversation.id)
            .values(**_values(conversation))
        )
        if result.rowcount != 1:
            raise ConcurrentUpdate("assistant.changed")

    def delete_conversation(self, conversation_id: str) -> None:
        # Lines first: SQLite enforces no cascade unless foreign keys are switched on.
        self._conn.execute(delete(t.assistant_lines).where(_l.conversation_id == conversation_id))
        self._conn.execute(delete(t.assistant_conversations).where(_c.id == conversation_id))

    def purge_before(self, cutoff: datetime) -> int:
        old = select(_c.id).where(_c.last_at < cutoff)
        self._conn.execute(delete(t.assistant_lines).where(_l.conversation_id.in_(old)))
        result = self._conn.execute(delete(t.assistant_conversations).where(_c.last_at < cutoff))
        return int(result.rowcount or 0)

    # -- lines

    def add_line(self, line: ChatLine) -> None:
        sealed = self.vault.seal(_KIND, _line_id(line), line.text.encode("utf-8"))
        try:
            self._conn.execute(
                insert(t.assistant_lines).values(
                    conversation_id=line.conversation_id,
                    position=line.position,
                    speaker=line.speaker.value,
                    text=sealed,
                    intent=line.intent,
                    confidence=None if line.confidence is None else round(line.confidence * 1000),
                    at=line.at,
                )
            )
        except IntegrityError:
            raise ConcurrentUpdate("assistant.changed") from None

    def lines(self, conversation_id: str) -> list[ChatLine]:
        query = (
            select(t.assistant_lines)
            .where(_l.conversation_id == conversation_id)
            .order_by(_l.position)
        )
        found = []
        for row in self._conn.execute(query):
            line = ChatLine(
                conversation_id=row.conversation_id,
                position=row.position,
                speaker=Speaker(row.speaker),
                text="",
                at=row.at,
                intent=row.intent,
                confidence=None if row.confidence is None else row.confidence / 1000,
            )
            text = self.vault.open(_KIND, _line_id(line), row.text).decode("utf-8")
            found.append(_with_text(line, text))
        return found

    # -- unanswered questions

    def count_unanswered(self, language: str, key: str, text: str, at: datetime) -> None:
        query = select(_u.id).where(_u.language == language, _u.key == key)
        if self._locks:
            query = query.with_for_update()
        existing = self._conn.execute(query).first()
        if existing is not None:
            self._conn.execute(
                update(t.assistant_unanswered)
                .where(_u.id == existing.id)
                .values(count=_u.count + 1, last_at=at, handled_at=None)
            )
            return
        try:
            self._conn.execute(
                insert(t.assistant_unanswered).values(
                    language=language, key=key, text=text, count=1, first_at=at, last_at=at
                )
            )
        except IntegrityError:
            # Someone else asked the same at the same moment: count it on their row.
            raise ConcurrentUpdate("assistant.changed") from None

    def unanswered(self, *, include_handled: bool, limit: int) -> list[UnansweredQuestion]:
        query = select(t.assistant_unanswered).order_by(_u.count.desc(), _u.last_at.desc())
        if not include_handled:
            query = query.where(_u.handled_at.is_(None))
        return [_unanswered(row) for row in self._conn.execute(query.limit(limit))]

    def mark_handled(self, question_id: int, at: datetime) -> bool:
        result = self._conn.execute(
            update(t.assistant_unanswered)
            .where(_u.id == question_id, _u.handled_at.is_(None))
            .values(handled_at=at)
        )
        return bool(result.rowcount)


def _line_id(line: ChatLine) -> str:
    return f"{line.conversation_id}:{line.position}"


def _with_text(line: ChatLine, text: str) -> ChatLine:
    return ChatLine(
        conversation_id=line.conversation_id,
        position=line.position,
        speaker=line.speaker,
        text=text,
        at=line.at,
        intent=line.intent,
        confidence=line.confidence,
    )


def _values(conversation: Conversation) -> dict[str, Any]:
    return {
        "id": conversation.id,
        "language": conversation.language,
        "channel": conversation.channel,
        "location_slug": conversation.location_slug,
        "started_at": conversation.started_at,
        "last_at": conversation.last_at,
        "ticket_id": conversation.ticket_id,
        "lines": conversation.lines,
    }


def _conversation(row: Row[Any]) -> Conversation:
    return Conversation(
        id=row.id,
        language=row.language,
        channel=row.channel,
        location_slug=row.location_slug,
        started_at=row.started_at,
        last_at=row.last_at,
        ticket_id=row.ticket_id,
        lines=row.lines,
    )


def _unanswered(row: Row[Any]) -> UnansweredQuestion:
    return UnansweredQuestion(
        id=row.id,
        language=row.language,
        text=row.text,
        key=row.key,
        count=row.count,
        first_at=row.first_at,
        last_at=row.last_at,
        handled_at=row.handled_at,
    )
