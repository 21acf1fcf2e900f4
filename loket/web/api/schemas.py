"""Request and response shapes of the API: `*Create` in, `*Public` out."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from loket.domain.staff import OfficerStatus
from loket.domain.tickets import Outcome

Slug = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")
LanguageCode = Field(min_length=2, max_length=8, pattern=r"^[a-z]{2,3}$")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OpeningStatus(BaseModel):
    is_open: bool
    is_always_open: bool
    closes_at: datetime | None
    next_opening_at: datetime | None


class LocationPublic(BaseModel):
    slug: str
    code: str
    name: str
    municipality: str
    kind: str
    country: str
    time_zone: str
    languages: list[str]
    services: list[str]
    opening: OpeningStatus
    hours: dict[str, object]


class ServicePublic(BaseModel):
    code: str
    kind: str
    title: str
    description: str
    channels: list[str]
    identification: str
    is_self_service: bool
    needs_officer: bool
    referral: str | None


class TicketCreate(Strict):
    location: str = Slug
    service: str = Field(min_length=1, max_length=64)
    language: str = LanguageCode
    channel: Literal["kiosk", "home", "video", "phone", "assistant"] = "kiosk"


class WaitPublic(BaseModel):
    is_known: bool
    minutes: int | None
    low_minutes: int | None
    high_minutes: int | None


class TicketPublic(BaseModel):
    """What the citizen holding the ticket sees."""

    id: str
    number: str
    location: str
    service: str
    language: str
    state: str
    position: int | None
    estimated_wait: WaitPublic | None
    taken_at: datetime
    called_at: datetime | None


class QueueTicket(BaseModel):
    """A ticket in the staff's view of the central queue."""

    id: str
    number: str
    location_code: str
    location_id: int
    service: str
    language: str
    priority: int
    state: str
    officer: str | None
    is_returned: bool
    note: str | None
    taken_at: datetime
    waited_seconds: int


class OfficerPublic(BaseModel):
    username: str
    display_name: str
    roles: list[str]
    status: str
    status_since_at: datetime | None
    languages: list[str]
    services: list[str]


class QueuePublic(BaseModel):
    at: datetime
    tickets: list[QueueTicket]
    officers: list[OfficerPublic]


class ContactPublic(BaseModel):
    """The ticket an officer holds: enough to serve the contact."""

    id: str
    number: str
    location_code: str
    service: str
    language: str
    priority: int
    state: str
    is_returned: bool
    note: str | None
    taken_at: datetime
    offered_at: datetime | None
    accepted_at: datetime | None
    lease_expires_at: datetime | None
    outcome: str | None


class AcceptRequest(Strict):
    booth: str | None = Field(default=None, max_length=32)


class FinishRequest(Strict):
    outcome: Outcome
    note: str | None = Field(default=None, max_length=1000)


class TransferRequest(Strict):
    to_officer: str | None = Field(default=None, max_length=64)
    note: str | None = Field(default=None, max_length=1000)


class ReassignRequest(Strict):
    to_officer: str | None = Field(default=None, max_length=64)


class StatusUpdate(Strict):
    status: OfficerStatus


class TokenCreate(Strict):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)
    code: str = Field(min_length=6, max_length=8)


class TokenPublic(BaseModel):
    token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 - the scheme, not a secret
    expires_at: datetime
    username: str
    roles: list[str]
