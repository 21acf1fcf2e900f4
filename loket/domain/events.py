"""Domain events: what happened, in the past tense, each typed, with a dotted name and version."""

from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass
from datetime import datetime
from typing import Any, ClassVar


@dataclass(frozen=True)
class TicketSnapshot:
    """The public state of a ticket as carried by events (no personal data)."""

    id: str
    number: str
    location_id: int
    location_code: str
    service_code: str
    language: str
    priority: int
    state: str
    officer_id: int | None
    is_returned: bool
    taken_at: datetime
    changed_at: datetime


@dataclass(frozen=True)
class Event:
    """Base of every domain event; `type` is the dotted name clients switch on."""

    type: ClassVar[str] = "event"
    version: ClassVar[int] = 1

    at: datetime

    @property
    def location_id(self) -> int | None:
        """The location whose public stream (info screens) should see this event, if any."""
        return None

    def payload(self) -> dict[str, Any]:
        return _record(self)


@dataclass(frozen=True)
class TicketEvent(Event):
    ticket: TicketSnapshot

    @property
    def location_id(self) -> int | None:
        return self.ticket.location_id


@dataclass(frozen=True)
class TicketTaken(TicketEvent):
    type: ClassVar[str] = "ticket.taken"


@dataclass(frozen=True)
class TicketOffered(TicketEvent):
    type: ClassVar[str] = "ticket.offered"


@dataclass(frozen=True)
class TicketCalled(TicketEvent):
    """An officer accepted the ticket: the info screen calls the number to a booth."""

    type: ClassVar[str] = "ticket.called"
    booth: str | None = None


@dataclass(frozen=True)
class TicketHeld(TicketEvent):
    type: ClassVar[str] = "ticket.held"


@dataclass(frozen=True)
class TicketResumed(TicketEvent):
    type: ClassVar[str] = "ticket.resumed"


@dataclass(frozen=True)
class TicketTransferred(TicketEvent):
    type: ClassVar[str] = "ticket.transferred"
    from_officer_id: int | None = None


@dataclass(frozen=True)
class TicketReturned(TicketEvent):
    """The ticket went back to the head of the queue (offer expired, officer gone, transfer)."""

    type: ClassVar[str] = "ticket.returned"
    reason: str = ""


@dataclass(frozen=True)
class TicketFinished(TicketEvent):
    type: ClassVar[str] = "ticket.finished"
    outcome: str = ""


@dataclass(frozen=True)
class TicketCancelled(TicketEvent):
    type: ClassVar[str] = "ticket.cancelled"


@dataclass(frozen=True)
class TicketIdentityChecked(TicketEvent):
    """The officer in the call checked the citizen's identity document for their report:
    the citizen's ticket page offers to go on with it. The check itself is not in here."""

    type: ClassVar[str] = "ticket.identity_checked"


@dataclass(frozen=True)
class HelpSnapshot:
    """A citizen's call for the host at a desk, as carried by events (no personal data)."""

    id: str
    location_id: int
    location_code: str
    kiosk: str | None
    state: str
    requested_at: datetime
    changed_at: datetime


@dataclass(frozen=True)
class HelpEvent(Event):
    help: HelpSnapshot

    @property
    def location_id(self) -> int | None:
        return self.help.location_id


@dataclass(frozen=True)
class HelpRequested(HelpEvent):
    type: ClassVar[str] = "help.requested"


@dataclass(frozen=True)
class HelpAcknowledged(HelpEvent):
    """A host saw the call and is on the way."""

    type: ClassVar[str] = "help.acknowledged"


@dataclass(frozen=True)
class HelpResolved(HelpEvent):
    type: ClassVar[str] = "help.resolved"


@dataclass(frozen=True)
class CallbackSnapshot:
    """A callback as carried by events: no number, address or page key (staff streams)."""

    reference: str
    mode: str
    language: str
    state: str
    due_at: datetime
    attempts: int
    ticket_id: str | None


@dataclass(frozen=True)
class CallbackEvent(Event):
    callback: CallbackSnapshot


@dataclass(frozen=True)
class CallbackRequested(CallbackEvent):
    type: ClassVar[str] = "callback.requested"


@dataclass(frozen=True)
class CallbackQueued(CallbackEvent):
    """Its time came: a ticket for it entered the officer queue."""

    type: ClassVar[str] = "callback.queued"


@dataclass(frozen=True)
class CallbackRescheduled(CallbackEvent):
    """Not answered: booked again for a later attempt."""

    type: ClassVar[str] = "callback.rescheduled"


@dataclass(frozen=True)
class CallbackReached(CallbackEvent):
    type: ClassVar[str] = "callback.reached"


@dataclass(frozen=True)
class CallbackFailed(CallbackEvent):
    """Not answered at the last attempt."""

    type: ClassVar[str] = "callback.failed"


@dataclass(frozen=True)
class CallbackCancelled(CallbackEvent):
    type: ClassVar[str] = "callback.cancelled"


@dataclass(frozen=True)
class OfficerStatusChanged(Event):
    type: ClassVar[str] = "officer.status_changed"
    staff_id: int
    username: str
    status: str


def _record(item: Any) -> dict[str, Any]:
    # A shallow walk over the fields: dataclasses.asdict deep-copies every value first,
    # which made it a tenth of the queue's CPU time per step.
    return {f.name: _jsonable(getattr(item, f.name)) for f in fields(item)}


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if is_dataclass(value) and not isinstance(value, type):
        return _record(value)
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(item) for item in value]
    return value
