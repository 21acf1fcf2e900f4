"""The supervisor's board: desk loads and the service level, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from loket.domain.staff import OfficerStatus
from loket.domain.tickets import Outcome, Ticket
from loket.services import board, queue
from tests.conftest import OPEN_HOURS, FakeClock, World, add_officer


def take(world: World, location: str = "bree") -> Ticket:
    return queue.take_ticket(
        world.container.queue,
        location_slug=location,
        service_code="contact.video",
        language="nl",
        channel="kiosk",
    )


def serve(world: World, officer: int, expected: Ticket) -> None:
    """The officer takes the next ticket (which must be `expected`) and finishes it."""
    ctx = world.container.queue
    offered = queue.offer_next(ctx, officer)
    assert offered is not None and offered.id == expected.id
    queue.accept_ticket(ctx, officer, expected.id)
    queue.finish_ticket(ctx, officer, expected.id, Outcome.INFORMED)


def test_the_service_level_counts_calls_within_the_target_over_the_last_day(
    world: World, clock: FakeClock
) -> None:
    an = add_officer(world, "an")
    ctx = world.container.queue
    # Minutes after OPEN_HOURS at which each ticket was taken, called or given up.
    taken: dict[str, int] = {}
    called: dict[str, int] = {}
    cancelled: dict[str, int] = {}

    def at(minute: int) -> None:
        clock.current = OPEN_HOURS + timedelta(minutes=minute)

    # Taken 25 hours ago and called late: outside the window, it counts for nothing.
    at(-25 * 60)
    old = take(world, "genk-politiehuis")
    at(-25 * 60 + 20)
    serve(world, an, old)

    at(0)
    a = take(world)
    taken["a"] = 0
    at(2)
    serve(world, an, a)
    called["a"] = 2
    b = take(world)
    taken["b"] = 2
    at(5)
    take(world)  # f: never called
    taken["f"] = 5
    at(17)
    serve(world, an, b)
    called["b"] = 17
    c = take(world)
    d = take(world)
    taken["c"] = taken["d"] = 17
    at(18)
    queue.cancel_ticket(ctx, c.id)
    cancelled["c"] = 18
    at(25)
    take(world)  # e: still within the target at the end
    taken["e"] = 25
    at(30)
    queue.cancel_ticket(ctx, d.id)
    cancelled["d"] = 30
    now = 30

    for target in (10, 20):
        met = sum(1 for name, minute in called.items() if minute - taken[name] <= target)
        late_calls = len(called) - met
        late_leavers = sum(1 for name, minute in cancelled.items() if minute - taken[name] > target)
        open_names = set(taken) - set(called) - set(cancelled)
        overdue = sum(1 for name in open_names if now - taken[name] > target)
        pending = len(open_names) - overdue

        level = board.supervisor_board(ctx, timedelta(minutes=target)).service_level
        assert (level.met, level.counted, level.pending) == (
            met,
            met + late_calls + late_leavers + overdue,
            pending,
        )
    # Spelled out for the default target of 10 minutes: a met; b, d and f missed; e pending.
    level = board.supervisor_board(ctx).service_level
    assert (level.met, level.counted, level.pending, level.percent) == (1, 4, 1, 25)


def test_each_desk_shows_who_waits_for_a_call_who_is_in_contact_and_the_longest_wait(
    world: World, clock: FakeClock
) -> None:
    an = add_officer(world, "an")
    ctx = world.container.queue
    first = take(world, "bree")
    clock.advance(minutes=3)
    take(world, "bree")
    take(world, "genk-politiehuis")
    clock.advance(minutes=4)
    queue.offer_next(ctx, an)  # an offer is not a call: `first` still waits
    loads = {load.code: load for load in board.supervisor_board(ctx).locations}
    assert (loads["BRE"].waiting, loads["BRE"].in_contact) == (2, 0)
    assert loads["BRE"].oldest_taken_at == first.taken_at
    assert loads["BRE"].longest_wait(clock.now()) == timedelta(minutes=7)
    assert loads["GNK"].waiting == 1 and loads["GNK"].longest_wait(clock.now()) == timedelta(
        minutes=4
    )
    assert loads["HH"].waiting == 0 and loads["HH"].longest_wait(clock.now()) is None

    queue.accept_ticket(ctx, an, first.id)
    shown = board.supervisor_board(ctx)
    loads = {load.code: load for load in shown.locations}
    assert (loads["BRE"].waiting, loads["BRE"].in_contact) == (1, 1)
    assert [t.number for t in shown.contacts[an]] == [first.number]
    officers = {o.username: o for o in shown.officers}
    assert officers["an"].status is OfficerStatus.BUSY


def test_a_called_ticket_that_returns_to_the_queue_keeps_its_first_call() -> None:
    start = OPEN_HOURS
    verdict = board.call_verdict(
        taken_at=start,
        called_at=start + timedelta(minutes=3),
        closed_at=None,
        now=start + timedelta(hours=2),
        target=timedelta(minutes=10),
    )
    assert verdict is board.Verdict.MET


def test_a_citizen_who_leaves_early_is_not_counted_and_one_who_waited_too_long_is() -> None:
    start = OPEN_HOURS
    target = timedelta(minutes=10)
    early = board.call_verdict(
        taken_at=start,
        called_at=None,
        closed_at=start + timedelta(minutes=2),
        now=start + timedelta(hours=1),
        target=target,
    )
    late = board.call_verdict(
        taken_at=start,
        called_at=None,
        closed_at=start + timedelta(minutes=11),
        now=start + timedelta(hours=1),
        target=target,
    )
    assert (early, late) == (board.Verdict.EXCLUDED, board.Verdict.MISSED)


def test_without_counted_tickets_the_service_level_has_no_share() -> None:
    level = board.service_level([], OPEN_HOURS)
    assert level.share is None and level.percent is None and level.counted == 0
