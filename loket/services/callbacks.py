"""Callback requests: booking a slot, releasing due callbacks into the queue, their outcomes."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from loket.domain.audit import AuditAction, AuditRecord
from loket.domain.callbacks import (
    SLOT_LENGTH,
    Callback,
    CallbackMode,
    CallbackOutcome,
    CallbackPolicy,
    CallbackState,
    Slot,
    bookable_slots,
    check_slot,
    count_by_slot,
    next_slot_after,
)
from loket.domain.catalogue import Channel
from loket.domain.errors import Invalid, NotFound, Refused
from loket.domain.i18n import N_
from loket.domain.locations import Location, LocationKind
from loket.domain.staff import OfficerStatus
from loket.domain.tickets import Outcome, QueuePolicy, Ticket, TicketState
from loket.services.ports import Clock, Notification, Notifier, UnitOfWork, UnitOfWorkFactory
from loket.services.queue import MAX_IDEMPOTENCY_KEY, retrying

log = logging.getLogger(__name__)

SERVICE_CODE = "contact.callback"
# A callback was promised for a time: its ticket ranks as if it had waited one priority
# step, so walk-ins taken a moment earlier do not make the officer call late.
CALLBACK_PRIORITY = 1

VIDEO_SUBJECT = N_("Your video call with the police: %(reference)s")
VIDEO_BODY = N_(
    "Hello,\n\nYou asked the police to call you back by video (reference %(reference)s).\n"
    "An officer is ready for you now. Open this link to join the call:\n\n%(link)s\n\n"
    "The page shows your place in the queue until the officer calls you.\n"
    "If you did not ask for this, you can ignore this e-mail."
)


@dataclass(frozen=True)
class CallbackContext:
    """What callback use cases need: transactions, the time, the rules and the notifier."""

    uow: UnitOfWorkFactory
    clock: Clock
    queue_policy: QueuePolicy
    policy: CallbackPolicy
    notifier: Notifier
    # Where citizens open the site (join links in e-mails): scheme, host and port.
    public_url: str


@dataclass(frozen=True)
class OfficerCallback:
    """A callback as the officer serving its ticket sees it, number or address included."""

    callback: Callback
    location: Location


# -- citizen side ---------------------------------------------------------------------------


def back_office(ctx: CallbackContext) -> Location:
    """The desk that serves callbacks (the online desk). Errors: callback.unavailable."""
    with ctx.uow(read_only=True) as uow:
        return _back_office(uow)


def available_slots(
    ctx: CallbackContext, *, start: datetime | None = None, end: datetime | None = None
) -> list[Slot]:
    """Free slots in the back office's hours from now + lead time, within [start, end).

    Errors: callback.unavailable.
    """
    with ctx.uow(read_only=True) as uow:
        location = _back_office(uow)
        now = ctx.clock.now()
        booked = count_by_slot(uow.callbacks.booked_starts(now, now + _horizon(ctx)))
    return bookable_slots(location, now, ctx.policy, booked, start=start, end=end)


def request_callback(
    ctx: CallbackContext,
    *,
    booked_at: str,
    mode: str,
    language: str,
    slot_start_at: datetime,
    contact: str,
    idempotency_key: str | None = None,
) -> Callback:
    """Book a callback at a free slot; `contact` is the phone number or e-mail address.

    `booked_at` is the slug of the desk where the citizen asked (its country reads local
    phone numbers). A retry with the same idempotency key returns the first callback.
    Errors: location.unknown, location.service_not_offered, callback.unavailable,
    callback.mode_invalid, callback.language_not_offered, callback.phone_invalid,
    callback.email_invalid, slot.past, slot.too_far, slot.outside_hours, slot.full,
    idempotency.invalid_key, idempotency.key_reused.
    Events: CallbackRequested.
    """
    if idempotency_key is not None and not 0 < len(idempotency_key) <= MAX_IDEMPOTENCY_KEY:
        raise Invalid("idempotency.invalid_key", field="Idempotency-Key")
    chosen_mode = parse_mode(mode)

    def attempt() -> Callback:
        with ctx.uow() as uow:
            if idempotency_key is not None:
                earlier = uow.callbacks.by_idempotency_key(idempotency_key)
                if earlier is not None:
                    if earlier.mode is not chosen_mode or earlier.slot_start_at != slot_start_at:
                        raise Refused("idempotency.key_reused", field="Idempotency-Key")
                    return earlier
            desk = uow.locations.by_slug(booked_at)
            if not desk.is_active or not desk.offers(SERVICE_CODE):
                raise Refused("location.service_not_offered", field="service")
            location = _back_office(uow)
            now = ctx.clock.now()
            uow.callbacks.lock_slots()
            taken = count_by_slot(
                uow.callbacks.booked_starts(slot_start_at, slot_start_at + SLOT_LENGTH)
            ).get(slot_start_at, 0)
            slot = check_slot(location, slot_start_at, now, ctx.policy, taken)
            callback = Callback.request(
                mode=chosen_mode,
                language=language,
                location=location,
                slot=slot,
                contact=contact,
                country=desk.country,
                at=now,
                idempotency_key=idempotency_key,
            )
            uow.callbacks.add(callback)
            _audit(uow, "citizen", AuditAction.CREATE, callback, now, desk=desk.code)
            uow.commit()
            return callback

    return retrying(attempt)


def get_callback(ctx: CallbackContext, callback_id: str) -> Callback:
    """The citizen's own callback, by the key of its page. Errors: callback.unknown."""
    with ctx.uow(read_only=True) as uow:
        return uow.callbacks.get(callback_id)


def cancel_callback(ctx: CallbackContext, callback_id: str) -> Callback:
    """The citizen calls it off; a ticket already in the queue is cancelled with it.

    Cancelling a cancelled callback returns it (a double click).
    Errors: callback.unknown, callback.illegal_transition, ticket.illegal_transition (an
    officer is already calling).
    Events: CallbackCancelled, TicketCancelled.
    """

    def attempt() -> Callback:
        with ctx.uow() as uow:
            callback = uow.callbacks.get_for_update(callback_id)
            if callback.state is CallbackState.CANCELLED:
                return callback
            now = ctx.clock.now()
            if callback.state is CallbackState.QUEUED and callback.ticket_id is not None:
                ticket = uow.tickets.get_for_update(callback.ticket_id)
                ticket.cancel(now)
                uow.tickets.save(ticket)
            callback.cancel(now)
            uow.callbacks.save(callback)
            _audit(uow, "citizen", AuditAction.UPDATE, callback, now, step="cancel")
            uow.commit()
            return callback

    return retrying(attempt)


# -- the back office ------------------------------------------------------------------------


def release_due_callbacks(ctx: CallbackContext, batch: int = 50) -> int:
    """Turn every callback whose time has come into a ticket in the central queue.

    Safe on every node at once: each due callback is locked and released once. Video
    callbacks get their join link through the notifier after the commit; a failed send
    is logged and does not undo the release.
    Events: CallbackQueued, TicketTaken.
    """
    with ctx.uow() as uow:
        now = ctx.clock.now()
        due = uow.callbacks.due(now, batch)
        if not due:
            return 0
        location = _back_office(uow)
        location_id = _location_id(location)
        for callback in due:
            ticket = Ticket.take(
                location_id=location_id,
                location_code=location.code,
                sequence=uow.tickets.next_sequence(location_id, location.local_date(now)),
                service_code=SERVICE_CODE,
                language=callback.language,
                channel=(
                    Channel.PHONE.value
                    if callback.mode is CallbackMode.PHONE
                    else Channel.HOME.value
                ),
                priority=CALLBACK_PRIORITY,
                at=now,
                policy=ctx.queue_policy,
            )
            uow.tickets.add(ticket)
            callback.release(ticket.id, now)
            uow.callbacks.save(callback)
        uow.commit()
    for callback in due:
        if callback.mode is CallbackMode.VIDEO:
            _send_join_link(ctx, callback)
    return len(due)


def callback_for_contact(
    ctx: CallbackContext, officer_id: int, ticket_id: str
) -> OfficerCallback | None:
    """The callback behind a contact the officer holds, with the number to dial.

    None when the ticket is not a callback's. Reading the number or address is an audited
    read of personal data. Errors: ticket.unknown, ticket.not_yours.
    """
    with ctx.uow() as uow:
        ticket = uow.tickets.get(ticket_id)
        if ticket.service_code != SERVICE_CODE:
            return None
        if ticket.officer_id != officer_id:
            raise Refused("ticket.not_yours", ticket=ticket.number)
        callback = uow.callbacks.by_ticket_for_update(ticket_id)
        if callback is None:
            return None
        location = uow.locations.get(callback.location_id)
        _audit(uow, f"staff:{officer_id}", AuditAction.READ, callback, ctx.clock.now())
        uow.commit()
        return OfficerCallback(callback=callback, location=location)


def record_callback_outcome(
    ctx: CallbackContext, officer_id: int, ticket_id: str, outcome: CallbackOutcome
) -> Callback:
    """The officer tried to call: reached, or no answer.

    Reached marks the callback done and leaves the contact in service: the officer then
    finishes it with what the conversation achieved, as any contact. No answer finishes
    the ticket as "did not show up" and books the next attempt (the first slot after the
    retry delay), or marks the callback failed after the last attempt.
    Recording the outcome already recorded returns the callback (a double click).
    Errors: ticket.unknown, ticket.not_yours, callback.unknown, callback.not_in_service,
    callback.illegal_transition.
    Events: CallbackReached | CallbackRescheduled | CallbackFailed, TicketFinished,
    OfficerStatusChanged.
    """

    def attempt() -> Callback:
        with ctx.uow() as uow:
            # Officer before ticket: the lock order of the queue's use cases.
            officer = uow.staff.get_for_update(officer_id)
            ticket = uow.tickets.get_for_update(ticket_id)
            callback = uow.callbacks.by_ticket_for_update(ticket_id)
            if callback is None:
                raise NotFound("callback.unknown")
            if _already_recorded(callback, ticket, outcome):
                return callback
            if ticket.officer_id != officer_id:
                raise Refused("ticket.not_yours", ticket=ticket.number)
            if ticket.state is not TicketState.IN_SERVICE:
                raise Refused("callback.not_in_service", ticket=ticket.number)
            now = ctx.clock.now()
            retry_at = None
            if outcome is CallbackOutcome.NO_ANSWER:
                ticket.finish(officer_id, Outcome.NO_SHOW, now)
                uow.tickets.save(ticket)
                officer.set_status(OfficerStatus.WRAP_UP, now)
                uow.staff.save(officer)
                location = uow.locations.get(callback.location_id)
                retry_at = _retry_at(ctx, location, now)
            callback.record_outcome(outcome, now, ctx.policy, retry_at)
            uow.callbacks.save(callback)
            _audit(
                uow,
                f"staff:{officer_id}",
                AuditAction.UPDATE,
                callback,
                now,
                outcome=outcome.value,
                attempts=callback.attempts,
            )
            uow.commit()
            return callback

    return retrying(attempt)


def parse_mode(value: str) -> CallbackMode:
    try:
        return CallbackMode(value)
    except ValueError:
        raise Invalid("callback.mode_invalid", field="mode") from None


def parse_outcome(value: str) -> CallbackOutcome:
    try:
        return CallbackOutcome(value)
    except ValueError:
        raise Invalid("callback.outcome_invalid", field="outcome") from None


# -- helpers --------------------------------------------------------------------------------


def _back_office(uow: UnitOfWork) -> Location:
    # The online desk stands for the back office: its hours are the hours officers call in.
    for location in uow.locations.list():
        if (
            location.kind is LocationKind.ONLINE
            and location.is_active
            and location.offers(SERVICE_CODE)
        ):
            return location
    raise Refused("callback.unavailable")


def _horizon(ctx: CallbackContext) -> timedelta:
    return timedelta(days=ctx.policy.days_ahead) + SLOT_LENGTH


def _retry_at(ctx: CallbackContext, location: Location, now: datetime) -> datetime | None:
    slot = next_slot_after(location, now + ctx.policy.retry_after, ctx.policy)
    return None if slot is None else slot.start_at


def _already_recorded(callback: Callback, ticket: Ticket, outcome: CallbackOutcome) -> bool:
    if outcome is CallbackOutcome.REACHED:
        return callback.state is CallbackState.REACHED
    # After no answer the ticket is closed and the callback moved on (or a new ticket).
    return ticket.outcome is Outcome.NO_SHOW and callback.ticket_id == ticket.id


def _send_join_link(ctx: CallbackContext, callback: Callback) -> None:
    assert callback.email is not None and callback.ticket_id is not None
    link = f"{ctx.public_url.rstrip('/')}/t/{callback.ticket_id}?lang={callback.language}"
    message = Notification(
        kind="callback.video_link",
        to=callback.email,
        language=callback.language,
        subject=VIDEO_SUBJECT,
        body=VIDEO_BODY,
        params={"reference": callback.reference, "link": link},
    )
    try:
        ctx.notifier.send(message)
    except Exception:
        # The ticket is in the queue either way; the officer sees the address to write to.
        log.exception("sending the join link of callback %s failed", callback.reference)


def _audit(
    uow: UnitOfWork,
    actor: str,
    action: AuditAction,
    callback: Callback,
    at: datetime,
    **details: str | int | None,
) -> None:
    uow.audit.record(
        AuditRecord(
            actor=actor,
            action=action,
            subject_type="callback",
            subject_id=callback.reference,
            at=at,
            details={"mode": callback.mode.value, **details},
            personal_data=True,
        )
    )


def _location_id(location: Location) -> int:
    if location.id is None:
        raise NotFound("location.unknown")
    return location.id
