"""Use cases of the virtual agent: ask a question, hand over to an officer with the transcript,
forget a conversation, and the editors' list of unanswered questions."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from loket.domain.assistant import (
    CONVERSATION_ID,
    KB_LANGUAGES,
    MAX_QUESTION_LENGTH,
    MAX_UNANSWERED_TEXT,
    UNKNOWN,
    Assistant,
    ChatLine,
    Conversation,
    Reply,
    Speaker,
    UnansweredQuestion,
    question_key,
)
from loket.domain.audit import AuditAction, AuditRecord
from loket.domain.errors import Invalid, NotFound, Refused
from loket.domain.tickets import Ticket, TicketState
from loket.services import queue as queue_service
from loket.services.ports import Clock, UnitOfWorkFactory
from loket.services.queue import QueueContext, retrying

# "I want a person": a video call with an officer, the chat attached to its ticket.
HANDOVER_SERVICE = "contact.video"
# The officer sees the transcript while the ticket is offered to them or being served.
_TRANSCRIPT_STATES = frozenset(
    {TicketState.OFFERED, TicketState.TRANSFERRED, TicketState.IN_SERVICE, TicketState.ON_HOLD}
)
# Expired conversations are deleted as new ones start, at most this often per process.
_PURGE_EVERY = timedelta(minutes=5)


class AssistantProvider(Protocol):
    def current(self) -> Assistant:
        """The assistant built from the knowledge base as it is now."""


@dataclass
class AssistantContext:
    uow: UnitOfWorkFactory
    clock: Clock
    source: AssistantProvider
    retention: timedelta
    last_purge_at: datetime | None = None


@dataclass(frozen=True)
class Answered:
    conversation: Conversation
    reply: Reply


def new_conversation_id() -> str:
    return secrets.token_hex(16)


def check_question(text: str) -> str:
    """The question without surrounding space; Invalid when empty or too long."""
    question = text.strip()
    if not question:
        raise Invalid("assistant.empty_question", field="text")
    if len(question) > MAX_QUESTION_LENGTH:
        raise Invalid("assistant.question_too_long", field="text", maximum=MAX_QUESTION_LENGTH)
    return question


def ask(
    ctx: AssistantContext,
    text: str,
    *,
    conversation_id: str | None = None,
    language: str | None = None,
    channel: str = "home",
    location_slug: str = "online",
) -> Answered:
    """Answer a question within a conversation, keeping both turns for a possible handover.

    An id not known yet (a new chat, or one past its retention) starts a conversation under
    that id: ids are random and only the citizen's browser knows theirs. An unanswered
    question is counted for the content editors.
    Errors: assistant.empty_question, assistant.question_too_long, assistant.bad_conversation.
    """
    question = check_question(text)
    if conversation_id is not None and not CONVERSATION_ID.match(conversation_id):
        raise Invalid("assistant.bad_conversation", field="conversation_id")
    wanted = language if language in KB_LANGUAGES else None
    reply = ctx.source.current().reply(question, wanted)
    chosen_id = conversation_id or new_conversation_id()
    _purge_now_and_then(ctx)

    def attempt() -> Answered:
        with ctx.uow() as uow:
            now = ctx.clock.now()
            conversation = uow.assistant.conversation(chosen_id, for_update=True)
            if conversation is None:
                conversation = Conversation(
                    id=chosen_id,
                    language=reply.language,
                    channel=channel,
                    location_slug=location_slug,
                    started_at=now,
                    last_at=now,
                )
                uow.assistant.add_conversation(conversation)
            position = conversation.lines
            uow.assistant.add_line(ChatLine(chosen_id, position, Speaker.CITIZEN, question, now))
            uow.assistant.add_line(
                ChatLine(
                    chosen_id,
                    position + 1,
                    Speaker.AGENT,
                    reply.reply,
                    now,
                    intent=reply.intent,
                    confidence=reply.confidence,
                )
            )
            conversation.lines = position + 2
            conversation.last_at = now
            conversation.language = reply.language
            uow.assistant.save_conversation(conversation)
            if reply.intent == UNKNOWN:
                uow.assistant.count_unanswered(
                    reply.language,
                    question_key(question),
                    question[:MAX_UNANSWERED_TEXT],
                    now,
                )
            uow.commit()
            return Answered(conversation=conversation, reply=reply)

    return retrying(attempt)


def transcript(ctx: AssistantContext, conversation_id: str | None) -> list[ChatLine]:
    """The citizen's own conversation, for the chat page; empty when there is none (any more)."""
    if conversation_id is None or not CONVERSATION_ID.match(conversation_id):
        return []
    with ctx.uow(read_only=True) as uow:
        return uow.assistant.lines(conversation_id)


def hand_over(
    ctx: AssistantContext,
    queue: QueueContext,
    conversation_id: str,
    *,
    location_slug: str,
    language: str,
    channel: str,
) -> Ticket:
    """Take a ticket for a video call with an officer and attach the conversation to it.

    Twice for one conversation gives the same ticket (the conversation is the idempotency
    key). Errors: assistant.bad_conversation, assistant.unknown_conversation, and those of
    queue.take_ticket (location.closed, ticket.language_not_offered, ...).
    Events: TicketTaken.
    """
    if not CONVERSATION_ID.match(conversation_id):
        raise Invalid("assistant.bad_conversation", field="conversation_id")
    with ctx.uow(read_only=True) as uow:
        if uow.assistant.conversation(conversation_id) is None:
            raise NotFound("assistant.unknown_conversation")
    ticket = queue_service.take_ticket(
        queue,
        location_slug=location_slug,
        service_code=HANDOVER_SERVICE,
        language=language,
        channel=channel,
        idempotency_key=f"assistant-{conversation_id}",
    )

    def attach() -> None:
        with ctx.uow() as uow:
            conversation = uow.assistant.conversation(conversation_id, for_update=True)
            if conversation is None:
                raise NotFound("assistant.unknown_conversation")
            if conversation.ticket_id == ticket.id:
                return
            conversation.ticket_id = ticket.id
            uow.assistant.save_conversation(conversation)
            uow.audit.record(
                AuditRecord(
                    actor="citizen",
                    action=AuditAction.UPDATE,
                    subject_type="assistant_conversation",
                    subject_id=conversation_id,
                    at=ctx.clock.now(),
                    details={"step": "handover", "ticket": ticket.id},
                    personal_data=True,
                )
            )
            uow.commit()

    retrying(attach)
    return ticket


def transcript_for_officer(
    ctx: AssistantContext, officer_id: int, ticket_id: str
) -> list[ChatLine] | None:
    """The chat that came with a ticket the officer holds; None when it came without one.

    Reading it is an audited read of personal data. Errors: ticket.unknown, ticket.not_yours.
    """
    with ctx.uow() as uow:
        ticket = uow.tickets.get(ticket_id)
        if ticket.officer_id != officer_id or ticket.state not in _TRANSCRIPT_STATES:
            raise Refused("ticket.not_yours", ticket=ticket.number)
        conversation = uow.assistant.conversation_for_ticket(ticket_id)
        if conversation is None:
            return None
        lines = uow.assistant.lines(conversation.id)
        uow.audit.record(
            AuditRecord(
                actor=f"staff:{officer_id}",
                action=AuditAction.READ,
                subject_type="assistant_conversation",
                subject_id=conversation.id,
                at=ctx.clock.now(),
                details={"ticket": ticket_id, "lines": len(lines)},
                personal_data=True,
            )
        )
        uow.commit()
        return lines


def forget_conversation(ctx: AssistantContext, conversation_id: str | None) -> bool:
    """The kiosk starts again: delete the chat, unless an officer is to see it (handed over).

    Whether it was deleted.
    """
    if conversation_id is None or not CONVERSATION_ID.match(conversation_id):
        return False
    with ctx.uow() as uow:
        conversation = uow.assistant.conversation(conversation_id, for_update=True)
        if conversation is None or conversation.is_handed_over:
            return False
        uow.assistant.delete_conversation(conversation_id)
        uow.commit()
        return True


def purge_expired(ctx: AssistantContext) -> int:
    """Delete conversations past the retention period (handed over or not); how many."""
    cutoff = ctx.clock.now() - ctx.retention
    with ctx.uow() as uow:
        purged = uow.assistant.purge_before(cutoff)
        if purged:
            uow.audit.record(
                AuditRecord(
                    actor="system",
                    action=AuditAction.PURGE,
                    subject_type="assistant_conversation",
                    subject_id="*",
                    at=ctx.clock.now(),
                    details={"count": purged},
                    personal_data=True,
                )
            )
        uow.commit()
        return purged


def _purge_now_and_then(ctx: AssistantContext) -> None:
    now = ctx.clock.now()
    if ctx.last_purge_at is not None and now - ctx.last_purge_at < _PURGE_EVERY:
        return
    ctx.last_purge_at = now
    purge_expired(ctx)


def unanswered_questions(
    ctx: AssistantContext, *, include_handled: bool = False, limit: int = 200
) -> list[UnansweredQuestion]:
    """What the agent could not answer, most asked first, for the content editors."""
    with ctx.uow(read_only=True) as uow:
        return uow.assistant.unanswered(include_handled=include_handled, limit=limit)


def mark_handled(ctx: AssistantContext, question_id: int, actor: str) -> bool:
    """An editor dealt with the question (added an answer or decided it is out of scope)."""
    with ctx.uow() as uow:
        changed = uow.assistant.mark_handled(question_id, ctx.clock.now())
        if changed:
            uow.audit.record(
                AuditRecord(
                    actor=actor,
                    action=AuditAction.UPDATE,
                    subject_type="assistant_unanswered",
                    subject_id=str(question_id),
                    at=ctx.clock.now(),
                    details={"step": "handled"},
                    personal_data=False,
                )
            )
        uow.commit()
        return changed
