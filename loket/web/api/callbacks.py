"""API routes of callback requests: free slots, booking, reading and cancelling one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, status
from pydantic import AwareDatetime, BaseModel, Field

from loket.domain.callbacks import Callback
from loket.services import callbacks as callback_service
from loket.web.api.routes import IdempotencyKey, RateLimited
from loket.web.api.schemas import LanguageCode, Slug, Strict
from loket.web.deps import ContainerDep, client_address

router = APIRouter(prefix="/api/v1/callbacks", tags=["public"])


class CallbackCreate(Strict):
    mode: Literal["phone", "video"]
    language: str = LanguageCode
    slot_start_at: AwareDatetime
    # The number to call (phone) or the address the join link goes to (video).
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=254)
    # The desk where the citizen asks; its country reads local phone numbers.
    location: str = Slug


class CallbackPublic(BaseModel):
    """The citizen's callback. `id` is the key of its page: keep it to yourself."""

    id: str
    reference: str
    mode: str
    language: str
    state: str
    slot_start_at: datetime
    slot_end_at: datetime
    due_at: datetime
    attempts: int


class SlotPublic(BaseModel):
    start_at: datetime
    end_at: datetime


class SlotsPublic(BaseModel):
    time_zone: str
    slots: list[SlotPublic]


@router.get("/slots", response_model=SlotsPublic)
def list_slots(
    container: ContainerDep,
    start: Annotated[AwareDatetime | None, Query(alias="from")] = None,
    end: Annotated[AwareDatetime | None, Query(alias="to")] = None,
) -> SlotsPublic:
    """Free 15-minute slots in the back office's hours, from now + lead time."""
    location = callback_service.back_office(container.callbacks)
    slots = callback_service.available_slots(container.callbacks, start=start, end=end)
    return SlotsPublic(
        time_zone=location.time_zone,
        slots=[SlotPublic(start_at=s.start_at, end_at=s.end_at) for s in slots],
    )


@router.post("", response_model=CallbackPublic, status_code=status.HTTP_201_CREATED)
def request_callback(
    body: CallbackCreate,
    request: Request,
    response: Response,
    container: ContainerDep,
    idempotency_key: IdempotencyKey = None,
) -> CallbackPublic:
    """Book a callback. Send an `Idempotency-Key` so that a retry returns the same one."""
    allowed, retry_after = request.app.state.ticket_limiter.allow(client_address(request))
    if not allowed:
        raise RateLimited("request.rate_limited", retry_after=retry_after)
    contact = body.phone if body.mode == "phone" else body.email
    callback = callback_service.request_callback(
        container.callbacks,
        booked_at=body.location,
        mode=body.mode,
        language=body.language,
        slot_start_at=body.slot_start_at,
        contact=contact or "",
        idempotency_key=idempotency_key,
    )
    response.headers["Location"] = f"/api/v1/callbacks/{callback.id}"
    return public(callback)


@router.get("/{callback_id}", response_model=CallbackPublic)
def get_callback(callback_id: str, container: ContainerDep, response: Response) -> CallbackPublic:
    response.headers["Cache-Control"] = "no-store"
    return public(callback_service.get_callback(container.callbacks, callback_id))


@router.post("/{callback_id}/cancel", response_model=CallbackPublic)
def cancel_callback(callback_id: str, container: ContainerDep) -> CallbackPublic:
    return public(callback_service.cancel_callback(container.callbacks, callback_id))


def public(callback: Callback) -> CallbackPublic:
    return CallbackPublic(
        id=callback.id,
        reference=callback.reference,
        mode=callback.mode.value,
        language=callback.language,
        state=callback.state.value,
        slot_start_at=callback.slot_start_at,
        slot_end_at=callback.slot_end_at,
        due_at=callback.due_at,
        attempts=callback.attempts,
    )
