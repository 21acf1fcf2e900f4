"""The supervisor's figures: rolling contacts up, and reading them for a range and a desk.

Figures over a range are the roll-up's rows (contacts closed up to its watermark) plus,
computed live, the contacts closed since and the tickets still open. So a dashboard is
exact at every moment, and the roll-up only decides how much is read from raw tickets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import TypeVar
from zoneinfo import ZoneInfo

from loket.domain.errors import ConcurrentUpdate, Invalid
from loket.domain.figures import ALL as ALL_ROWS
from loket.domain.figures import (
    DEFAULT_TARGET_MINUTES,
    TARGET_MINUTES,
    Grain,
    Summary,
    Tally,
    cover,
    roll_up_contacts,
    summarise,
)
from loket.domain.figures import NO_HOUR as TOTAL_HOUR
from loket.domain.locations import Location
from loket.domain.surveys import Satisfaction
from loket.services.ports import Clock, UnitOfWork, UnitOfWorkFactory

# The longest range one dashboard reads: three years of days is still a readable chart.
MAX_RANGE_DAYS = 3 * 366
K = TypeVar("K")
COMMENTS_SHOWN = 20


@dataclass(frozen=True)
class FigureContext:
    uow: UnitOfWorkFactory
    clock: Clock
    # Contacts closed less than this long ago are left to the live part: a transaction that
    # stamped its finish a moment before committing must have committed before the roll-up
    # reads past that moment, or the contact would be missed for good.
    settle: timedelta = timedelta(minutes=2)
    # How much the roll-up reads per transaction (a first roll-up of a year goes by weeks).
    window: timedelta = timedelta(days=7)
    default_target_minutes: int = DEFAULT_TARGET_MINUTES
    # "Today" of the dashboard, for all desks together; each desk's contacts still count
    # in its own local day.
    time_zone: str = "Europe/Amsterdam"
    # The slot of the survey's overall satisfaction question.
    headline_slot: int = 1

    def today(self) -> date:
        return self.clock.now().astimezone(ZoneInfo(self.time_zone)).date()


# -- rolling up ------------------------------------------------------------------------------


def roll_up(ctx: FigureContext) -> int:
    """Add the contacts closed since the last roll-up to the figures; how many were added.

    Safe on every node at once: each transaction first moves the watermark it read, so a
    second node finds it moved and stops (ConcurrentUpdate, swallowed here).
    """
    added = 0
    while True:
        try:
            count, done = _roll_up_window(ctx)
        except ConcurrentUpdate:
            return added
        added += count
        if done:
            return added


def _roll_up_window(ctx: FigureContext) -> tuple[int, bool]:
    with ctx.uow() as uow:
        target = ctx.clock.now() - ctx.settle
        since = uow.figures.rolled_until()
        start = since
        if start is None:
            first = uow.figures.first_closed_at()
            start = target if first is None else min(first - timedelta(microseconds=1), target)
        if since is not None and since >= target:
            return 0, True
        until = min(target, start + ctx.window)
        uow.figures.move_watermark(since, until)
        contacts = uow.figures.closed_contacts(start, until)
        tallies = roll_up_contacts(contacts, _zones(uow))
        uow.figures.add_tallies(tallies)
        uow.commit()
    return len(contacts), until >= target


def rebuild(ctx: FigureContext) -> int:
    """Throw the roll-up away and build it again from the tickets and reports."""
    with ctx.uow() as uow:
        uow.figures.clear()
        uow.commit()
    return roll_up(ctx)


# -- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Group:
    """The figures of one desk, service, channel or combination of them."""

    location_id: int | None
    service_code: str | None
    channel: str | None
    summary: Summary
    satisfaction: Satisfaction


@dataclass(frozen=True)
class Figures:
    start: date
    end: date
    location_id: int | None
    target_minutes: int
    at: datetime
    total: Summary
    satisfaction: Satisfaction
    headline_slot: int
    by_location: list[Group]
    by_service: list[Group]
    by_channel: list[Group]
    combinations: list[Group]
    by_hour: list[tuple[int, Summary]]
    by_day: list[tuple[date, Summary]]
    comments: list[tuple[date, int, str, str]]
    locations: dict[int, Location] = field(default_factory=dict)


def check_range(start: date, end: date) -> None:
    """Errors: figures.invalid_range (end before start, or longer than MAX_RANGE_DAYS)."""
    if end < start:
        raise Invalid("figures.invalid_range", field="end")
    if (end - start).days + 1 > MAX_RANGE_DAYS:
        raise Invalid("figures.range_too_long", field="start", maximum=MAX_RANGE_DAYS)


def check_target(minutes: int) -> int:
    """Errors: figures.invalid_target (not one of TARGET_MINUTES)."""
    if minutes not in TARGET_MINUTES:
        raise Invalid("figures.invalid_target", field="target")
    return minutes


def figures(
    ctx: FigureContext,
    start: date,
    end: date,
    *,
    location_id: int | None = None,
    target_minutes: int | None = None,
) -> Figures:
    """Figures of [start, end] (local days of each desk), of one desk or all.

    Errors: figures.invalid_range, figures.range_too_long, figures.invalid_target.
    """
    check_range(start, end)
    target = check_target(target_minutes or ctx.default_target_minutes)
    period = cover(start, end)
    with ctx.uow(read_only=True) as uow:
        now = ctx.clock.now()
        locations = {loc.id: loc for loc in uow.locations.list() if loc.id is not None}
        combos = uow.figures.by_combination(period, location_id)
        hours = uow.figures.by_hour(period, location_id)
        days = uow.figures.by_day(start, end, location_id)
        since = uow.figures.rolled_until()
        # Not rolled up yet: closed after the watermark, or still open. A day of margin
        # on the taken side covers every desk's time zone.
        live = uow.figures.closed_contacts(since, now + timedelta(days=1))
        earliest = datetime(start.year, start.month, start.day, tzinfo=UTC) - timedelta(days=1)
        live += uow.figures.open_contacts(earliest)
        answers = uow.surveys.satisfaction(start, end, location_id)
        comments = uow.surveys.comments(start, end, location_id, COMMENTS_SHOWN)
    zone_of = _zone_lookup(locations)
    combo_tallies = {(loc, svc, ch): tally for loc, svc, ch, tally in combos}
    hour_tallies = dict(hours)
    day_tallies = dict(days)
    chosen = [c for c in live if location_id is None or c.location_id == location_id]
    for key, tally in roll_up_contacts(chosen, zone_of, now, frozenset({Grain.DAY})).items():
        if not start <= key.period <= end:
            continue
        if key.hour != TOTAL_HOUR:
            _add(hour_tallies, key.hour, tally)
        elif key.service_code == ALL_ROWS:
            _add(day_tallies, key.period, tally)
        else:
            _add(combo_tallies, (key.location_id, key.service_code, key.channel), tally)
    satisfied = {(loc, svc, ch): s for loc, svc, ch, s in answers}
    return _assemble(
        ctx, start, end, location_id, target, now, combo_tallies, hour_tallies, day_tallies,
        satisfied, comments, locations,
    )  # fmt: skip


def _assemble(
    ctx: FigureContext,
    start: date,
    end: date,
    location_id: int | None,
    target: int,
    now: datetime,
    combos: dict[tuple[int, str, str], Tally],
    hours: dict[int, Tally],
    days: dict[date, Tally],
    satisfied: dict[tuple[int, str, str], Satisfaction],
    comments: list[tuple[date, int, str, str]],
    locations: dict[int, Location],
) -> Figures:
    keys = set(combos) | set(satisfied)
    total, total_satisfaction = Tally(), Satisfaction()
    marginals: list[dict[object, tuple[Tally, Satisfaction]]] = [{}, {}, {}]
    combinations = []
    for key in sorted(keys):
        tally = combos.get(key) or Tally()
        answers = satisfied.get(key) or Satisfaction()
        total.add(tally)
        total_satisfaction.add(answers)
        for index, part in enumerate(key):
            group_tally, group_answers = marginals[index].setdefault(
                part, (Tally(), Satisfaction())
            )
            group_tally.add(tally)
            group_answers.add(answers)
        combinations.append(Group(key[0], key[1], key[2], summarise(tally, target), answers))

    def groups(index: int) -> list[Group]:
        found = []
        for part, (tally, answers) in sorted(marginals[index].items(), key=lambda i: str(i[0])):
            where: list[object | None] = [None, None, None]
            where[index] = part
            found.append(
                Group(
                    where[0],  # type: ignore[arg-type]
                    where[1],  # type: ignore[arg-type]
                    where[2],  # type: ignore[arg-type]
                    summarise(tally, target),
                    answers,
                )
            )
        return found

    every_day = [date.fromordinal(n) for n in range(start.toordinal(), end.toordinal() + 1)]
    return Figures(
        start=start,
        end=end,
        location_id=location_id,
        target_minutes=target,
        at=now,
        total=summarise(total, target),
        satisfaction=total_satisfaction,
        headline_slot=ctx.headline_slot,
        by_location=groups(0),
        by_service=groups(1),
        by_channel=groups(2),
        combinations=combinations,
        by_hour=[(hour, summarise(hours.get(hour) or Tally(), target)) for hour in range(24)],
        by_day=[(day, summarise(days.get(day) or Tally(), target)) for day in every_day],
        comments=comments,
        locations=locations,
    )


def _add(tallies: dict[K, Tally], key: K, tally: Tally) -> None:
    found = tallies.get(key)
    if found is None:
        tallies[key] = Tally(tally.values)
    else:
        found.add(tally)


def _zones(uow: UnitOfWork) -> Callable[[int], tzinfo]:
    return _zone_lookup({loc.id: loc for loc in uow.locations.list() if loc.id is not None})


def _zone_lookup(locations: dict[int, Location]) -> Callable[[int], tzinfo]:
    zones: dict[int, tzinfo] = {key: loc.zone for key, loc in locations.items()}

    def zone_of(location_id: int) -> tzinfo:
        return zones.get(location_id, UTC)

    return zone_of
