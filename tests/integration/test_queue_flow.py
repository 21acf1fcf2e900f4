"""The central queue end to end through the services, on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest

from loket.domain.errors import NotFound, Refused
from loket.domain.tickets import Outcome, TicketState
from loket.services import queue
from tests.conftest import World, add_officer


def take(world: World, location: str = "houthalen-helchteren", **overrides: object):
    values = {"service_code": "contact.video", "language": "nl", "channel": "kiosk"}
    values.update(overrides)
    return queue.take_ticket(world.container.queue, location_slug=location, **values)  # type: ignore[arg-type]


def test_a_ticket_goes_from_taken_to_finished_and_numbers_count_per_desk(world: World) -> None:
    officer = add_officer(world, "an")
    first = take(world)
    second = take(world)
    other_desk = take(world, location="bree")
    assert (first.number, second.number, other_desk.number) == ("HH-001", "HH-002", "BRE-001")

    ctx = world.container.queue
    offered = queue.offer_next(ctx, officer)
    assert offered is not None and offered.id == first.id
    assert offered.state is TicketState.OFFERED
    called = queue.accept_ticket(ctx, officer, first.id, booth="2")
    assert called.state is TicketState.IN_SERVICE
    finished = queue.finish_ticket(ctx, officer, first.id, Outcome.INFORMED)
    assert finished.state is TicketState.FINISHED and finished.outcome is Outcome.INFORMED
    assert queue.ticket_status(ctx, second.id).position == 1


def test_asking_twice_for_the_next_ticket_returns_the_same_offer(world: World) -> None:
    officer = add_officer(world, "an")
    take(world)
    take(world)
    ctx = world.container.queue
    first = queue.offer_next(ctx, officer)
    again = queue.offer_next(ctx, officer)
    assert first is not None and again is not None and first.id == again.id


def test_an_unknown_location_is_refused_and_nothing_is_written(world: World) -> None:
    with pytest.raises(NotFound) as raised:
        take(world, location="nowhere")
    assert raised.value.code == "location.unknown"
    assert queue.queue_view(world.container.queue).tickets == []


def test_a_retried_take_with_the_same_key_returns_the_same_ticket(world: World) -> None:
    first = take(world, idempotency_key="abc-123")
    again = take(world, idempotency_key="abc-123")
    assert again.id == first.id
    assert len(queue.queue_view(world.container.queue).tickets) == 1


def test_an_offer_not_accepted_in_time_returns_to_the_head(world: World, clock) -> None:
    officer = add_officer(world, "an")
    first = take(world)
    clock.advance(seconds=5)
    take(world)
    ctx = world.container.queue
    assert queue.offer_next(ctx, officer).id == first.id  # type: ignore[union-attr]
    clock.advance(seconds=31)
    assert queue.release_expired(ctx) == 1
    back = queue.ticket_status(ctx, first.id)
    assert back.ticket.state is TicketState.WAITING and back.ticket.is_returned
    assert back.position == 1


def test_an_officer_cannot_finish_a_ticket_of_a_colleague(world: World) -> None:
    an = add_officer(world, "an")
    jan = add_officer(world, "jan")
    ticket = take(world)
    ctx = world.container.queue
    queue.offer_next(ctx, an)
    queue.accept_ticket(ctx, an, ticket.id)
    with pytest.raises(Refused) as raised:
        queue.finish_ticket(ctx, jan, ticket.id, Outcome.LISTENED)
    assert raised.value.code == "ticket.not_yours"


def test_an_officer_whose_contact_a_supervisor_moves_is_no_longer_busy(world: World) -> None:
    from loket.domain.staff import OfficerStatus, Role

    ctx = world.container.queue
    boss = add_officer(world, "sara", roles=frozenset({Role.SUPERVISOR}), status=None)
    an = add_officer(world, "an")
    bo = add_officer(world, "bo")

    def status(officer: int) -> OfficerStatus:
        with ctx.uow(read_only=True) as uow:
            return uow.staff.get(officer).status

    for to_officer in (bo, None):
        ticket = take(world)
        assert queue.offer_next(ctx, an) is not None
        queue.accept_ticket(ctx, an, ticket.id)
        assert status(an) is OfficerStatus.BUSY
        moved = queue.reassign_ticket(ctx, boss, ticket.id, to_officer_id=to_officer)
        assert moved.officer_id == to_officer
        assert status(an) is OfficerStatus.WRAP_UP
        queue.set_officer_status(ctx, an, OfficerStatus.AVAILABLE)
    # The colleague who got the first contact is not busy until they accept it.
    assert status(bo) is OfficerStatus.AVAILABLE


def test_the_virtual_agent_is_a_conversation_and_takes_no_ticket(world: World) -> None:
    from loket.domain.errors import Invalid

    with pytest.raises(Invalid) as refused:
        take(world, service_code="assistant")
    assert (refused.value.code, refused.value.field) == ("service.not_queued", "service")
    assert queue.queue_view(world.container.queue).tickets == []
