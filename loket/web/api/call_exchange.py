"""API of what the participants of a call exchange: chat messages and documents.

A participant proves who they are with their call token (`Authorization: Bearer <token>`,
the same short-lived token that opens the call's socket), so the routes need neither a path
with the ticket id nor a cookie: the token names the call and the role. What is stored is
announced to the call's room (`chat.message`, `document.added`), so every participant's page
shows it at once, on whichever node it is connected.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Request, Response, UploadFile, status
from pydantic import BaseModel, Field

from loket.adapters.events.hub import in_thread
from loket.bootstrap import Container
from loket.domain.calls import CallGrant, CallRole, envelope
from loket.domain.errors import Forbidden, Invalid
from loket.domain.exchange import Author, AuthorRole, ChatMessage, Document
from loket.services import calls as call_service
from loket.services import exchange
from loket.services.ports import UnitOfWork
from loket.web.api.schemas import Strict
from loket.web.deps import ContainerDep, bearer_token

router = APIRouter(prefix="/api/v1/calls", tags=["calls"])

# The relay's sender for what the server announces: no participant's socket is "mine".
SERVER_CONNECTION = "server"


class ChatMessageCreate(Strict):
    text: str = Field(min_length=1, max_length=4000)


# The author by role only: the officer's and interpreter's names stay in the contact's record
# (for the police), not in what the citizen's browser receives.
class ChatMessagePublic(BaseModel):
    id: str
    role: str
    text: str
    at: datetime


class DocumentPublic(BaseModel):
    id: str
    role: str
    filename: str
    content_type: str
    size: int
    sha256: str
    at: datetime


@router.post("/messages", status_code=status.HTTP_201_CREATED, response_model=ChatMessagePublic)
async def post_message(
    request: Request, body: ChatMessageCreate, container: ContainerDep
) -> ChatMessagePublic:
    """Say something in the call's chat; everyone in the call sees it."""
    grant, author = await _participant(request, container)
    message = await in_thread(
        exchange.post_message, container.queue, grant.call_id, author, body.text
    )
    public = _message_public(message)
    await _announce(container, grant, "chat.message", public.model_dump(mode="json"))
    return public


@router.get("/messages", response_model=list[ChatMessagePublic])
async def list_messages(request: Request, container: ContainerDep) -> list[ChatMessagePublic]:
    """The chat so far (a page that joins late or reloads); an audited read."""
    grant, author = await _participant(request, container)
    messages = await in_thread(exchange.read_messages, container.queue, grant.call_id, author)
    return [_message_public(m) for m in messages]


@router.post("/documents", status_code=status.HTTP_201_CREATED, response_model=DocumentPublic)
async def add_document(
    request: Request,
    container: ContainerDep,
    file: Annotated[UploadFile, File(description="A PDF, JPEG or PNG")],
) -> DocumentPublic:
    """Send a document to the others in the call: checked by its content, stored sealed."""
    grant, author = await _participant(request, container)
    limit = container.settings.max_document_bytes
    # One byte past the limit is enough to know it is too large; reading more wastes memory.
    content = await file.read(limit + 1)
    document = await in_thread(
        lambda: exchange.add_document(
            container.queue,
            grant.call_id,
            author,
            filename=file.filename,
            content=content,
            max_bytes=limit,
            scanner=container.scanner,
        )
    )
    public = _document_public(document)
    await _announce(container, grant, "document.added", public.model_dump(mode="json"))
    return public


@router.get("/documents", response_model=list[DocumentPublic])
async def list_documents(request: Request, container: ContainerDep) -> list[DocumentPublic]:
    grant, author = await _participant(request, container)
    documents = await in_thread(exchange.list_documents, container.queue, grant.call_id, author)
    return [_document_public(d) for d in documents]


@router.get("/documents/{document_id}", response_class=Response)
async def fetch_document(request: Request, document_id: str, container: ContainerDep) -> Response:
    """The document itself, as a download that no browser renders in the site's origin."""
    grant, author = await _participant(request, container)
    found = await in_thread(
        exchange.fetch_document,
        container.queue,
        grant.call_id,
        document_id,
        author,
        container.scanner,
    )
    document = found.document
    return Response(
        content=found.content,
        media_type=document.content_type.value,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(document.filename)}",
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            # Opened anyway (a PDF viewer), it runs nothing and reaches nothing of ours.
            "Content-Security-Policy": "sandbox; default-src 'none'",
        },
    )


async def _participant(request: Request, container: Container) -> tuple[CallGrant, Author]:
    token = bearer_token(request)
    if token is None:
        raise Invalid("call.bad_token")
    # Errors: call.bad_token (401), call.not_participant (403), call.ended (409).
    grant = await in_thread(call_service.check_token, container.calls, token)
    return grant, await in_thread(_author_of, container, grant)


def _author_of(container: Container, grant: CallGrant) -> Author:
    if grant.role is CallRole.CITIZEN:
        return Author(AuthorRole.CITIZEN, "citizen")
    if grant.role is CallRole.INTERPRETER and not grant.participant_id.startswith("staff:"):
        # A one-time link's guest is no staff member: named by the role only.
        return Author(AuthorRole.INTERPRETER, "Interpreter")
    staff_id = _staff_id(grant)
    with container.queue.uow(read_only=True) as uow:
        name = _display_name(uow, staff_id)
    return Author(AuthorRole(grant.role.value), name, staff_id=staff_id)


def _staff_id(grant: CallGrant) -> int:
    raw = grant.participant_id.removeprefix("staff:")
    if not raw.isdigit():
        raise Forbidden("contact.not_participant")
    return int(raw)


def _display_name(uow: UnitOfWork, staff_id: int) -> str:
    return uow.staff.get(staff_id).display_name


async def _announce(
    container: Container, grant: CallGrant, kind: str, data: dict[str, Any]
) -> None:
    message = envelope(kind, data, connection=SERVER_CONNECTION)
    message["from"] = grant.role.value
    await container.call_relay.publish(grant.call_id, message)


def _message_public(message: ChatMessage) -> ChatMessagePublic:
    return ChatMessagePublic(
        id=message.id,
        role=message.author.role.value,
        text=message.text,
        at=message.at,
    )


def _document_public(document: Document) -> DocumentPublic:
    return DocumentPublic(
        id=document.id,
        role=document.author.role.value,
        filename=document.filename,
        content_type=document.content_type.value,
        size=document.size,
        sha256=document.sha256,
        at=document.at,
    )
