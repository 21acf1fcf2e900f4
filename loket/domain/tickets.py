"""Queue tickets and their life cycle, as a transition table that refuses illegal steps."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from loket.domain.errors import Invalid, Refused
from loket.domain.events import (
    Event,
    TicketCalled,
    TicketCancelled,
    TicketFinished,
    TicketHeld,
    TicketIdentityChecked,
    TicketOffered,
    TicketResumed,
    TicketReturned,
    TicketSnapshot,
    TicketTaken,
    TicketTransferred,
)


class TicketState(StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"
    IN_SERVICE = "in_service"
    ON_HOLD = "on_hold"
    TRANSFERRED = "transferred"
    FINISHED = "finished"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


class Step(StrEnum):
    """The moves a ticket can make; each is one row family of TRANSITIONS."""

    OFFER = "offer"
    ACCEPT = "accept"
    RETURN = "return"
    HOLD = "hold"
    RESUME = "resume"
    TRANSFER = "transfer"
    FINISH = "finish"
    NO_SHOW = "no_show"
    CANCEL = "cancel"


class Outcome(StrEnum):
    """How a contact ended: the police's "meaningful interventions", plus no-show."""

    LISTENED = "listened"
    INFORMED = "informed"
    REFERRED = "referred"
    MEDIATED = "mediated"
    REPORT_TAKEN = "report_taken"
    NO_SHOW = "no_show"


S = TicketState
TRANSITIONS: dict[tuple[TicketState, Step], TicketState] = {
    (S.WAITING, Step.OFFER): S.OFFERED,
    (S.WAITING, Step.CANCEL): S.CANCELLED,
    # A supervisor may move an offer to another officer.
    (S.OFFERED, Step.OFFER): S.OFFERED,
    (S.OFFERED, Step.ACCEPT): S.IN_SERVICE,
    (S.OFFERED, Step.RETURN): S.WAITING,
    (S.OFFERED, Step.CANCEL): S.CANCELLED,
    (S.IN_SERVICE, Step.HOLD): S.ON_HOLD,
    (S.IN_SERVICE, Step.TRANSFER): S.TRANSFERRED,
    (S.IN_SERVICE, Step.RETURN): S.WAITING,
    (S.IN_SERVICE, Step.FINISH): S.FINISHED,
    (S.IN_SERVICE, Step.NO_SHOW): S.NO_SHOW,
    (S.ON_HOLD, Step.RESUME): S.IN_SERVICE,
    (S.ON_HOLD, Step.TRANSFER): S.TRANSFERRED,
    (S.ON_HOLD, Step.RETURN): S.WAITING,
    (S.ON_HOLD, Step.FINISH): S.FINISHED,
    (S.TRANSFERRED, Step.ACCEPT): S.IN_SERVICE,
    (S.TRANSFERRED, Step.TRANSFER): S.TRANSFERRED,
    (S.TRANSFERRED, Step.RETURN): S.WAITING,
}

# States in which an officer holds the ticket (and so holds a lease on it).
HELD_STATES = frozenset({S.OFFERED, S.IN_SERVICE, S.ON_HOLD, S.TRANSFERRED})
OPEN_STATES = HELD_STATES | {S.WAITING}
CLOSED_STATES = frozenset({S.FINISHED, S.NO_SHOW, S.CANCELLED})

MAX_PRIORITY = 3
MAX_NOTE_LENGTH = 1000


@dataclass(frozen=True)
class QueuePolicy:
    """The numbers that steer the central queue; see docs/queue.md for why these defaults."""

    # An offer not accepted within this time goes back to the head of the queue.
    offer_timeout: timedelta = timedelta(seconds=30)
    # An officer's console renews its lease on held tickets every 15 s; two missed renewals
    # and a bit mean the client is gone and the ticket goes back, flagged.
    service_lease: timedelta = timedelta(seconds=45)
    # Ageing: each priority level is worth this much waiting, so a normal ticket that has
    # waited long enough is served before a fresh urgent one and nothing starves.
    priority_step: timedelta = timedelta(minutes=10)
    # A returned ticket is ranked as if it had waited this much longer: the head of the queue.
    head_boost: timedelta = timedelta(days=1)

    def rank_for(self, taken_at: datetime, priority: int) -> datetime:
        return taken_at - priority * self.priority_step


_id_lock = threading.Lock()
_last_id_ns = 0


def new_ticket_id() -> str:
    """A 32-hex id that sorts in creation order and cannot be guessed.

    The first half is a strictly increasing nanosecond stamp (so tickets taken in the same
    instant still queue first-come, first-served); the second half is 64 random bits,
    because the id is the citizen's key to follow or cancel their ticket.
    """
    global _last_id_ns
    with _id_lock:
        _last_id_ns = max(_last_id_ns + 1, time.time_ns())
        stamp = _last_id_ns
    return f"{stamp:016x}{secrets.token_hex(8)}"


def ticket_number(location_code: str, sequence: int) -> str:
    """The readable number shown to the citizen: prefix of the location, daily sequence."""
    return f"{location_code}-{sequence:03d}"


@dataclass
class Ticket:
    id: str
    number: str
    location_id: int
    location_code: str
    service_code: str
    language: str
    channel: str
    priority: int
    state: TicketState
    taken_at: datetime
    rank_at: datetime
    changed_at: datetime
    officer_id: int | None = None
    lease_expires_at: datetime | None = None
    offered_at: datetime | None = None
    accepted_at: datetime | None = None
    finished_at: datetime | None = None
    is_returned: bool = False
    return_count: int = 0
    note: str | None = None
    outcome: Outcome | None = None
    idempotency_key: str | None = None
    version: int = 0
    events: list[Event] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def take(
        cls,
        *,
        location_id: int,
        location_code: str,
        sequence: int,
        service_code: str,
        language: str,
        channel: str,
        priority: int,
        at: datetime,
        policy: QueuePolicy,
        idempotency_key: str | None = None,
    ) -> Ticket:
        """A new waiting ticket; records TicketTaken."""
        if not 0 <= priority <= MAX_PRIORITY:
            raise Invalid("ticket.invalid_priority", field="priority", maximum=MAX_PRIORITY)
        ticket = cls(
            id=new_ticket_id(),
            number=ticket_number(location_code, sequence),
            location_id=location_id,
            location_code=location_code,
            service_code=service_code,
            language=language,
            channel=channel,
            priority=priority,
            state=S.WAITING,
            taken_at=at,
            rank_at=policy.rank_for(at, priority),
            changed_at=at,
            idempotency_key=idempotency_key,
        )
        ticket.events.append(TicketTaken(at=at, ticket=ticket.snapshot()))
        return ticket

    # -- the life cycle -------------------------------------------------------------------

    def offer_to(self, officer_id: int, at: datetime, policy: QueuePolicy) -> None:
        self._move(Step.OFFER, at)
        self.officer_id = officer_id
        self.offered_at = at
        self.lease_expires_at = at + policy.offer_timeout
        self.events.append(TicketOffered(at=at, ticket=self.snapshot()))

    def accept(
        self, officer_id: int, at: datetime, policy: QueuePolicy, booth: str | None = None
    ) -> None:
        self._check_holder(officer_id)
        self._move(Step.ACCEPT, at)
        if self.accepted_at is None:
            self.accepted_at = at
        self.lease_expires_at = at + policy.service_lease
        self.events.append(TicketCalled(at=at, ticket=self.snapshot(), booth=booth))

    def renew_lease(self, officer_id: int, at: datetime, policy: QueuePolicy) -> None:
        """The officer's client is alive: extend the lease on a ticket being served."""
        self._check_holder(officer_id)
        if self.state in (S.IN_SERVICE, S.ON_HOLD):
            self.lease_expires_at = at + policy.service_lease

    def hold(self, officer_id: int, at: datetime, policy: QueuePolicy) -> None:
        self._check_holder(officer_id)
        self._move(Step.HOLD, at)
        self.lease_expires_at = at + policy.service_lease
        self.events.append(TicketHeld(at=at, ticket=self.snapshot()))

    def resume(self, officer_id: int, at: datetime, policy: QueuePolicy) -> None:
        self._check_holder(officer_id)
        self._move(Step.RESUME, at)
        self.lease_expires_at = at + policy.service_lease
        self.events.append(TicketResumed(at=at, ticket=self.snapshot()))

    def transfer_to(
        self, to_officer_id: int, at: datetime, policy: QueuePolicy, note: str | None = None
    ) -> None:
        """Hand the contact to a named colleague, who must accept it within the offer time."""
        if to_officer_id == self.officer_id:
            raise Refused("ticket.transfer_to_self", field="to_officer")
        _check_note(note)
        self._move(Step.TRANSFER, at)
        previous = self.officer_id
        self.officer_id = to_officer_id
        self.offered_at = at
        self.lease_expires_at = at + policy.offer_timeout
        self._set_note(note)
        self.events.append(
            TicketTransferred(at=at, ticket=self.snapshot(), from_officer_id=previous)
        )

    def return_to_queue(
        self, at: datetime, policy: QueuePolicy, reason: str, note: str | None = None
    ) -> None:
        """Back to the head of the queue, flagged, keeping how long the citizen has waited."""
        _check_note(note)
        self._move(Step.RETURN, at)
        self.officer_id = None
        self.lease_expires_at = None
        self.is_returned = True
        self.return_count += 1
        self.rank_at = policy.rank_for(self.taken_at, self.priority) - policy.head_boost
        self._set_note(note)
        self.events.append(TicketReturned(at=at, ticket=self.snapshot(), reason=reason))

    def finish(
        self, officer_id: int, outcome: Outcome, at: datetime, note: str | None = None
    ) -> None:
        self._check_holder(officer_id)
        _check_note(note)
        self._move(Step.NO_SHOW if outcome is Outcome.NO_SHOW else Step.FINISH, at)
        self.outcome = outcome
        self.finished_at = at
        self.lease_expires_at = None
        self._set_note(note)
        self.events.append(TicketFinished(at=at, ticket=self.snapshot(), outcome=outcome.value))

    def cancel(self, at: datetime) -> None:
        """The citizen gave up their ticket before being served."""
        self._move(Step.CANCEL, at)
        self.officer_id = None
        self.lease_expires_at = None
        self.finished_at = at
        self.events.append(TicketCancelled(at=at, ticket=self.snapshot()))

    def note_identity_checked(self, at: datetime) -> None:
        """The officer serving this contact checked the identity it was taken for: those
        following the ticket hear of it (the state stays as it is)."""
        self.events.append(TicketIdentityChecked(at=at, ticket=self.snapshot()))

    # -- queries --------------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def is_lease_expired(self, at: datetime) -> bool:
        return self.lease_expires_at is not None and self.lease_expires_at <= at

    def snapshot(self) -> TicketSnapshot:
        return TicketSnapshot(
            id=self.id,
            number=self.number,
            location_id=self.location_id,
            location_code=self.location_code,
            service_code=self.service_code,
            language=self.language,
            priority=self.priority,
            state=self.state.value,
            officer_id=self.officer_id,
            is_returned=self.is_returned,
            taken_at=self.taken_at,
            changed_at=self.changed_at,
        )

    # -- internals ------------------------------------------------------------------------

    def _move(self, step: Step, at: datetime) -> None:
        target = TRANSITIONS.get((self.state, step))
        if target is None:
            raise Refused(
                "ticket.illegal_transition",
                ticket=self.number,
                state=self.state.value,
                step=step.value,
            )
        self.state = target
        self.changed_at = at

    def _check_holder(self, officer_id: int) -> None:
        if self.officer_id != officer_id:
            raise Refused("ticket.not_yours", ticket=self.number)

    def _set_note(self, note: str | None) -> None:
        if note is None:
            return
        _check_note(note)
        self.note = note


def _check_note(note: str | None) -> None:
    # Checked before the state moves, so a refused note leaves the ticket as it was.
    if note is not None and len(note) > MAX_NOTE_LENGTH:
        raise Invalid("ticket.note_too_long", field="note", maximum=MAX_NOTE_LENGTH)
