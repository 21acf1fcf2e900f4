"""Concurrent officers and citizens on one queue: every ticket handed out exactly once."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from sqlalchemy import func, select

from loket.adapters.db.schema import events, tickets
from loket.domain.errors import DomainError, Refused
from loket.domain.staff import OfficerStatus, Role
from loket.domain.tickets import Outcome, Ticket, TicketState
from loket.services import queue
from tests.conftest import World, add_officer

# A thread still running after this long is stuck (a lock never released), not slow.
JOIN_SECONDS = 30


def race(actions: list[Callable[[], Any]]) -> list[Any]:
    """Run every action in its own thread, released together; return results or exceptions."""
    barrier = threading.Barrier(len(actions))
    outcomes: list[Any] = [None] * len(actions)

    def run(index: int, action: Callable[[], Any]) -> None:
        barrier.wait(timeout=JOIN_SECONDS)
        try:
            outcomes[index] = action()
        except BaseException as error:
            outcomes[index] = error

    threads = [
        threading.Thread(target=run, args=(index, action), daemon=True)
        for index, action in enumerate(actions)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_SECONDS)
    assert not [thread for thread in threads if thread.is_alive()], "a thread is stuck"
    return outcomes


def errors_of(outcomes: list[Any]) -> list[BaseException]:
    return [outcome for outcome in outcomes if isinstance(outcome, BaseException)]


def take(world: World, location: str = "houthalen-helchteren", **overrides: Any) -> Ticket:
    values: dict[str, Any] = {"service_code": "contact.video", "language": "nl", "channel": "kiosk"}
    values.update(overrides)
    return queue.take_ticket(world.container.queue, location_slug=location, **values)


def event_counts(world: World) -> Counter[str]:
    with world.container.engine.connect() as conn:
        rows = conn.execute(select(events.c.type, func.count()).group_by(events.c.type))
        return Counter({kind: count for kind, count in rows})


def event_ticket_ids(world: World, kind: str) -> list[str]:
    with world.container.engine.connect() as conn:
        rows = conn.execute(select(events.c.payload).where(events.c.type == kind))
        return [payload["ticket"]["id"] for (payload,) in rows]


def stored_tickets(world: World) -> dict[str, Any]:
    with world.container.engine.connect() as conn:
        return {row.id: row for row in conn.execute(select(tickets))}


def in_service(world: World, officer: int) -> Ticket:
    """A fresh ticket offered to and accepted by `officer`."""
    ctx = world.container.queue
    ticket = take(world)
    offered = queue.offer_next(ctx, officer)
    assert offered is not None and offered.id == ticket.id
    return queue.accept_ticket(ctx, officer, ticket.id)


# -- officers racing for tickets ------------------------------------------------------------


@pytest.mark.parametrize("keeps_serving", [False, True], ids=["finish-and-next", "serve-one"])
def test_twenty_officers_racing_for_ten_tickets_get_each_ticket_exactly_once(
    world: World, keeps_serving: bool
) -> None:
    officers = [add_officer(world, f"officer{n:02d}") for n in range(20)]
    desks = [("houthalen-helchteren", "nl"), ("bree", "fr"), ("peer", "en")]
    taken = {take(world, desks[n % 3][0], language=desks[n % 3][1]).id for n in range(10)}
    ctx = world.container.queue

    def serve(officer: int) -> list[str]:
        served: list[str] = []
        while True:
            offered = queue.offer_next(ctx, officer)
            if offered is None:
                return served
            called = queue.accept_ticket(ctx, officer, offered.id, booth="1")
            assert called.id == offered.id and called.officer_id == officer
            # While serving, this officer holds this one ticket and nothing else.
            assert [t.id for t in queue.contacts_of(ctx, officer)] == [offered.id]
            served.append(offered.id)
            if keeps_serving:
                return served
            queue.finish_ticket(ctx, officer, offered.id, Outcome.INFORMED)

    outcomes = race([partial(serve, officer) for officer in officers])

    assert errors_of(outcomes) == []
    handed_out = [ticket_id for served in outcomes for ticket_id in served]
    assert sorted(handed_out) == sorted(taken), "a ticket went to two officers or was lost"
    rows = stored_tickets(world)
    assert set(rows) == taken
    if keeps_serving:
        assert {row.state for row in rows.values()} == {TicketState.IN_SERVICE.value}
        holders = Counter(row.officer_id for row in rows.values())
        assert len(holders) == 10 and max(holders.values()) == 1
        assert all(len(served) <= 1 for served in outcomes)
    else:
        assert {row.state for row in rows.values()} == {TicketState.FINISHED.value}
    served_by = {ticket_id: n for n, served in enumerate(outcomes) for ticket_id in served}
    assert {row.id: officers.index(row.officer_id) for row in rows.values()} == served_by

    counts = event_counts(world)
    assert counts["ticket.taken"] == 10
    assert counts["ticket.offered"] == 10
    assert counts["ticket.called"] == 10
    assert counts["ticket.returned"] == 0
    assert counts["ticket.finished"] == (0 if keeps_serving else 10)
    assert sorted(event_ticket_ids(world, "ticket.offered")) == sorted(taken)
    assert sorted(event_ticket_ids(world, "ticket.called")) == sorted(taken)


def test_an_officer_asking_for_the_next_ticket_from_many_tabs_gets_one_offer(
    world: World,
) -> None:
    officer = add_officer(world, "an")
    for _ in range(3):
        take(world)
    ctx = world.container.queue

    outcomes = race([partial(queue.offer_next, ctx, officer) for _ in range(8)])

    assert errors_of(outcomes) == []
    assert len({ticket.id for ticket in outcomes}) == 1
    assert event_counts(world)["ticket.offered"] == 1
    assert len(queue.contacts_of(ctx, officer)) == 1


# -- citizens taking tickets ----------------------------------------------------------------


def test_ten_citizens_at_one_desk_at_once_get_ten_consecutive_numbers(world: World) -> None:
    outcomes = race([partial(take, world) for _ in range(10)])

    assert errors_of(outcomes) == []
    numbers = [ticket.number for ticket in outcomes]
    assert sorted(numbers) == [f"HH-{n:03d}" for n in range(1, 11)]
    # The queue's order (by id) is the order of the numbers: first number, first served.
    by_id = sorted(outcomes, key=lambda ticket: ticket.id)
    assert [ticket.number for ticket in by_id] == sorted(numbers)
    assert len(stored_tickets(world)) == 10
    assert event_counts(world)["ticket.taken"] == 10
    assert take(world, "bree").number == "BRE-001"


@pytest.mark.parametrize("round_", range(3))
def test_a_take_submitted_five_times_at_once_with_one_key_yields_one_ticket(
    world: World, round_: int
) -> None:
    key = f"double-submit-{round_}"
    outcomes = race([partial(take, world, idempotency_key=key) for _ in range(5)])

    assert errors_of(outcomes) == []
    assert len({ticket.id for ticket in outcomes}) == 1
    assert {ticket.number for ticket in outcomes} == {"HH-001"}
    assert len(stored_tickets(world)) == 1
    assert event_counts(world)["ticket.taken"] == 1
    # The next citizen gets the next number: the losing attempts left no gap.
    assert take(world).number == "HH-002"


# -- two hands on one contact ---------------------------------------------------------------


def test_finishing_one_contact_twice_at_once_with_two_outcomes_lets_one_win(
    world: World,
) -> None:
    an = add_officer(world, "an")
    ticket = in_service(world, an)
    ctx = world.container.queue

    outcomes = race(
        [
            partial(queue.finish_ticket, ctx, an, ticket.id, Outcome.INFORMED),
            partial(queue.finish_ticket, ctx, an, ticket.id, Outcome.REFERRED),
        ]
    )

    (won,) = [o for o in outcomes if isinstance(o, Ticket)]
    (lost,) = errors_of(outcomes)
    assert isinstance(lost, Refused) and lost.code == "ticket.illegal_transition"
    stored = queue.ticket_status(ctx, ticket.id).ticket
    assert stored.state is TicketState.FINISHED and stored.outcome is won.outcome
    assert event_counts(world)["ticket.finished"] == 1


# Each case: the two requests that meet on one contact in service with "an". The loser
# sees the winner's result: the contact is closed (illegal transition) or no longer theirs.
TWO_HANDS = {
    "finish-vs-transfer": (
        lambda ctx, p: queue.finish_ticket(ctx, p["an"], p["ticket"], Outcome.LISTENED),
        lambda ctx, p: queue.transfer_ticket(ctx, p["an"], p["ticket"], to_officer_id=p["jan"]),
    ),
    "transfer-to-two-colleagues": (
        lambda ctx, p: queue.transfer_ticket(ctx, p["an"], p["ticket"], to_officer_id=p["jan"]),
        lambda ctx, p: queue.transfer_ticket(ctx, p["an"], p["ticket"], to_officer_id=p["piet"]),
    ),
    "finish-vs-back-to-queue": (
        lambda ctx, p: queue.finish_ticket(ctx, p["an"], p["ticket"], Outcome.MEDIATED),
        lambda ctx, p: queue.transfer_ticket(
            ctx, p["an"], p["ticket"], to_officer_id=None, note="needs French"
        ),
    ),
    "finish-vs-supervisor-reassigns": (
        lambda ctx, p: queue.finish_ticket(ctx, p["an"], p["ticket"], Outcome.REPORT_TAKEN),
        lambda ctx, p: queue.reassign_ticket(ctx, p["boss"], p["ticket"], to_officer_id=p["jan"]),
    ),
}


@pytest.mark.parametrize("case", sorted(TWO_HANDS))
def test_two_hands_on_one_contact_at_once_let_exactly_one_win(world: World, case: str) -> None:
    people = {name: add_officer(world, name) for name in ("an", "jan", "piet")}
    people["boss"] = add_officer(world, "boss", roles=frozenset({Role.SUPERVISOR}), status=None)
    ctx = world.container.queue
    first, second = TWO_HANDS[case]

    # A few rounds, each on a fresh contact, to give both interleavings a chance.
    for _ in range(3):
        queue.set_officer_status(ctx, people["an"], OfficerStatus.AVAILABLE)
        ticket = in_service(world, people["an"])
        params = {**people, "ticket": ticket.id}
        before = event_counts(world)

        outcomes = race([partial(first, ctx, params), partial(second, ctx, params)])

        winners = [o for o in outcomes if isinstance(o, Ticket)]
        losers = errors_of(outcomes)
        assert len(winners) == 1 and len(losers) == 1, outcomes
        (loser,) = losers
        assert isinstance(loser, Refused), repr(loser)
        assert loser.code in {"ticket.illegal_transition", "ticket.not_yours"}
        stored = queue.ticket_status(ctx, ticket.id).ticket
        assert stored.state is winners[0].state
        assert stored.officer_id == winners[0].officer_id
        after = event_counts(world)
        moves = ("ticket.finished", "ticket.transferred", "ticket.returned", "ticket.offered")
        assert sum(after[kind] - before[kind] for kind in moves) == 1
        # Clear the contact away, so the next round's offer is a fresh ticket.
        if stored.state is TicketState.TRANSFERRED:
            assert stored.officer_id is not None
            queue.transfer_ticket(ctx, stored.officer_id, stored.id, to_officer_id=None)
        if queue.ticket_status(ctx, ticket.id).ticket.state is TicketState.WAITING:
            queue.cancel_ticket(ctx, ticket.id)


def test_an_officer_going_offline_while_finishing_either_finishes_or_hands_back(
    world: World,
) -> None:
    an = add_officer(world, "an")
    ctx = world.container.queue

    # Rounds, because a deadlock between the two needs an unlucky interleaving (it took
    # about one in twenty before finish_ticket locked the officer first, as offline does).
    for _ in range(10):
        queue.set_officer_status(ctx, an, OfficerStatus.AVAILABLE)
        ticket = in_service(world, an)

        finished, offline = race(
            [
                partial(queue.finish_ticket, ctx, an, ticket.id, Outcome.INFORMED),
                partial(queue.set_officer_status, ctx, an, OfficerStatus.OFFLINE),
            ]
        )

        assert not isinstance(offline, BaseException), repr(offline)
        stored = queue.ticket_status(ctx, ticket.id).ticket
        if isinstance(finished, BaseException):
            assert isinstance(finished, DomainError), repr(finished)
            assert finished.code == "ticket.not_yours"
            assert stored.state is TicketState.WAITING and stored.is_returned
            queue.cancel_ticket(ctx, ticket.id)
        else:
            assert stored.state is TicketState.FINISHED and stored.outcome is Outcome.INFORMED
        assert queue.contacts_of(ctx, an) == []


def test_an_officer_finishing_while_the_console_renews_its_leases_never_deadlocks(
    world: World,
) -> None:
    an = add_officer(world, "an")
    ctx = world.container.queue

    # An officer with one contact on hold and one in service: both requests lock both, so
    # they must lock in the same order (the officer first).
    for _ in range(10):
        queue.set_officer_status(ctx, an, OfficerStatus.AVAILABLE)
        waiting = in_service(world, an)
        queue.hold_ticket(ctx, an, waiting.id)
        queue.set_officer_status(ctx, an, OfficerStatus.AVAILABLE)
        serving = in_service(world, an)

        finished, renewed = race(
            [
                partial(queue.finish_ticket, ctx, an, serving.id, Outcome.INFORMED),
                partial(queue.renew_leases, ctx, an),
            ]
        )

        assert errors_of([finished, renewed]) == []
        assert renewed in (1, 2)
        assert finished.state is TicketState.FINISHED
        queue.finish_ticket(ctx, an, waiting.id, Outcome.LISTENED)
        assert queue.contacts_of(ctx, an) == []
