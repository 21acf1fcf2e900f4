"""The service monitor's figures: each contact as counts, sums and waiting-time buckets.

A contact (a ticket, or a report or tip sent without an officer) becomes a `Tally`: a flat
row of numbers that adds up. Tallies are kept per local day and month, per desk, service
and channel, and per hour of the day (docs/service-monitor.md); figures over any range are
sums of tallies, and the figures a supervisor reads (`Summary`) are computed from a sum.

Waiting times are kept as counts in fixed buckets, not as single values, so the p50 and
p90 of a year are read from a few thousand rows instead of half a million contacts. The
price: a percentile is known to lie within its bucket; it is interpolated linearly inside
it, so its error is at most the bucket's width (30 s up to 3 minutes, 1 minute up to 10,
and coarser above; see WAIT_UPPER_EDGES). The service level is exact for every target that
is a bucket edge, and only those are offered.

The service level counts as the supervisor's board does (services/board.py): a called
ticket is met when the first call came within the target; a ticket never called (given up,
or still waiting) is missed once it waited longer than the target, else not counted.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from enum import StrEnum
from typing import NamedTuple

from loket.domain.i18n import N_
from loket.domain.tickets import Outcome, TicketState

# Upper edges of the waiting-time buckets, in seconds: bucket i holds waits w with
# UPPER[i-1] < w <= UPPER[i] (the first from 0). The last is open-ended.
WAIT_UPPER_EDGES: tuple[float, ...] = (
    30, 60, 90, 120, 150, 180, 240, 300, 360, 420, 480, 540, 600, 720, 900, 1200, 1500,
    1800, 2400, 3000, 3600, 4500, 5400, 7200, 10800, 14400, math.inf,
)  # fmt: skip
BUCKETS = len(WAIT_UPPER_EDGES)

# Targets the service level can be read for exactly: every finite edge, in whole minutes.
TARGET_MINUTES: tuple[int, ...] = tuple(
    int(edge // 60) for edge in WAIT_UPPER_EDGES if math.isfinite(edge) and edge % 60 == 0
)
DEFAULT_TARGET_MINUTES = 10


class FigureChannel(StrEnum):
    """How the citizen reached the police, as the figures group it."""

    KIOSK = "kiosk"
    HOME = "home"
    VIDEO = "video"
    CALLBACK = "callback"
    ASSISTANT = "assistant"


CALLBACK_SERVICE = "contact.callback"
VIDEO_SERVICE = "contact.video"


def figure_channel(channel: str, service_code: str) -> FigureChannel:
    """The figures' channel of a contact from the ticket's channel and service.

    A callback (by phone or video) is its own channel; a video call asked for at home is
    "video"; a video call in a kiosk's booth stays "kiosk" (the desk is where it happened).
    """
    if service_code == CALLBACK_SERVICE or channel == "phone":
        return FigureChannel.CALLBACK
    if channel == "video" or (service_code == VIDEO_SERVICE and channel == "home"):
        return FigureChannel.VIDEO
    if channel == "assistant":
        return FigureChannel.ASSISTANT
    return FigureChannel.HOME if channel == "home" else FigureChannel.KIOSK


OUTCOMES: tuple[Outcome, ...] = (
    Outcome.LISTENED,
    Outcome.INFORMED,
    Outcome.REFERRED,
    Outcome.MEDIATED,
    Outcome.REPORT_TAKEN,
)

COUNT_FIELDS: tuple[str, ...] = (
    "contacts",  # tickets taken and reports or tips sent without an officer
    "self_service",  # of which reports or tips sent without an officer
    "called",  # tickets called (accepted by an officer) at least once
    "finished",
    "no_shows",
    "gave_up",  # cancelled before being called
    *(f"outcome_{outcome.value}" for outcome in OUTCOMES),
    "handled",  # finished tickets with a handling time
)
SUM_FIELDS: tuple[str, ...] = ("wait_seconds", "handling_seconds")
WAIT_FIELDS: tuple[str, ...] = tuple(f"wait_{i:02d}" for i in range(BUCKETS))
UNSERVED_FIELDS: tuple[str, ...] = tuple(f"unserved_{i:02d}" for i in range(BUCKETS))
FIELDS: tuple[str, ...] = COUNT_FIELDS + SUM_FIELDS + WAIT_FIELDS + UNSERVED_FIELDS
_INDEX = {name: i for i, name in enumerate(FIELDS)}
_WAIT_START = _INDEX[WAIT_FIELDS[0]]
_UNSERVED_START = _INDEX[UNSERVED_FIELDS[0]]


def bucket_of(seconds: float) -> int:
    """The bucket a wait of this many seconds falls in."""
    for index, edge in enumerate(WAIT_UPPER_EDGES):
        if seconds <= edge:
            return index
    return BUCKETS - 1  # pragma: no cover - the last edge is infinite


def bucket_bounds(index: int) -> tuple[float, float]:
    return (0.0 if index == 0 else WAIT_UPPER_EDGES[index - 1], WAIT_UPPER_EDGES[index])


class Tally:
    """The numbers of one or more contacts, in the order of FIELDS; tallies add up."""

    __slots__ = ("values",)

    def __init__(self, values: Iterable[float] | None = None) -> None:
        self.values: list[float] = [0] * len(FIELDS) if values is None else list(values)
        if len(self.values) != len(FIELDS):
            raise ValueError("a tally has one value per field")

    def __getitem__(self, name: str) -> float:
        return self.values[_INDEX[name]]

    def bump(self, name: str, by: float = 1) -> None:
        self.values[_INDEX[name]] += by

    def add_pairs(self, pairs: Iterable[tuple[int, float]]) -> Tally:
        mine = self.values
        for index, value in pairs:
            mine[index] += value
        return self

    def add(self, other: Tally) -> Tally:
        mine = self.values
        for index, value in enumerate(other.values):
            if value:
                mine[index] += value
        return self

    @property
    def waits(self) -> list[int]:
        return [int(v) for v in self.values[_WAIT_START : _WAIT_START + BUCKETS]]

    @property
    def unserved(self) -> list[int]:
        return [int(v) for v in self.values[_UNSERVED_START : _UNSERVED_START + BUCKETS]]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Tally) and self.values == other.values

    def __repr__(self) -> str:
        shown = {name: value for name, value in zip(FIELDS, self.values, strict=True) if value}
        return f"Tally({shown})"


@dataclass(frozen=True)
class Contact:
    """What the figures need of one contact; nothing that says who the citizen was."""

    location_id: int
    service_code: str
    channel: FigureChannel
    taken_at: datetime
    called_at: datetime | None = None
    ended_at: datetime | None = None
    state: str = TicketState.FINISHED.value
    outcome: str | None = None
    is_self_service: bool = False

    @property
    def is_closed(self) -> bool:
        return self.is_self_service or self.state in _CLOSED


_CLOSED = frozenset({TicketState.FINISHED, TicketState.NO_SHOW, TicketState.CANCELLED})
# Plain strings: enum attribute lookups cost more than the arithmetic of a contact.
_FINISHED, _NO_SHOW, _CANCELLED = "finished", "no_show", "cancelled"
_REPORT_TAKEN = "report_taken"


def tally_contact(contact: Contact, now: datetime | None = None) -> Tally:
    """The contact's numbers. An open ticket (only in live figures) needs `now`."""
    tally = Tally()
    tally.add_pairs(contributions(contact, now))
    return tally


def contributions(contact: Contact, now: datetime | None = None) -> list[tuple[int, float]]:
    """The contact's non-zero numbers as (field index, value): cheap to add many times."""
    pairs: list[tuple[int, float]] = [(_INDEX["contacts"], 1)]
    if contact.is_self_service:
        pairs.append((_INDEX["self_service"], 1))
        if contact.outcome == _REPORT_TAKEN:
            pairs.append((_INDEX[f"outcome_{_REPORT_TAKEN}"], 1))
        return pairs
    if contact.called_at is not None:
        wait = max((contact.called_at - contact.taken_at).total_seconds(), 0.0)
        pairs.append((_INDEX["called"], 1))
        pairs.append((_INDEX["wait_seconds"], wait))
        pairs.append((_WAIT_START + bucket_of(wait), 1))
    elif contact.state == _CANCELLED or not contact.is_closed:
        # Never called: given up, or (live) still waiting. Counts for the service level.
        until = contact.ended_at if contact.is_closed else now
        if until is None:
            raise ValueError("an open ticket is tallied at a moment")
        waited = max((until - contact.taken_at).total_seconds(), 0.0)
        pairs.append((_UNSERVED_START + bucket_of(waited), 1))
    if contact.state == _CANCELLED and contact.called_at is None:
        pairs.append((_INDEX["gave_up"], 1))
    elif contact.state == _NO_SHOW:
        pairs.append((_INDEX["no_shows"], 1))
    elif contact.state == _FINISHED:
        pairs.append((_INDEX["finished"], 1))
        if contact.outcome in _OUTCOME_VALUES:
            pairs.append((_INDEX[f"outcome_{contact.outcome}"], 1))
        if contact.called_at is not None and contact.ended_at is not None:
            handling = max((contact.ended_at - contact.called_at).total_seconds(), 0.0)
            pairs.append((_INDEX["handled"], 1))
            pairs.append((_INDEX["handling_seconds"], handling))
    return pairs


_OUTCOME_VALUES = frozenset(outcome.value for outcome in OUTCOMES)


# -- where a tally is kept ------------------------------------------------------------------


class Grain(StrEnum):
    DAY = "day"
    MONTH = "month"


ALL = ""  # service or channel of a row that covers all of them
NO_HOUR = -1


class Key(NamedTuple):
    """One row of the roll-up: a period of a desk, by service and channel or by hour.

    Three kinds of row per period and desk: per service and channel (hour = NO_HOUR), per
    hour of the day (service = channel = ALL), and the desk's total (ALL, ALL, NO_HOUR).
    A tuple, because a year's roll-up makes millions of them.
    """

    grain: Grain
    period: date
    location_id: int
    service_code: str
    channel: str
    hour: int


def roll_up_contacts(
    contacts: Iterable[Contact],
    zone_of: Callable[[int], tzinfo],
    now: datetime | None = None,
    grains: frozenset[Grain] = frozenset(Grain),
) -> dict[Key, Tally]:
    """The tallies of many contacts by roll-up row, in each desk's local time."""
    tallies: dict[Key, Tally] = {}
    with_months = Grain.MONTH in grains
    with_days = Grain.DAY in grains
    by_day, by_month = Grain.DAY, Grain.MONTH
    for contact in contacts:
        local = contact.taken_at.astimezone(zone_of(contact.location_id))
        pairs = contributions(contact, now)
        day = local.date()
        where, hour = contact.location_id, local.hour
        service, channel = contact.service_code, str(contact.channel)
        keys = []
        if with_days:
            keys += [
                Key(by_day, day, where, service, channel, NO_HOUR),
                Key(by_day, day, where, ALL, ALL, hour),
                Key(by_day, day, where, ALL, ALL, NO_HOUR),
            ]
        if with_months:
            month = day.replace(day=1)
            keys += [
                Key(by_month, month, where, service, channel, NO_HOUR),
                Key(by_month, month, where, ALL, ALL, hour),
                Key(by_month, month, where, ALL, ALL, NO_HOUR),
            ]
        for key in keys:
            tally = tallies.get(key)
            if tally is None:
                tally = tallies[key] = Tally()
            values = tally.values
            for index, value in pairs:
                values[index] += value
    return tallies


@dataclass(frozen=True)
class PeriodCover:
    """A date range as whole months plus the days at its edges."""

    months: tuple[date, ...]
    day_ranges: tuple[tuple[date, date], ...]


def cover(start: date, end: date) -> PeriodCover:
    """The fewest roll-up periods that make up [start, end] (both inclusive)."""
    if end < start:
        return PeriodCover((), ())
    months: list[date] = []
    day_ranges: list[tuple[date, date]] = []
    cursor = start
    while cursor <= end:
        month_start = cursor.replace(day=1)
        next_month = _next_month(month_start)
        month_end = date.fromordinal(next_month.toordinal() - 1)
        if cursor == month_start and month_end <= end:
            months.append(month_start)
        else:
            last = min(month_end, end)
            if day_ranges and day_ranges[-1][1].toordinal() + 1 == cursor.toordinal():
                day_ranges[-1] = (day_ranges[-1][0], last)
            else:
                day_ranges.append((cursor, last))
        cursor = next_month
    return PeriodCover(tuple(months), tuple(day_ranges))


def _next_month(month_start: date) -> date:
    if month_start.month == 12:
        return date(month_start.year + 1, 1, 1)
    return date(month_start.year, month_start.month + 1, 1)


# -- reading figures from a tally -----------------------------------------------------------


def percentile(buckets: Sequence[int], q: float) -> float | None:
    """The q-quantile (0 < q <= 1) of the waits in `buckets`, interpolated in its bucket.

    The exact value (nearest rank: the ceil(q*n)-th smallest wait) lies in the bucket this
    reads from, so the error is at most that bucket's width. In the open last bucket the
    lower edge is returned (a lower bound). None without waits.
    """
    total = sum(buckets)
    if total == 0:
        return None
    rank = q * total
    seen = 0
    for index, count in enumerate(buckets):
        if count and seen + count >= rank:
            low, high = bucket_bounds(index)
            if math.isinf(high):
                return low
            return low + (high - low) * max(rank - seen, 0) / count
        seen += count
    return bucket_bounds(BUCKETS - 1)[0]  # pragma: no cover - the loop always returns


@dataclass(frozen=True)
class Level:
    """The service level at one target: met over counted (see the module's docstring)."""

    target_minutes: int
    met: int
    counted: int

    @property
    def share(self) -> float | None:
        return None if self.counted == 0 else self.met / self.counted


def service_level(tally: Tally, target_minutes: int) -> Level:
    """The level at a target that is a bucket edge; ValueError for any other target."""
    target = target_minutes * 60
    if target not in WAIT_UPPER_EDGES:
        raise ValueError(f"the service level is kept for targets {TARGET_MINUTES}")
    last_met = WAIT_UPPER_EDGES.index(target)
    waits, unserved = tally.waits, tally.unserved
    met = sum(waits[: last_met + 1])
    missed = sum(waits[last_met + 1 :]) + sum(unserved[last_met + 1 :])
    return Level(target_minutes=target_minutes, met=met, counted=met + missed)


@dataclass(frozen=True)
class Summary:
    """The figures of one group of contacts, as the dashboard, exports and report show them."""

    contacts: int
    self_service: int
    called: int
    finished: int
    no_shows: int
    gave_up: int
    outcomes: Mapping[str, int]
    wait_mean: float | None
    wait_p50: float | None
    wait_p90: float | None
    handling_mean: float | None
    level: Level


def summarise(tally: Tally, target_minutes: int = DEFAULT_TARGET_MINUTES) -> Summary:
    called = int(tally["called"])
    handled = int(tally["handled"])
    waits = tally.waits
    return Summary(
        contacts=int(tally["contacts"]),
        self_service=int(tally["self_service"]),
        called=called,
        finished=int(tally["finished"]),
        no_shows=int(tally["no_shows"]),
        gave_up=int(tally["gave_up"]),
        outcomes={o.value: int(tally[f"outcome_{o.value}"]) for o in OUTCOMES},
        wait_mean=tally["wait_seconds"] / called if called else None,
        wait_p50=percentile(waits, 0.5),
        wait_p90=percentile(waits, 0.9),
        handling_mean=tally["handling_seconds"] / handled if handled else None,
        level=service_level(tally, target_minutes),
    )


# -- how figures read on pages and in the weekly report (N_-marked English) ----------------

CHANNEL_NAMES = {
    FigureChannel.KIOSK.value: N_("Kiosk"),
    FigureChannel.HOME.value: N_("At home"),
    FigureChannel.VIDEO.value: N_("Video call"),
    FigureChannel.CALLBACK.value: N_("Callback"),
    FigureChannel.ASSISTANT.value: N_("Virtual agent"),
}
OUTCOME_NAMES = {
    "listened": N_("Listened"),
    "informed": N_("Informed"),
    "referred": N_("Referred"),
    "mediated": N_("Mediated"),
    "report_taken": N_("Report taken"),
}


def minutes_text(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    return f"{seconds / 60:.1f}"


def percent_text(share: float | None) -> str:
    return "–" if share is None else f"{round(share * 100)}%"
