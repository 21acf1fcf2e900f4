"""Figures from tallies match figures computed straight from the contacts, independently."""

from __future__ import annotations

import math
import random
from datetime import UTC, date, datetime, timedelta

import pytest

from loket.domain.figures import (
    TARGET_MINUTES,
    WAIT_UPPER_EDGES,
    Contact,
    FigureChannel,
    Grain,
    Tally,
    bucket_of,
    cover,
    figure_channel,
    percentile,
    roll_up_contacts,
    summarise,
    tally_contact,
)

START = datetime(2027, 1, 4, 7, 0, tzinfo=UTC)
OUTCOMES = ["listened", "informed", "referred", "mediated", "report_taken"]


def make_history(count: int, seed: int = 7) -> list[Contact]:
    rng = random.Random(seed)
    contacts = []
    for _ in range(count):
        taken = START + timedelta(minutes=rng.randrange(0, 60 * 24 * 40))
        kind = rng.random()
        wait = timedelta(seconds=rng.expovariate(1 / 420))
        if kind < 0.1:
            contacts.append(
                Contact(1, "report.theft", FigureChannel.HOME, taken, ended_at=taken,
                        outcome="report_taken", is_self_service=True)
            )  # fmt: skip
        elif kind < 0.2:
            contacts.append(
                Contact(rng.choice([1, 2]), "info.general", FigureChannel.KIOSK, taken,
                        ended_at=taken + wait, state="cancelled")
            )  # fmt: skip
        elif kind < 0.25:
            called = taken + wait
            contacts.append(
                Contact(2, "contact.video", FigureChannel.VIDEO, taken, called_at=called,
                        ended_at=called + timedelta(minutes=2), state="no_show", outcome="no_show")
            )  # fmt: skip
        else:
            called = taken + wait
            ended = called + timedelta(seconds=rng.uniform(60, 1800))
            contacts.append(
                Contact(rng.choice([1, 2]), rng.choice(["info.general", "contact.callback"]),
                        rng.choice(list(FigureChannel)), taken, called_at=called, ended_at=ended,
                        state="finished", outcome=rng.choice(OUTCOMES))
            )  # fmt: skip
    return contacts


def exact_figures(contacts: list[Contact], target_minutes: int) -> dict[str, object]:
    """The figures computed directly, without tallies or buckets."""
    tickets = [c for c in contacts if not c.is_self_service]
    waits = sorted(
        (c.called_at - c.taken_at).total_seconds() for c in tickets if c.called_at is not None
    )
    handling = [
        (c.ended_at - c.called_at).total_seconds()
        for c in tickets
        if c.state == "finished" and c.called_at and c.ended_at
    ]
    target = target_minutes * 60
    met = sum(1 for w in waits if w <= target)
    given_up_late = sum(
        1
        for c in tickets
        if c.called_at is None
        and c.state == "cancelled"
        and c.ended_at is not None
        and (c.ended_at - c.taken_at).total_seconds() > target
    )
    return {
        "contacts": len(contacts),
        "self_service": len(contacts) - len(tickets),
        "called": len(waits),
        "no_shows": sum(1 for c in tickets if c.state == "no_show"),
        "gave_up": sum(1 for c in tickets if c.state == "cancelled" and c.called_at is None),
        "finished": sum(1 for c in tickets if c.state == "finished"),
        "outcomes": {
            o: sum(1 for c in contacts if c.outcome == o and c.state == "finished")
            for o in OUTCOMES
        },
        "waits": waits,
        "wait_mean": sum(waits) / len(waits),
        "handling_mean": sum(handling) / len(handling),
        "met": met,
        "counted": len(waits) + given_up_late,
    }


def nearest_rank(values: list[float], q: float) -> float:
    return values[math.ceil(q * len(values)) - 1]


def total_of(contacts: list[Contact]) -> Tally:
    total = Tally()
    for contact in contacts:
        total.add(tally_contact(contact))
    return total


@pytest.mark.parametrize("target", [1, 5, 10, 30])
def test_summed_tallies_give_the_figures_computed_straight_from_the_contacts(target: int) -> None:
    contacts = make_history(3000)
    summary = summarise(total_of(contacts), target)
    exact = exact_figures(contacts, target)
    assert summary.contacts == exact["contacts"]
    assert summary.self_service == exact["self_service"]
    assert summary.called == exact["called"]
    assert summary.no_shows == exact["no_shows"]
    assert summary.gave_up == exact["gave_up"]
    assert summary.finished == exact["finished"]
    assert summary.outcomes["report_taken"] >= exact["outcomes"]["report_taken"]  # type: ignore[index]
    for outcome in ("listened", "informed", "referred", "mediated"):
        assert summary.outcomes[outcome] == exact["outcomes"][outcome]  # type: ignore[index]
    assert summary.wait_mean == pytest.approx(exact["wait_mean"])
    assert summary.handling_mean == pytest.approx(exact["handling_mean"])
    assert (summary.level.met, summary.level.counted) == (exact["met"], exact["counted"])


@pytest.mark.parametrize("q", [0.5, 0.9])
def test_a_percentile_from_buckets_lies_in_the_bucket_of_the_exact_value(q: float) -> None:
    contacts = make_history(3000, seed=11)
    summary = summarise(total_of(contacts))
    estimate = summary.wait_p50 if q == 0.5 else summary.wait_p90
    exact = nearest_rank(exact_figures(contacts, 10)["waits"], q)  # type: ignore[arg-type]
    index = bucket_of(exact)
    low = 0 if index == 0 else WAIT_UPPER_EDGES[index - 1]
    high = WAIT_UPPER_EDGES[index]
    assert estimate is not None
    assert low <= estimate <= high
    assert abs(estimate - exact) <= high - low


def test_percentiles_of_a_few_waits() -> None:
    buckets = [0] * len(WAIT_UPPER_EDGES)
    buckets[bucket_of(45)] += 1  # (30, 60]
    buckets[bucket_of(100)] += 1  # (90, 120]
    assert percentile(buckets, 0.5) == pytest.approx(60)  # the top of the first one's bucket
    assert 90 <= percentile(buckets, 0.9) <= 120  # type: ignore[operator]
    assert percentile([0] * len(WAIT_UPPER_EDGES), 0.5) is None


def test_rolled_up_days_and_months_add_up_to_the_same_total() -> None:
    contacts = make_history(2000, seed=3)
    tallies = roll_up_contacts(contacts, lambda _: UTC)
    by_grain = {grain: Tally() for grain in Grain}
    for key, tally in tallies.items():
        if key.hour == -1 and key.service_code == "":
            by_grain[key.grain].add(tally)
    expected = total_of(contacts).values
    # Sums of seconds are floats added in another order: equal up to rounding.
    assert by_grain[Grain.DAY].values == pytest.approx(expected)
    assert by_grain[Grain.MONTH].values == pytest.approx(expected)


def test_a_range_is_covered_by_whole_months_and_the_days_at_its_edges() -> None:
    found = cover(date(2027, 1, 15), date(2027, 4, 3))
    assert found.months == (date(2027, 2, 1), date(2027, 3, 1))
    assert found.day_ranges == (
        (date(2027, 1, 15), date(2027, 1, 31)),
        (date(2027, 4, 1), date(2027, 4, 3)),
    )
    assert cover(date(2027, 1, 1), date(2027, 12, 31)).day_ranges == ()
    assert cover(date(2027, 2, 2), date(2027, 2, 5)).months == ()


def test_a_ticket_still_waiting_counts_as_missed_only_once_over_the_target() -> None:
    now = START + timedelta(minutes=8)
    waiting = Contact(1, "info.general", FigureChannel.KIOSK, START, state="waiting")
    assert summarise(tally_contact(waiting, now), 10).level.counted == 0
    assert summarise(tally_contact(waiting, now), 5).level.counted == 1
    assert summarise(tally_contact(waiting, now), 5).level.met == 0


def test_channels_of_the_figures() -> None:
    assert figure_channel("phone", "contact.callback") is FigureChannel.CALLBACK
    assert figure_channel("home", "contact.callback") is FigureChannel.CALLBACK
    assert figure_channel("home", "contact.video") is FigureChannel.VIDEO
    assert figure_channel("kiosk", "contact.video") is FigureChannel.KIOSK
    assert figure_channel("assistant", "info.general") is FigureChannel.ASSISTANT
    assert figure_channel("home", "info.general") is FigureChannel.HOME


def test_only_bucket_edges_are_targets() -> None:
    assert 10 in TARGET_MINUTES and 11 not in TARGET_MINUTES
    with pytest.raises(ValueError):
        summarise(Tally(), 11)
