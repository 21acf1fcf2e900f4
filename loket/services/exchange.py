"""Chat and documents during a contact: only its participants write or read, every read audited.

The participants are the citizen holding the ticket (the web layer proves that), the officer
serving it and an interpreter invited to its call. The citizen's side closes with the contact;
the officer who served it keeps access for the record.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from loket.domain.audit import AuditAction, AuditRecord, DetailValue
from loket.domain.errors import Forbidden, Invalid, NotFound, Refused
from loket.domain.exchange import (
    DEFAULT_MAX_DOCUMENT_BYTES,
    MAX_DOCUMENTS_PER_CONTACT,
    Author,
    AuthorRole,
    ChatMessage,
    Document,
)
from loket.domain.tickets import Ticket, TicketState
from loket.services.ports import NoScanner, ScannerUnavailable, UnitOfWork, VirusScanner
from loket.services.queue import QueueContext, retrying

# Without a configured scanner, uploads are checked by type only.
NO_SCANNER = NoScanner()
# A conversation happens while the officer has the contact: in service or briefly on hold.
_CONVERSATION_STATES = frozenset({TicketState.IN_SERVICE, TicketState.ON_HOLD})


@dataclass(frozen=True)
class DocumentContent:
    document: Document
    content: bytes


def post_message(ctx: QueueContext, ticket_id: str, author: Author, text: str) -> ChatMessage:
    """Add a chat message to a contact in progress.

    Errors: ticket.unknown, contact.not_participant, contact.not_in_progress, chat.empty,
    chat.too_long.
    """
    with ctx.uow() as uow:
        ticket = _ticket_for(uow, ticket_id, author, writing=True)
        message = ChatMessage.write(
            ticket_id=ticket.id, author=author, text=text, at=ctx.clock.now()
        )
        uow.exchange.add_message(message)
        _audit(uow, author, AuditAction.CREATE, "chat_message", message.id, message.at, ticket)
        uow.commit()
        return message


def read_messages(ctx: QueueContext, ticket_id: str, reader: Author) -> list[ChatMessage]:
    """The contact's chat, oldest first; an audited read of personal data.

    Errors: ticket.unknown, contact.not_participant, contact.not_in_progress (citizen).
    """
    with ctx.uow() as uow:
        ticket = _ticket_for(uow, ticket_id, reader, writing=False)
        messages = uow.exchange.messages(ticket.id)
        _audit(
            uow, reader, AuditAction.READ, "ticket", ticket.id, ctx.clock.now(), ticket, what="chat"
        )
        uow.commit()
        return messages


def add_document(
    ctx: QueueContext,
    ticket_id: str,
    author: Author,
    *,
    filename: str | None,
    content: bytes,
    max_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES,
    scanner: VirusScanner = NO_SCANNER,
) -> Document:
    """Store an uploaded document with the contact, checked by its content and the scanner.

    Errors: ticket.unknown, contact.not_participant, contact.not_in_progress, document.empty,
    document.too_large, document.type_not_allowed, document.too_many, document.infected,
    document.scanner_unavailable (nothing is stored that the scanner could not check).
    """
    now = ctx.clock.now()
    # Scanned before the transaction: a slow scanner must not hold the contact's row lock.
    _check_clean(scanner, content)

    def attempt() -> Document:
        with ctx.uow() as uow:
            ticket = _ticket_for(uow, ticket_id, author, writing=True, lock=True)
            if uow.exchange.count_documents(ticket.id) >= MAX_DOCUMENTS_PER_CONTACT:
                raise Refused("document.too_many", maximum=MAX_DOCUMENTS_PER_CONTACT)
            document = Document.accept(
                ticket_id=ticket.id,
                author=author,
                filename=filename,
                content=content,
                at=now,
                max_bytes=max_bytes,
            )
            uow.exchange.add_document(document, content)
            _audit(
                uow,
                author,
                AuditAction.CREATE,
                "document",
                document.id,
                now,
                ticket,
                content_type=document.content_type.value,
                size=document.size,
                sha256=document.sha256,
            )
            uow.commit()
            return document

    return retrying(attempt)


def list_documents(ctx: QueueContext, ticket_id: str, reader: Author) -> list[Document]:
    """The contact's documents (their records, not their content), oldest first; audited."""
    with ctx.uow() as uow:
        ticket = _ticket_for(uow, ticket_id, reader, writing=False)
        documents = uow.exchange.documents(ticket.id)
        now = ctx.clock.now()
        _audit(uow, reader, AuditAction.READ, "ticket", ticket.id, now, ticket, what="documents")
        uow.commit()
        return documents


def fetch_document(
    ctx: QueueContext,
    ticket_id: str,
    document_id: str,
    reader: Author,
    scanner: VirusScanner = NO_SCANNER,
) -> DocumentContent:
    """One document with its content; every fetch is an audited download.

    Errors: ticket.unknown, document.unknown (also for a document of another contact),
    contact.not_participant, contact.not_in_progress (citizen), document.scanner_unavailable
    (a configured scanner that is down: nothing is served until it answers again).
    """
    with ctx.uow() as uow:
        ticket = _ticket_for(uow, ticket_id, reader, writing=False)
        found = uow.exchange.document(document_id)
        if found is None or found[0].ticket_id != ticket.id:
            raise NotFound("document.unknown", field="document")
        document, content = found
        # Asked only for a participant's own document: no one else learns whether the
        # scanner is up.
        try:
            scanner.check()
        except ScannerUnavailable:
            raise Refused("document.scanner_unavailable") from None
        now = ctx.clock.now()
        _audit(uow, reader, AuditAction.DOWNLOAD, "document", document.id, now, ticket)
        uow.commit()
        return DocumentContent(document=document, content=content)


def _check_clean(scanner: VirusScanner, content: bytes) -> None:
    try:
        verdict = scanner.scan(content)
    except ScannerUnavailable:
        raise Refused("document.scanner_unavailable", field="file") from None
    if not verdict.is_clean:
        raise Invalid("document.infected", field="file")


def _ticket_for(
    uow: UnitOfWork, ticket_id: str, author: Author, *, writing: bool, lock: bool = False
) -> Ticket:
    ticket = uow.tickets.get_for_update(ticket_id) if lock else uow.tickets.get(ticket_id)
    in_progress = ticket.state in _CONVERSATION_STATES
    if author.role is AuthorRole.OFFICER:
        # Only the officer serving (or who served) the contact; a colleague sees the queue,
        # not the conversation.
        if author.staff_id is None or ticket.officer_id != author.staff_id:
            raise Forbidden("contact.not_participant")
    elif author.role is AuthorRole.INTERPRETER and not in_progress:
        # Invited to the call (the call module proves that); only while it runs.
        raise Forbidden("contact.not_participant")
    if (writing or author.role is not AuthorRole.OFFICER) and not in_progress:
        raise Refused("contact.not_in_progress", ticket=ticket.number)
    return ticket


def _audit(
    uow: UnitOfWork,
    author: Author,
    action: AuditAction,
    subject_type: str,
    subject_id: str,
    at: datetime,
    ticket: Ticket,
    **details: DetailValue,
) -> None:
    extra: Mapping[str, DetailValue] = {"ticket": ticket.number, "role": author.role.value}
    uow.audit.record(
        AuditRecord(
            actor=author.actor,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            at=at,
            details={**extra, **details},
            personal_data=True,
        )
    )
