"""The supervisor's board: queue load per desk, officers, and the service level of the day.

The service level is the share of tickets called within the target wait, over the tickets
taken in the last 24 hours (a rolling window rather than "today": the desks lie in more
than one time zone, and a rolling window does not drop to nothing at local midnight).
How each ticket counts is decided by `call_verdict`:

- called (accepted by an officer at least once): met when the first call came within the
  target, else missed; a later return to the queue does not undo the first call;
- not called and still open: missed once it has waited longer than the target, else not
  counted yet (it may still make it);
- given up (cancelled) before being called: missed when the citizen had waited longer
  than the target, else not counted (someone who leaves after two minutes was not kept
  waiting too long).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from loket.domain.locations import Location
from loket.domain.staff import StaffMember
from loket.domain.tickets import Ticket, TicketState
from loket.services.queue import QueueContext

DEFAULT_TARGET = timedelta(minutes=10)
WINDOW = timedelta(hours=24)
# A target outside this range is a typo, not a policy.
MIN_TARGET_MINUTES = 1
MAX_TARGET_MINUTES = 240

# Tickets still waiting for a call: an offer is not yet a call, the citizen still waits.
NOT_YET_CALLED = frozenset({TicketState.WAITING, TicketState.OFFERED})


class Verdict(StrEnum):
    MET = "met"
    MISSED = "missed"
    PENDING = "pending"  # still waiting, within the target: not counted yet
    EXCLUDED = "excluded"  # gave up within the target: not counted


@dataclass(frozen=True)
class ServiceLevel:
    """How many counted tickets were called within the target wait."""

    target: timedelta
    met: int
    counted: int
    pending: int

    @property
    def share(self) -> float | None:
        """Met over counted, or None when nothing counts yet."""
        return None if self.counted == 0 else self.met / self.counted

    @property
    def percent(self) -> int | None:
        share = self.share
        return None if share is None else round(share * 100)


def call_verdict(
    *,
    taken_at: datetime,
    called_at: datetime | None,
    closed_at: datetime | None,
    now: datetime,
    target: timedelta,
) -> Verdict:
    """How one ticket counts towards the service level (see the module's docstring)."""
    if called_at is not None:
        return Verdict.MET if called_at - taken_at <= target else Verdict.MISSED
    if closed_at is not None:
        return Verdict.MISSED if closed_at - taken_at > target else Verdict.EXCLUDED
    return Verdict.MISSED if now - taken_at > target else Verdict.PENDING


def service_level(
    tickets: Iterable[Ticket], now: datetime, target: timedelta = DEFAULT_TARGET
) -> ServiceLevel:
    """The service level over `tickets` (the caller chooses the window) at `now`."""
    met = counted = pending = 0
    for ticket in tickets:
        verdict = call_verdict(
            taken_at=ticket.taken_at,
            called_at=ticket.accepted_at,
            closed_at=ticket.finished_at if ticket.accepted_at is None else None,
            now=now,
            target=target,
        )
        if verdict is Verdict.MET:
            met += 1
            counted += 1
        elif verdict is Verdict.MISSED:
            counted += 1
        elif verdict is Verdict.PENDING:
            pending += 1
    return ServiceLevel(target=target, met=met, counted=counted, pending=pending)


@dataclass(frozen=True)
class LocationLoad:
    """One desk on the board: how many wait for a call, how many are served, the oldest."""

    location_id: int
    code: str
    name: str
    waiting: int
    in_contact: int
    oldest_taken_at: datetime | None

    def longest_wait(self, now: datetime) -> timedelta | None:
        return (
            None if self.oldest_taken_at is None else max(now - self.oldest_taken_at, timedelta())
        )


def location_loads(
    locations: Iterable[Location], open_tickets: Iterable[Ticket]
) -> list[LocationLoad]:
    """Every desk with its queue, in the order given; desks not given but with tickets last."""
    waiting: dict[int, int] = {}
    in_contact: dict[int, int] = {}
    oldest: dict[int, datetime] = {}
    codes: dict[int, str] = {}
    for ticket in open_tickets:
        where = ticket.location_id
        codes.setdefault(where, ticket.location_code)
        if ticket.state in NOT_YET_CALLED:
            waiting[where] = waiting.get(where, 0) + 1
            if where not in oldest or ticket.taken_at < oldest[where]:
                oldest[where] = ticket.taken_at
        else:
            in_contact[where] = in_contact.get(where, 0) + 1
    loads: list[LocationLoad] = []
    seen: set[int] = set()
    for location in locations:
        assert location.id is not None
        seen.add(location.id)
        loads.append(
            LocationLoad(
                location_id=location.id,
                code=location.code,
                name=location.name,
                waiting=waiting.get(location.id, 0),
                in_contact=in_contact.get(location.id, 0),
                oldest_taken_at=oldest.get(location.id),
            )
        )
    for where, code in sorted(codes.items(), key=lambda item: item[1]):
        if where not in seen:  # an inactive desk that still has tickets open
            loads.append(
                LocationLoad(
                    location_id=where,
                    code=code,
                    name=code,
                    waiting=waiting.get(where, 0),
                    in_contact=in_contact.get(where, 0),
                    oldest_taken_at=oldest.get(where),
                )
            )
    return loads


@dataclass(frozen=True)
class SupervisorBoard:
    """Everything the supervisor's board shows, read in one transaction."""

    at: datetime
    locations: list[LocationLoad]
    officers: list[StaffMember]
    tickets: list[Ticket]
    service_level: ServiceLevel
    contacts: dict[int, list[Ticket]] = field(default_factory=dict)


def supervisor_board(ctx: QueueContext, target: timedelta = DEFAULT_TARGET) -> SupervisorBoard:
    """The board: desks with their queues, officers with status and contacts, service level."""
    with ctx.uow(read_only=True) as uow:
        now = ctx.clock.now()
        locations = [location for location in uow.locations.list() if location.is_active]
        open_tickets = uow.tickets.open_tickets()
        officers = [member for member in uow.staff.list() if member.can_serve]
        recent = uow.tickets.taken_since(now - WINDOW)
    contacts: dict[int, list[Ticket]] = {}
    for ticket in open_tickets:
        if ticket.officer_id is not None:
            contacts.setdefault(ticket.officer_id, []).append(ticket)
    return SupervisorBoard(
        at=now,
        locations=location_loads(locations, open_tickets),
        officers=officers,
        tickets=open_tickets,
        service_level=service_level(recent, now, target),
        contacts=contacts,
    )
