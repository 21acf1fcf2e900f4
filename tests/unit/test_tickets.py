"""The ticket state machine, ranking and numbering, on plain domain objects (no database)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from loket.domain.errors import Invalid, Refused
from loket.domain.tickets import (
    CLOSED_STATES,
    HELD_STATES,
    MAX_PRIORITY,
    TRANSITIONS,
    Outcome,
    QueuePolicy,
    Step,
    Ticket,
    TicketState,
    new_ticket_id,
    ticket_number,
)

AT = datetime(2027, 1, 12, 9, 0, tzinfo=UTC)
POLICY = QueuePolicy()
HOLDER = 7
COLLEAGUE = 8

# What each step calls, as the holder of the ticket, so that only the table decides.
STEPS: dict[Step, Callable[[Ticket, datetime], None]] = {
    Step.OFFER: lambda t, at: t.offer_to(COLLEAGUE, at, POLICY),
    Step.ACCEPT: lambda t, at: t.accept(HOLDER, at, POLICY, booth="2"),
    Step.RETURN: lambda t, at: t.return_to_queue(at, POLICY, reason="test"),
    Step.HOLD: lambda t, at: t.hold(HOLDER, at, POLICY),
    Step.RESUME: lambda t, at: t.resume(HOLDER, at, POLICY),
    Step.TRANSFER: lambda t, at: t.transfer_to(COLLEAGUE, at, POLICY, note="over to you"),
    Step.FINISH: lambda t, at: t.finish(HOLDER, Outcome.INFORMED, at),
    Step.NO_SHOW: lambda t, at: t.finish(HOLDER, Outcome.NO_SHOW, at),
    Step.CANCEL: lambda t, at: t.cancel(at),
}

EVENT_TYPES = {
    Step.OFFER: "ticket.offered",
    Step.ACCEPT: "ticket.called",
    Step.RETURN: "ticket.returned",
    Step.HOLD: "ticket.held",
    Step.RESUME: "ticket.resumed",
    Step.TRANSFER: "ticket.transferred",
    Step.FINISH: "ticket.finished",
    Step.NO_SHOW: "ticket.finished",
    Step.CANCEL: "ticket.cancelled",
}

ALL_PAIRS = list(itertools.product(TicketState, Step))
ILLEGAL = [pair for pair in ALL_PAIRS if pair not in TRANSITIONS]
LEGAL = sorted(TRANSITIONS.items())


def make_ticket(**overrides: object) -> Ticket:
    """A waiting ticket taken at AT; overrides set any field (state, officer_id, …) directly."""
    values: dict[str, object] = {
        "location_id": 1,
        "location_code": "HH",
        "sequence": 14,
        "service_code": "contact.video",
        "language": "nl",
        "channel": "kiosk",
        "priority": 0,
        "at": AT,
        "policy": POLICY,
    }
    fields = {key: overrides.pop(key) for key in list(overrides) if key not in values}
    values.update(overrides)
    ticket = Ticket.take(**values)  # type: ignore[arg-type]
    ticket.events.clear()
    for name, value in fields.items():
        setattr(ticket, name, value)
    return ticket


def in_state(state: TicketState) -> Ticket:
    # The holder is set even on a waiting ticket, so that only the table decides a step.
    return make_ticket(state=state, officer_id=HOLDER)


def queue_order(tickets: list[Ticket]) -> list[Ticket]:
    """The order the hand-out uses (see SqlTicketRepository.claim_next)."""
    return sorted(tickets, key=lambda t: (t.rank_at, t.taken_at, t.id))


def test_the_table_covers_every_step_and_leaves_closed_states_closed() -> None:
    assert {step for _, step in TRANSITIONS} == set(Step)
    assert not [pair for pair in TRANSITIONS if pair[0] in CLOSED_STATES]
    assert len(ILLEGAL) + len(TRANSITIONS) == len(TicketState) * len(Step)


@pytest.mark.parametrize(("state", "step"), ILLEGAL, ids=[f"{s}-{p}" for s, p in ILLEGAL])
def test_a_step_not_in_the_table_is_refused_and_changes_nothing(
    state: TicketState, step: Step
) -> None:
    ticket = in_state(state)
    before = (ticket.state, ticket.officer_id, ticket.changed_at, ticket.lease_expires_at)
    with pytest.raises(Refused) as raised:
        STEPS[step](ticket, AT + timedelta(minutes=1))
    assert raised.value.code == "ticket.illegal_transition"
    assert raised.value.params == {"ticket": "HH-014", "state": state.value, "step": step.value}
    assert (ticket.state, ticket.officer_id, ticket.changed_at, ticket.lease_expires_at) == before
    assert ticket.events == []


@pytest.mark.parametrize(("pair", "target"), LEGAL, ids=[f"{s}-{p}-{t}" for (s, p), t in LEGAL])
def test_a_step_in_the_table_moves_to_its_target_and_records_one_event(
    pair: tuple[TicketState, Step], target: TicketState
) -> None:
    state, step = pair
    ticket = in_state(state)
    later = AT + timedelta(minutes=1)
    STEPS[step](ticket, later)
    assert ticket.state is target
    assert ticket.changed_at == later
    assert [event.type for event in ticket.events] == [EVENT_TYPES[step]]
    event = ticket.events[0]
    assert event.at == later
    assert event.ticket.state == target.value  # type: ignore[attr-defined]
    assert event.ticket.id == ticket.id  # type: ignore[attr-defined]
    # A held ticket has exactly one holder and a lease; any other has neither.
    if target in HELD_STATES:
        assert ticket.officer_id is not None and ticket.lease_expires_at is not None
    else:
        assert ticket.lease_expires_at is None
    if target is TicketState.WAITING:
        assert ticket.officer_id is None


def test_taking_a_ticket_records_ticket_taken() -> None:
    ticket = Ticket.take(
        location_id=1,
        location_code="HH",
        sequence=1,
        service_code="contact.video",
        language="nl",
        channel="kiosk",
        priority=0,
        at=AT,
        policy=POLICY,
    )
    assert ticket.state is TicketState.WAITING
    assert [event.type for event in ticket.events] == ["ticket.taken"]


@pytest.mark.parametrize("priority", [-1, MAX_PRIORITY + 1])
def test_a_priority_out_of_range_is_invalid(priority: int) -> None:
    with pytest.raises(Invalid) as raised:
        make_ticket(priority=priority)
    assert raised.value.code == "ticket.invalid_priority"


@pytest.mark.parametrize(
    ("step", "other"),
    [
        (Step.ACCEPT, lambda t, at: t.accept(COLLEAGUE, at, POLICY)),
        (Step.HOLD, lambda t, at: t.hold(COLLEAGUE, at, POLICY)),
        (Step.FINISH, lambda t, at: t.finish(COLLEAGUE, Outcome.LISTENED, at)),
    ],
)
def test_only_the_holder_may_take_a_step_on_a_held_ticket(
    step: Step, other: Callable[[Ticket, datetime], None]
) -> None:
    state = TicketState.OFFERED if step is Step.ACCEPT else TicketState.IN_SERVICE
    ticket = in_state(state)
    with pytest.raises(Refused) as raised:
        other(ticket, AT)
    assert raised.value.code == "ticket.not_yours"
    assert ticket.state is state and ticket.events == []


@pytest.mark.parametrize("step", [Step.ACCEPT, Step.HOLD, Step.RESUME, Step.FINISH])
def test_an_officer_step_on_a_waiting_ticket_is_refused(step: Step) -> None:
    ticket = make_ticket()
    with pytest.raises(Refused):
        STEPS[step](ticket, AT)
    assert ticket.state is TicketState.WAITING and ticket.events == []


def test_a_transfer_to_oneself_is_refused() -> None:
    ticket = in_state(TicketState.IN_SERVICE)
    with pytest.raises(Refused) as raised:
        ticket.transfer_to(HOLDER, AT, POLICY)
    assert raised.value.code == "ticket.transfer_to_self"
    assert ticket.state is TicketState.IN_SERVICE


def test_a_returned_ticket_ranks_before_every_fresh_ticket_of_any_priority() -> None:
    ticket = make_ticket()
    ticket.offer_to(HOLDER, AT, POLICY)
    back_at = AT + timedelta(minutes=5)
    ticket.return_to_queue(back_at, POLICY, reason="offer_expired", note="no answer")
    assert ticket.state is TicketState.WAITING
    assert ticket.is_returned and ticket.return_count == 1 and ticket.officer_id is None
    assert ticket.taken_at == AT, "the citizen keeps the time they have waited"
    fresh = [
        make_ticket(priority=priority, at=at)
        for priority in range(MAX_PRIORITY + 1)
        for at in (AT, back_at)
    ]
    assert queue_order([*fresh, ticket])[0] is ticket
    assert [event.type for event in ticket.events] == ["ticket.offered", "ticket.returned"]
    assert ticket.events[-1].reason == "offer_expired"  # type: ignore[attr-defined]


def test_a_ticket_returned_twice_counts_both_returns() -> None:
    ticket = make_ticket()
    for _ in range(2):
        ticket.offer_to(HOLDER, AT, POLICY)
        ticket.return_to_queue(AT, POLICY, reason="offer_expired")
    assert ticket.return_count == 2 and ticket.is_returned


@pytest.mark.parametrize("priority", range(1, MAX_PRIORITY + 1))
def test_a_normal_ticket_that_waited_long_enough_beats_a_fresh_urgent_one(priority: int) -> None:
    waited = POLICY.priority_step * priority + timedelta(seconds=1)
    old = make_ticket(priority=0, at=AT)
    urgent = make_ticket(priority=priority, at=AT + waited)
    assert queue_order([urgent, old]) == [old, urgent]


@pytest.mark.parametrize("priority", range(1, MAX_PRIORITY + 1))
def test_a_fresh_urgent_ticket_beats_a_normal_one_that_waited_less(priority: int) -> None:
    waited = POLICY.priority_step * priority - timedelta(seconds=1)
    old = make_ticket(priority=0, at=AT)
    urgent = make_ticket(priority=priority, at=AT + waited)
    assert queue_order([old, urgent]) == [urgent, old]


def test_tickets_taken_in_the_same_instant_queue_first_come_first_served() -> None:
    tickets = [make_ticket() for _ in range(50)]
    assert queue_order(list(reversed(tickets))) == tickets


def test_ticket_ids_sort_in_creation_order_and_are_unique() -> None:
    ids = [new_ticket_id() for _ in range(2000)]
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)
    assert all(len(value) == 32 and int(value, 16) >= 0 for value in ids)


def test_ticket_ids_do_not_repeat_their_random_half() -> None:
    halves = {new_ticket_id()[16:] for _ in range(200)}
    assert len(halves) == 200


@pytest.mark.parametrize(
    ("code", "sequence", "number"),
    [("HH", 14, "HH-014"), ("HH", 1, "HH-001"), ("BRE", 999, "BRE-999"), ("GNK", 1000, "GNK-1000")],
)
def test_ticket_numbers_read_as_desk_code_and_daily_sequence(
    code: str, sequence: int, number: str
) -> None:
    assert ticket_number(code, sequence) == number
    assert make_ticket(location_code=code, sequence=sequence).number == number


def test_an_offer_expires_after_the_offer_timeout_and_service_after_the_lease() -> None:
    ticket = make_ticket()
    ticket.offer_to(HOLDER, AT, POLICY)
    assert not ticket.is_lease_expired(AT + POLICY.offer_timeout - timedelta(seconds=1))
    assert ticket.is_lease_expired(AT + POLICY.offer_timeout)
    ticket.accept(HOLDER, AT + timedelta(seconds=10), POLICY)
    assert ticket.lease_expires_at == AT + timedelta(seconds=10) + POLICY.service_lease
    ticket.renew_lease(HOLDER, AT + timedelta(seconds=40), POLICY)
    assert ticket.lease_expires_at == AT + timedelta(seconds=40) + POLICY.service_lease


def test_a_note_longer_than_allowed_is_invalid_and_the_ticket_stays() -> None:
    ticket = in_state(TicketState.IN_SERVICE)
    with pytest.raises(Invalid) as raised:
        ticket.finish(HOLDER, Outcome.LISTENED, AT, note="x" * 1001)
    assert raised.value.code == "ticket.note_too_long"
    assert ticket.state is TicketState.IN_SERVICE and ticket.outcome is None
