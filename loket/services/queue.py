"""The central queue: taking tickets at any desk and handing each to exactly one officer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from loket.domain.audit import AuditAction, AuditRecord
from loket.domain.catalogue import ServiceKind, service_by_code
from loket.domain.errors import ConcurrentUpdate, Invalid, NotFound, Refused
from loket.domain.estimate import HandlingStats, WaitEstimate, estimate_wait
from loket.domain.staff import ON_DUTY, OfficerStatus, StaffMember
from loket.domain.tickets import HELD_STATES, Outcome, QueuePolicy, Ticket, TicketState
from loket.services.ports import Clock, UnitOfWork, UnitOfWorkFactory

T = TypeVar("T")

# Handling times of this many recent contacts feed the waiting-time estimate.
RECENT_CONTACTS = 50
# Concurrent writers are rare (two officers clicking at once); a few retries settle them.
RETRIES = 5
MAX_IDEMPOTENCY_KEY = 200


@dataclass(frozen=True)
class QueueContext:
    """What every queue use case needs: how to open a transaction, the time, the rules."""

    uow: UnitOfWorkFactory
    clock: Clock
    policy: QueuePolicy


@dataclass(frozen=True)
class TicketStatus:
    """A ticket as its holder sees it: where it stands and how long it will probably take."""

    ticket: Ticket
    location_slug: str
    position: int | None
    estimate: WaitEstimate | None


def retrying(action: Callable[[], T]) -> T:
    """Run a use case again when a concurrent writer changed the same record first."""
    for _ in range(RETRIES - 1):
        try:
            return action()
        except ConcurrentUpdate:
            continue
    return action()


# -- citizen side ---------------------------------------------------------------------------


def take_ticket(
    ctx: QueueContext,
    *,
    location_slug: str,
    service_code: str,
    language: str,
    channel: str,
    priority: int = 0,
    idempotency_key: str | None = None,
) -> Ticket:
    """Take a ticket at a location.

    A retry with the same idempotency key returns the ticket of the first attempt.
    Errors: location.unknown, location.closed, location.service_not_offered,
    service.unknown, service.not_queued, ticket.language_not_offered, idempotency.key_reused.
    Events: TicketTaken.
    """
    if idempotency_key is not None and not 0 < len(idempotency_key) <= MAX_IDEMPOTENCY_KEY:
        raise Invalid("idempotency.invalid_key", field="Idempotency-Key")
    service = service_by_code(service_code)
    if service.kind is ServiceKind.ASSISTANT:
        # The virtual agent is a conversation, not a place in the queue; it hands over to a
        # person by taking a ticket for the service the citizen needs.
        raise Invalid("service.not_queued", field="service")

    def attempt() -> Ticket:
        with ctx.uow() as uow:
            if idempotency_key is not None:
                earlier = uow.tickets.by_idempotency_key(idempotency_key)
                if earlier is not None:
                    _check_same_request(earlier, location_slug, service_code, language)
                    return earlier
            location = uow.locations.by_slug(location_slug)
            now = ctx.clock.now()
            location.check_can_take_ticket(service.code, now)
            if language not in location.languages:
                raise Invalid("ticket.language_not_offered", field="language", language=language)
            sequence = uow.tickets.next_sequence(_id(location.id), location.local_date(now))
            ticket = Ticket.take(
                location_id=_id(location.id),
                location_code=location.code,
                sequence=sequence,
                service_code=service.code,
                language=language,
                channel=channel,
                priority=priority,
                at=now,
                policy=ctx.policy,
                idempotency_key=idempotency_key,
            )
            uow.tickets.add(ticket)
            uow.commit()
            return ticket

    return retrying(attempt)


def _check_same_request(earlier: Ticket, location_slug: str, service: str, language: str) -> None:
    # A key reused for a different request is a client bug; answering with the earlier
    # ticket would hide it.
    if earlier.service_code != service or earlier.language != language:
        raise Refused("idempotency.key_reused", field="Idempotency-Key")
    del location_slug  # the location is part of the ticket; checked through the service above


def ticket_status(ctx: QueueContext, ticket_id: str) -> TicketStatus:
    """Where a ticket stands: its position among tickets for the same officers, and the wait."""
    with ctx.uow(read_only=True) as uow:
        ticket = uow.tickets.get(ticket_id)
        slug = uow.locations.get(ticket.location_id).slug
        if ticket.state is not TicketState.WAITING:
            return TicketStatus(ticket=ticket, location_slug=slug, position=None, estimate=None)
        ahead = uow.tickets.count_ahead(ticket)
        officers = [m for m in uow.staff.list() if m.can_serve]
        busy = {t.officer_id for t in uow.tickets.open_tickets() if t.state in HELD_STATES}
        covering = [m for m in officers if m.skills.covers(ticket.language, ticket.service_code)]
        on_duty = [m for m in covering if m.status in ON_DUTY]
        free = [m for m in on_duty if m.status is OfficerStatus.AVAILABLE and m.id not in busy]
        durations = uow.tickets.recent_handling_seconds(ticket.service_code, RECENT_CONTACTS)
        estimate = estimate_wait(
            ahead=ahead,
            officers_free=len(free),
            officers_on_duty=len(on_duty),
            stats=HandlingStats.from_durations(durations),
        )
        return TicketStatus(
            ticket=ticket, location_slug=slug, position=ahead + 1, estimate=estimate
        )


def cancel_ticket(ctx: QueueContext, ticket_id: str) -> Ticket:
    """The citizen gives up their ticket. Errors: ticket.unknown, ticket.illegal_transition."""

    def attempt() -> Ticket:
        with ctx.uow() as uow:
            ticket = uow.tickets.get_for_update(ticket_id)
            ticket.cancel(ctx.clock.now())
            uow.tickets.save(ticket)
            uow.commit()
            return ticket

    return retrying(attempt)


# -- officer side ---------------------------------------------------------------------------


def offer_next(ctx: QueueContext, officer_id: int) -> Ticket | None:
    """Offer the officer the best waiting ticket they cover, or None when there is none.

    Asking again while an offer is open returns that offer (a double click takes one ticket).
    Errors: staff.not_an_officer, officer.not_available, officer.already_serving.
    Events: TicketOffered.
    """

    def attempt() -> Ticket | None:
        with ctx.uow() as uow:
            # Locking the officer first serialises one officer's own double clicks.
            officer = uow.staff.get_for_update(officer_id)
            _check_can_take(officer)
            held = uow.tickets.held_by(officer_id)
            for ticket in held:
                if ticket.state in (TicketState.OFFERED, TicketState.TRANSFERRED):
                    return ticket
                if ticket.state is TicketState.IN_SERVICE:
                    raise Refused("officer.already_serving", ticket=ticket.number)
            claimed = uow.tickets.claim_next(officer.skills)
            if claimed is None:
                return None
            claimed.offer_to(officer_id, ctx.clock.now(), ctx.policy)
            uow.tickets.save(claimed)
            uow.commit()
            return claimed

    return retrying(attempt)


def accept_ticket(
    ctx: QueueContext, officer_id: int, ticket_id: str, booth: str | None = None
) -> Ticket:
    """Accept an offered or transferred ticket: the contact starts and the screen calls it.

    Accepting a ticket one already serves returns it unchanged (a retried request).
    Errors: ticket.unknown, ticket.not_yours, ticket.illegal_transition,
    officer.already_serving (another contact is offered to or served by the officer).
    Events: TicketCalled, OfficerStatusChanged.
    """

    def attempt() -> Ticket:
        with ctx.uow() as uow:
            # Officer before ticket, the lock order of offer_next and set_officer_status:
            # the opposite order deadlocks with an officer going offline (PostgreSQL).
            officer = uow.staff.get_for_update(officer_id)
            ticket = uow.tickets.get_for_update(ticket_id)
            if ticket.state is TicketState.IN_SERVICE and ticket.officer_id == officer_id:
                return ticket
            now = ctx.clock.now()
            ticket.accept(officer_id, now, ctx.policy, booth=booth)
            _check_serves_one(uow, officer_id, ticket)
            uow.tickets.save(ticket)
            _audit(uow, officer_id, AuditAction.ASSIGN, ticket, now, step="accept")
            officer.set_status(OfficerStatus.BUSY, now)
            uow.staff.save(officer)
            uow.commit()
            return ticket

    return retrying(attempt)


def finish_ticket(
    ctx: QueueContext, officer_id: int, ticket_id: str, outcome: Outcome, note: str | None = None
) -> Ticket:
    """Close the contact with its outcome; the officer goes to wrap-up.

    Finishing an already finished ticket with the same outcome returns it (a retried request).
    Errors: ticket.unknown, ticket.not_yours, ticket.illegal_transition.
    Events: TicketFinished, OfficerStatusChanged.
    """

    def attempt() -> Ticket:
        with ctx.uow() as uow:
            # Officer before ticket: see accept_ticket.
            officer = uow.staff.get_for_update(officer_id)
            ticket = uow.tickets.get_for_update(ticket_id)
            if ticket.outcome is outcome and ticket.officer_id == officer_id:
                return ticket
            now = ctx.clock.now()
            # An officer serves one contact at a time (accept and resume check it under the
            # officer's lock), so finishing the one in service leaves none: no need to look.
            was_in_service = ticket.state is TicketState.IN_SERVICE
            ticket.finish(officer_id, outcome, now, note)
            uow.tickets.save(ticket)
            _audit(uow, officer_id, AuditAction.UPDATE, ticket, now, outcome=outcome.value)
            if was_in_service or not any(
                t.state is TicketState.IN_SERVICE for t in uow.tickets.held_by(officer_id)
            ):
                officer.set_status(OfficerStatus.WRAP_UP, now)
                uow.staff.save(officer)
            uow.commit()
            return ticket

    return retrying(attempt)


def hold_ticket(ctx: QueueContext, officer_id: int, ticket_id: str) -> Ticket:
    """Put a contact on hold (the citizen is told to wait). Events: TicketHeld."""
    return _officer_step(ctx, ticket_id, lambda t, now: t.hold(officer_id, now, ctx.policy))


def resume_ticket(ctx: QueueContext, officer_id: int, ticket_id: str) -> Ticket:
    """Take a held contact up again. Errors: officer.already_serving.

    Events: TicketResumed, OfficerStatusChanged.
    """

    def attempt() -> Ticket:
        with ctx.uow() as uow:
            officer = uow.staff.get_for_update(officer_id)  # officer first: see accept_ticket
            ticket = uow.tickets.get_for_update(ticket_id)
            now = ctx.clock.now()
            ticket.resume(officer_id, now, ctx.policy)
            _check_serves_one(uow, officer_id, ticket)
            uow.tickets.save(ticket)
            officer.set_status(OfficerStatus.BUSY, now)
            uow.staff.save(officer)
            uow.commit()
            return ticket

    return retrying(attempt)


def transfer_ticket(
    ctx: QueueContext,
    officer_id: int,
    ticket_id: str,
    *,
    to_officer_id: int | None,
    note: str | None = None,
) -> Ticket:
    """Hand a contact to a colleague, or back to the head of the queue when none is named.

    Errors: ticket.not_yours, ticket.transfer_to_self, staff.unknown, staff.not_an_officer.
    Events: TicketTransferred or TicketReturned.
    """

    def attempt() -> Ticket:
        with ctx.uow() as uow:
            officer = uow.staff.get_for_update(officer_id)  # officer before ticket
            ticket = uow.tickets.get_for_update(ticket_id)
            if ticket.officer_id != officer_id:
                raise Refused("ticket.not_yours", ticket=ticket.number)
            now = ctx.clock.now()
            _audit(uow, officer_id, AuditAction.TRANSFER, ticket, now, to_officer=to_officer_id)
            _move_to(ticket, to_officer_id, now, uow, ctx.policy, note, reason="transferred")
            uow.tickets.save(ticket)
            _wrap_up_if_free(uow, officer, now)
            uow.commit()
            return ticket

    return retrying(attempt)


def reassign_ticket(
    ctx: QueueContext, supervisor_id: int, ticket_id: str, *, to_officer_id: int | None
) -> Ticket:
    """A supervisor moves an open ticket to a named officer or back to the queue.

    Errors: staff.not_a_supervisor, ticket.illegal_transition.
    Events: TicketOffered, TicketTransferred or TicketReturned.
    """

    def step(ticket: Ticket, now: datetime, uow: UnitOfWork) -> None:
        _audit(uow, supervisor_id, AuditAction.ASSIGN, ticket, now, to_officer=to_officer_id)
        if ticket.state is TicketState.WAITING and to_officer_id is not None:
            target = uow.staff.get(to_officer_id)
            if not target.can_serve:
                raise Refused("staff.not_an_officer", field="to_officer", username=target.username)
            ticket.offer_to(to_officer_id, now, ctx.policy)
        elif ticket.state is TicketState.OFFERED and to_officer_id is not None:
            ticket.offer_to(to_officer_id, now, ctx.policy)
        else:
            _move_to(ticket, to_officer_id, now, uow, ctx.policy, None, reason="reassigned")

    def attempt() -> Ticket:
        with ctx.uow() as uow:
            holder_id = uow.tickets.get(ticket_id).officer_id
            # The holder before the ticket, the lock order of accept_ticket: the officer who
            # loses the contact they were serving must not stay "busy" with nothing to do.
            holder = None if holder_id is None else uow.staff.get_for_update(holder_id)
            ticket = uow.tickets.get_for_update(ticket_id)
            if ticket.officer_id != holder_id:
                raise ConcurrentUpdate("ticket.changed", ticket=ticket.number)
            now = ctx.clock.now()
            step(ticket, now, uow)
            uow.tickets.save(ticket)
            if holder is not None and holder.id != ticket.officer_id:
                _wrap_up_if_free(uow, holder, now)
            uow.commit()
            return ticket

    return retrying(attempt)


def _wrap_up_if_free(uow: UnitOfWork, officer: StaffMember, now: datetime) -> None:
    """Handing over one's last contact ends it for this officer, as finishing does: wrap-up,
    from which "next ticket" is allowed again."""
    if officer.status is not OfficerStatus.BUSY or officer.id is None:
        return
    if not any(t.state is TicketState.IN_SERVICE for t in uow.tickets.held_by(officer.id)):
        officer.set_status(OfficerStatus.WRAP_UP, now)
        uow.staff.save(officer)


def _move_to(
    ticket: Ticket,
    to_officer_id: int | None,
    now: datetime,
    uow: UnitOfWork,
    policy: QueuePolicy,
    note: str | None,
    reason: str,
) -> None:
    if to_officer_id is None:
        ticket.return_to_queue(now, policy, reason=reason, note=note)
        return
    target = uow.staff.get(to_officer_id)
    if not target.can_serve:
        raise Refused("staff.not_an_officer", field="to_officer", username=target.username)
    ticket.transfer_to(to_officer_id, now, policy, note)


def renew_leases(ctx: QueueContext, officer_id: int) -> int:
    """The officer's console is alive: extend the leases on the contacts it serves."""

    def attempt() -> int:
        with ctx.uow() as uow:
            uow.staff.get_for_update(officer_id)  # officer before tickets: see accept_ticket
            held = uow.tickets.held_by(officer_id)
            now = ctx.clock.now()
            renewed = 0
            for ticket in held:
                if ticket.state in (TicketState.IN_SERVICE, TicketState.ON_HOLD):
                    ticket.renew_lease(officer_id, now, ctx.policy)
                    uow.tickets.save(ticket)
                    renewed += 1
            uow.commit()
            return renewed

    return retrying(attempt)


def release_expired(ctx: QueueContext, batch: int = 100) -> int:
    """Return to the head of the queue every ticket whose offer or lease ran out.

    Safe to run on every node at once: each expired ticket is locked and returned once.
    Events: TicketReturned.
    """
    with ctx.uow() as uow:
        now = ctx.clock.now()
        expired = uow.tickets.expired_leases(now, batch)
        for ticket in expired:
            reason = (
                "offer_expired"
                if ticket.state in (TicketState.OFFERED, TicketState.TRANSFERRED)
                else "officer_lost"
            )
            ticket.return_to_queue(now, ctx.policy, reason=reason)
            uow.tickets.save(ticket)
        uow.commit()
        return len(expired)


def set_officer_status(ctx: QueueContext, staff_id: int, status: OfficerStatus) -> StaffMember:
    """Change an officer's status; going offline hands their open tickets back, flagged.

    Errors: staff.not_an_officer, officer.serving (a break while serving a contact).
    Events: OfficerStatusChanged, TicketReturned.
    """

    def attempt() -> StaffMember:
        with ctx.uow() as uow:
            officer = uow.staff.get_for_update(staff_id)
            now = ctx.clock.now()
            held = uow.tickets.held_by(staff_id)
            if status is OfficerStatus.OFFLINE:
                for ticket in held:
                    ticket.return_to_queue(now, ctx.policy, reason="officer_offline")
                    uow.tickets.save(ticket)
            elif status in (OfficerStatus.BREAK, OfficerStatus.AVAILABLE) and any(
                t.state is TicketState.IN_SERVICE for t in held
            ):
                raise Refused("officer.serving", field="status")
            officer.set_status(status, now)
            uow.staff.save(officer)
            uow.commit()
            return officer

    return retrying(attempt)


@dataclass(frozen=True)
class QueueView:
    """The staff's view of the central queue: open tickets across locations and officers."""

    tickets: list[Ticket]
    officers: list[StaffMember]
    at: datetime


def contacts_of(ctx: QueueContext, officer_id: int) -> list[Ticket]:
    """The tickets an officer holds now: offered, in service, on hold or transferred to them."""
    with ctx.uow(read_only=True) as uow:
        return uow.tickets.held_by(officer_id)


def queue_view(ctx: QueueContext) -> QueueView:
    with ctx.uow(read_only=True) as uow:
        tickets = uow.tickets.open_tickets()
        officers = [m for m in uow.staff.list() if m.can_serve]
        return QueueView(tickets=tickets, officers=officers, at=ctx.clock.now())


# -- helpers --------------------------------------------------------------------------------


def _check_serves_one(uow: UnitOfWork, officer_id: int, ticket: Ticket) -> None:
    # One contact at a time: an officer cannot be in two video calls, so another contact
    # is taken up only after the one offered or in service is finished, held or handed on.
    for other in uow.tickets.held_by(officer_id):
        if other.id != ticket.id and other.state in (TicketState.OFFERED, TicketState.IN_SERVICE):
            raise Refused("officer.already_serving", ticket=other.number)


def _check_can_take(officer: StaffMember) -> None:
    if not officer.can_serve:
        raise Refused("staff.not_an_officer", username=officer.username)
    if officer.status not in (OfficerStatus.AVAILABLE, OfficerStatus.WRAP_UP):
        raise Refused("officer.not_available", status=officer.status.value)


def _officer_step(
    ctx: QueueContext, ticket_id: str, step: Callable[[Ticket, datetime], None]
) -> Ticket:
    return _ticket_step(ctx, ticket_id, lambda ticket, now, _uow: step(ticket, now))


def _ticket_step(
    ctx: QueueContext, ticket_id: str, step: Callable[[Ticket, datetime, UnitOfWork], None]
) -> Ticket:
    def attempt() -> Ticket:
        with ctx.uow() as uow:
            ticket = uow.tickets.get_for_update(ticket_id)
            step(ticket, ctx.clock.now(), uow)
            uow.tickets.save(ticket)
            uow.commit()
            return ticket

    return retrying(attempt)


def _audit(
    uow: UnitOfWork,
    staff_id: int,
    action: AuditAction,
    ticket: Ticket,
    at: datetime,
    **details: str | int | None,
) -> None:
    # Tickets hold no personal data yet; reports and calls (later) will mark theirs.
    uow.audit.record(
        AuditRecord(
            actor=f"staff:{staff_id}",
            action=action,
            subject_type="ticket",
            subject_id=ticket.id,
            at=at,
            details={"number": ticket.number, **details},
            personal_data=False,
        )
    )


def _id(value: int | None) -> int:
    if value is None:
        raise NotFound("location.unknown")
    return value


@dataclass(frozen=True)
class BoardTicket:
    """A ticket as an info screen shows it: number, service, language, state, no one's name.

    The ticket's id is left out on purpose: it is the citizen's key to follow or cancel it.
    """

    number: str
    service_code: str
    language: str
    state: str
    taken_at: datetime
    called_at: datetime | None


@dataclass(frozen=True)
class LocationBoard:
    """What an info screen shows: this desk's queue, who was called, and the other desks."""

    location_slug: str
    waiting: list[BoardTicket]
    called: list[BoardTicket]
    waiting_elsewhere: dict[str, int]


def location_board(ctx: QueueContext, slug: str, called: int = 5) -> LocationBoard:
    """The info screen's state. Errors: location.unknown."""
    with ctx.uow(read_only=True) as uow:
        location = uow.locations.by_slug(slug)
        assert location.id is not None
        open_tickets = uow.tickets.open_tickets()
        recent = uow.tickets.recently_called(location.id, called)
    elsewhere: dict[str, int] = {}
    for ticket in open_tickets:
        if ticket.location_id != location.id and ticket.state is TicketState.WAITING:
            elsewhere[ticket.location_code] = elsewhere.get(ticket.location_code, 0) + 1
    return LocationBoard(
        location_slug=slug,
        waiting=[
            _board(t)
            for t in open_tickets
            if t.location_id == location.id and t.state is TicketState.WAITING
        ],
        called=[_board(t) for t in recent],
        waiting_elsewhere=elsewhere,
    )


def _board(ticket: Ticket) -> BoardTicket:
    return BoardTicket(
        number=ticket.number,
        service_code=ticket.service_code,
        language=ticket.language,
        state=ticket.state.value,
        taken_at=ticket.taken_at,
        called_at=ticket.accepted_at,
    )
