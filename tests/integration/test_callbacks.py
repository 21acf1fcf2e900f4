"""Callback requests end to end on real databases: booked, due, queued, called, retried."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from loket.adapters.db import schema as t
from loket.adapters.notify.outbox import OutboxNotifier
from loket.bootstrap import Container
from loket.domain.callbacks import CallbackOutcome, CallbackState
from loket.domain.errors import DomainError
from loket.domain.tickets import Outcome, TicketState
from loket.services import callbacks as service
from loket.services import queue
from tests.conftest import FakeClock, World, add_officer


def book(container: Container, *, mode: str = "phone", contact: str = "0470 12 34 56", **extra):  # type: ignore[no-untyped-def]
    slot = extra.pop("slot", None) or service.available_slots(container.callbacks)[0].start_at
    return service.request_callback(
        container.callbacks,
        booked_at=extra.pop("booked_at", "online"),
        mode=mode,
        language=extra.pop("language", "nl"),
        slot_start_at=slot,
        contact=contact,
        **extra,
    )


def tickets_of_service(container: Container) -> list[str]:
    return [
        ticket.id
        for ticket in queue.queue_view(container.queue).tickets
        if ticket.service_code == "contact.callback"
    ]


def audit_actions(container: Container, reference: str) -> list[str]:
    with container.engine.connect() as conn:
        rows = conn.execute(
            select(t.audit_log.c.action)
            .where(t.audit_log.c.subject_type == "callback", t.audit_log.c.subject_id == reference)
            .order_by(t.audit_log.c.sequence)
        )
        return [row[0] for row in rows]


def test_a_phone_callback_enters_the_queue_at_its_time_and_is_retried_after_no_answer(
    world: World, clock: FakeClock
) -> None:
    container = world.container
    officer = add_officer(world, "an")
    callback = book(container, idempotency_key="first-try")
    assert callback.phone == "+32470123456"
    assert callback.slot_start_at >= clock.now() + container.callbacks.policy.lead_time
    # A retried form post gets the same callback.
    assert (
        book(container, idempotency_key="first-try", slot=callback.slot_start_at).id == callback.id
    )

    assert service.release_due_callbacks(container.callbacks) == 0
    clock.current = callback.slot_start_at
    assert service.release_due_callbacks(container.callbacks) == 1
    assert service.release_due_callbacks(container.callbacks) == 0
    [ticket_id] = tickets_of_service(container)

    offered = queue.offer_next(container.queue, officer)
    assert offered is not None and offered.id == ticket_id
    assert offered.location_code == "WEB" and offered.channel == "phone"
    with pytest.raises(DomainError) as early:
        service.record_callback_outcome(
            container.callbacks, officer, ticket_id, CallbackOutcome.NO_ANSWER
        )
    assert early.value.code == "callback.not_in_service"
    queue.accept_ticket(container.queue, officer, ticket_id)
    seen = service.callback_for_contact(container.callbacks, officer, ticket_id)
    assert seen is not None and seen.callback.phone == "+32470123456"

    clock.advance(minutes=2)
    after = service.record_callback_outcome(
        container.callbacks, officer, ticket_id, CallbackOutcome.NO_ANSWER
    )
    # A double click records it once.
    again = service.record_callback_outcome(
        container.callbacks, officer, ticket_id, CallbackOutcome.NO_ANSWER
    )
    assert again.version == after.version
    assert after.state is CallbackState.SCHEDULED and after.attempts == 1
    assert after.due_at >= clock.now() + container.callbacks.policy.retry_after
    assert queue.ticket_status(container.queue, ticket_id).ticket.outcome is Outcome.NO_SHOW

    clock.current = after.due_at
    assert service.release_due_callbacks(container.callbacks) == 1
    [second] = tickets_of_service(container)
    assert second != ticket_id
    assert queue.offer_next(container.queue, officer) is not None
    queue.accept_ticket(container.queue, officer, second)
    reached = service.record_callback_outcome(
        container.callbacks, officer, second, CallbackOutcome.REACHED
    )
    assert reached.state is CallbackState.REACHED and reached.attempts == 2
    # Reached leaves the conversation going; the officer closes it with what it achieved.
    status = queue.ticket_status(container.queue, second)
    assert status.ticket.state is TicketState.IN_SERVICE
    queue.finish_ticket(container.queue, officer, second, Outcome.INFORMED)
    assert audit_actions(container, callback.reference) == [
        "create",
        "read",
        "update",
        "update",
    ]


def test_a_video_callback_sends_its_join_link_when_due(world: World, clock: FakeClock) -> None:
    container = world.container
    callback = book(container, mode="video", contact="an@example.be", language="fr")
    assert isinstance(container.callbacks.notifier, OutboxNotifier)
    assert container.callbacks.notifier.written() == []
    clock.current = callback.slot_start_at + timedelta(minutes=1)
    service.release_due_callbacks(container.callbacks)
    [ticket_id] = tickets_of_service(container)
    [mail] = container.callbacks.notifier.written()
    assert mail["recipient"] == "an@example.be"
    assert mail["kind"] == "callback.video_link"
    assert mail["language"] == "fr"
    assert f"/t/{ticket_id}?lang=fr" in str(mail["body"])
    assert callback.reference in str(mail["subject"])


def test_a_slot_holds_as_many_callbacks_as_its_capacity(world: World) -> None:
    container = world.container
    slot = service.available_slots(container.callbacks)[0].start_at
    for index in range(container.callbacks.policy.capacity):
        book(container, slot=slot, contact=f"0470 12 34 5{index}")
    assert slot not in [s.start_at for s in service.available_slots(container.callbacks)]
    with pytest.raises(DomainError) as full:
        book(container, slot=slot)
    assert (full.value.code, full.value.field) == ("slot.full", "slot")


def test_cancelling_a_queued_callback_cancels_its_ticket(world: World, clock: FakeClock) -> None:
    container = world.container
    callback = book(container)
    clock.current = callback.slot_start_at
    service.release_due_callbacks(container.callbacks)
    cancelled = service.cancel_callback(container.callbacks, callback.id)
    assert cancelled.state is CallbackState.CANCELLED
    assert service.cancel_callback(container.callbacks, callback.id).version == cancelled.version
    assert tickets_of_service(container) == []


def test_cancelling_a_scheduled_callback_frees_its_place(world: World) -> None:
    container = world.container
    slot = service.available_slots(container.callbacks)[0].start_at
    booked = [book(container, slot=slot) for _ in range(container.callbacks.policy.capacity)]
    service.cancel_callback(container.callbacks, booked[0].id)
    assert book(container, slot=slot).state is CallbackState.SCHEDULED


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"contact": "12"}, "callback.phone_invalid", "phone"),
        ({"mode": "video", "contact": "not an address"}, "callback.email_invalid", "email"),
        ({"mode": "fax"}, "callback.mode_invalid", "mode"),
        ({"language": "tr"}, "callback.language_not_offered", "language"),
    ],
)
def test_bad_input_is_refused_with_the_field_at_fault(
    world: World, changes: dict[str, str], code: str, field: str
) -> None:
    with pytest.raises(DomainError) as refused:
        book(world.container, **changes)
    assert (refused.value.code, refused.value.field) == (code, field)
