"""Calls for the host as a state machine, on plain domain objects (no database)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from loket.domain.errors import Invalid, Refused
from loket.domain.events import HelpAcknowledged, HelpRequested, HelpResolved
from loket.domain.help import (
    MAX_KIOSK_LENGTH,
    TRANSITIONS,
    HelpRequest,
    HelpState,
    HelpStep,
    check_kiosk_label,
)

AT = datetime(2027, 1, 12, 9, 0, tzinfo=UTC)
HOST = 5

STEPS: dict[HelpStep, Callable[[HelpRequest, datetime], None]] = {
    HelpStep.ACKNOWLEDGE: lambda h, at: h.acknowledge(HOST, at),
    HelpStep.RESOLVE: lambda h, at: h.resolve(HOST, at),
}


def make_help(**overrides: Any) -> HelpRequest:
    values: dict[str, Any] = {
        "location_id": 3,
        "location_code": "HH",
        "kiosk": "Kiosk 1",
        "at": AT,
    }
    values.update(overrides)
    return HelpRequest.raise_at(**values)


def in_state(state: HelpState) -> HelpRequest:
    help_request = make_help()
    help_request.state = state
    help_request.events.clear()
    return help_request


def test_a_new_call_is_open_and_records_that_the_host_was_called() -> None:
    help_request = make_help()
    assert help_request.state is HelpState.OPEN
    assert help_request.is_active
    [event] = help_request.events
    assert isinstance(event, HelpRequested)
    assert event.type == "help.requested"
    assert event.location_id == 3
    assert event.payload()["help"] == {
        "id": help_request.id,
        "location_id": 3,
        "location_code": "HH",
        "kiosk": "Kiosk 1",
        "state": "open",
        "requested_at": AT.isoformat(),
        "changed_at": AT.isoformat(),
    }


def test_a_host_acknowledges_then_resolves_and_each_step_is_an_event() -> None:
    help_request = make_help()
    help_request.acknowledge(HOST, AT + timedelta(seconds=20))
    help_request.resolve(HOST, AT + timedelta(minutes=3))
    assert help_request.state is HelpState.RESOLVED
    assert not help_request.is_active
    assert help_request.acknowledged_at == AT + timedelta(seconds=20)
    assert help_request.acknowledged_by == HOST
    assert help_request.resolved_at == AT + timedelta(minutes=3)
    assert [type(e) for e in help_request.events] == [
        HelpRequested,
        HelpAcknowledged,
        HelpResolved,
    ]
    assert [e.payload()["help"]["state"] for e in help_request.events] == [
        "open",
        "acknowledged",
        "resolved",
    ]


def test_events_do_not_say_which_staff_member_answered() -> None:
    # The location's stream is public: who walked over is not the hall's business.
    help_request = make_help()
    help_request.acknowledge(HOST, AT)
    assert "acknowledged_by" not in help_request.events[-1].payload()["help"]
    assert HOST not in help_request.events[-1].payload()["help"].values()


@pytest.mark.parametrize(("state", "step"), list(itertools.product(HelpState, HelpStep)), ids=str)
def test_only_the_transition_table_decides_which_steps_are_allowed(
    state: HelpState, step: HelpStep
) -> None:
    help_request = in_state(state)
    target = TRANSITIONS.get((state, step))
    if target is None:
        with pytest.raises(Refused) as refused:
            STEPS[step](help_request, AT)
        assert refused.value.code == "help.illegal_transition"
        assert help_request.state is state
        assert help_request.events == []
    else:
        STEPS[step](help_request, AT)
        assert help_request.state is target
        assert len(help_request.events) == 1


def test_a_kiosk_label_is_trimmed_and_an_empty_one_is_none() -> None:
    assert check_kiosk_label("  Kiosk 2 ") == "Kiosk 2"
    assert check_kiosk_label("") is None
    assert check_kiosk_label(None) is None
    assert make_help(kiosk=None).kiosk is None


@pytest.mark.parametrize("label", ["x" * (MAX_KIOSK_LENGTH + 1), "<script>", "kiosk\n2", "-a"])
def test_a_kiosk_label_that_is_not_a_plain_name_is_refused(label: str) -> None:
    with pytest.raises(Invalid) as invalid:
        make_help(kiosk=label)
    assert invalid.value.code == "help.invalid_kiosk"
    assert invalid.value.field == "kiosk"


def test_every_call_gets_its_own_unguessable_id() -> None:
    ids = {make_help().id for _ in range(100)}
    assert len(ids) == 100
    assert all(len(i) == 32 for i in ids)
