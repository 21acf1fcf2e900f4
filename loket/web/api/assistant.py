"""API route of the virtual agent: ask a question in a conversation, get the answer and actions."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from loket.services import assistant as assistant_service
from loket.services import locations as location_service
from loket.web.api.routes import RateLimited
from loket.web.api.schemas import Strict
from loket.web.deps import ContainerDep, client_address
from loket.web.i18n import gettext_for
from loket.web.pages import assistant as assistant_pages
from loket.web.pages.citizen import ONLINE_DESK
from loket.web.problems import language_of

router = APIRouter(prefix="/api/v1/assistant", tags=["public"])


class MessageCreate(Strict):
    # Checked by the service (problem+json assistant.empty_question / question_too_long);
    # this bound only keeps absurd bodies out.
    text: str = Field(max_length=10_000)
    conversation_id: str | None = Field(default=None, max_length=64)
    # The session's language: the answer is in it when the knowledge base has it.
    language: str | None = Field(default=None, max_length=8)
    # The desk the chat runs at (its slug), for the actions' addresses; default home.
    location: str | None = Field(default=None, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")
    channel: Literal["kiosk", "home"] = "home"


class ActionPublic(BaseModel):
    kind: str
    label: str
    method: str
    url: str
    fields: dict[str, str]


class MessagePublic(BaseModel):
    conversation_id: str
    intent: str
    confidence: float
    language: str
    reply: str
    is_emergency: bool
    also: str | None
    also_reply: str | None
    actions: list[ActionPublic]


@router.post("/messages", response_model=MessagePublic)
def post_message(body: MessageCreate, request: Request, container: ContainerDep) -> MessagePublic:
    """Ask the virtual agent. Send the `conversation_id` of earlier answers to continue."""
    allowed, retry_after = request.app.state.assistant_limiter.allow(client_address(request))
    if not allowed:
        raise RateLimited("request.rate_limited", retry_after=retry_after)
    slug = body.location or ONLINE_DESK
    location = location_service.get_location(container.queue, slug)
    at_kiosk = body.channel == "kiosk" and slug != ONLINE_DESK
    answered = assistant_service.ask(
        container.assistant,
        body.text,
        conversation_id=body.conversation_id,
        language=body.language,
        channel=body.channel,
        location_slug=location.slug,
    )
    reply = answered.reply
    base = f"/kiosk/{location.slug}" if at_kiosk else ""
    translate = gettext_for(body.language or language_of(request)).gettext
    actions = assistant_pages.reply_actions(container, reply, base, "kiosk" if at_kiosk else "home")
    return MessagePublic(
        conversation_id=answered.conversation.id,
        intent=reply.intent,
        confidence=round(reply.confidence, 3),
        language=reply.language,
        reply=reply.reply,
        is_emergency=reply.is_emergency,
        also=reply.also,
        also_reply=reply.also_reply,
        actions=[ActionPublic(**action.to_json(translate)) for action in actions],
    )
