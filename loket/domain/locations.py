"""Desk locations and their opening hours, in the wall-clock time of each location."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from loket.domain.errors import Invalid, Refused

MIDNIGHT = time(0, 0)

# How far ahead `next_opening_after` and `closes_at` look: a year and a day covers every
# yearly pattern, including an exception on the same date next year.
LOOKAHEAD = timedelta(days=366)

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

_TIME_PATTERN = re.compile(r"^(\d{2}):(\d{2})(?::(\d{2}))?$")
_CODE_PATTERN = re.compile(r"^[A-Z]{2,4}$")
_SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_LANGUAGE_PATTERN = re.compile(r"^[a-z]{2}$")
_COUNTRY_PATTERN = re.compile(r"^[A-Z]{2}$")


class LocationKind(StrEnum):
    POLICE_OFFICE = "police_office"
    TOWN_HALL = "town_hall"
    PUBLIC_PLACE = "public_place"
    MOBILE_UNIT = "mobile_unit"
    ONLINE = "online"


@dataclass(frozen=True)
class TimeRange:
    """Wall-clock hours within one day; `closes` at 00:00 means midnight at the end of the day."""

    opens: time
    closes: time

    def __post_init__(self) -> None:
        # Hours are wall-clock times of the location: a time zone here would be ignored.
        if self.opens.tzinfo is not None or self.closes.tzinfo is not None:
            raise Invalid("hours.invalid_range", field="hours", opens=str(self.opens))
        if not self.ends_at_midnight and self.closes <= self.opens:
            raise Invalid(
                "hours.invalid_range",
                field="hours",
                opens=_format_time(self.opens),
                closes=_format_time(self.closes),
            )

    @property
    def ends_at_midnight(self) -> bool:
        return self.closes == MIDNIGHT

    def overlaps(self, other: TimeRange) -> bool:
        return self.opens < other._closes_key and other.opens < self._closes_key

    @property
    def _closes_key(self) -> time:
        # Midnight at the end of the day sorts after every time of that day.
        return time.max if self.ends_at_midnight else self.closes

    def _sort_key(self) -> tuple[time, time]:
        return (self.opens, self._closes_key)


ALL_DAY = TimeRange(MIDNIGHT, MIDNIGHT)


@dataclass(frozen=True)
class DatedException:
    """Hours for one date that replace the weekly hours; no ranges means closed all day."""

    day: date
    ranges: tuple[TimeRange, ...] = ()
    reason: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "ranges", _checked_ranges(self.ranges, path=str(self.day)))

    @property
    def is_closed(self) -> bool:
        return not self.ranges


@dataclass(frozen=True)
class OpeningHours:
    """Weekly hours (0 = Monday) with dated exceptions, or always open.

    Exceptions apply even to an always-open location (a 24/7 desk closed for maintenance).
    Ranges that touch, also across midnight, form one open period.

    Daylight saving: an opening or closing time inside the spring-forward gap takes effect
    at the first instant after the gap; one inside the repeated hour of the fall-back night
    takes its first occurrence (fold=0). So a night from 22:00 to 06:00 lasts seven or nine
    real hours on those nights.
    """

    weekly: Mapping[int, tuple[TimeRange, ...]] = field(default_factory=dict)
    exceptions: tuple[DatedException, ...] = ()
    is_always_open: bool = False
    _exceptions_by_day: Mapping[date, DatedException] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        weekly: dict[int, tuple[TimeRange, ...]] = {}
        for weekday, ranges in self.weekly.items():
            if not isinstance(weekday, int) or not 0 <= weekday <= 6:
                raise Invalid("hours.unknown_day", field="hours", day=str(weekday))
            checked = _checked_ranges(ranges, path=DAY_NAMES[weekday])
            if checked:
                weekly[weekday] = checked
        if self.is_always_open and weekly:
            # Both would be a contradiction an editor cannot see at a glance.
            raise Invalid("hours.always_open_with_weekly", field="hours")
        by_day: dict[date, DatedException] = {}
        for exception in self.exceptions:
            if not isinstance(exception, DatedException):
                raise Invalid("hours.invalid_exception", field="hours")
            if exception.day in by_day:
                raise Invalid(
                    "hours.duplicate_exception", field="hours", date=exception.day.isoformat()
                )
            by_day[exception.day] = exception
        object.__setattr__(self, "weekly", MappingProxyType(dict(sorted(weekly.items()))))
        object.__setattr__(self, "exceptions", tuple(sorted(self.exceptions, key=_day_of)))
        object.__setattr__(self, "_exceptions_by_day", MappingProxyType(by_day))

    def __hash__(self) -> int:
        return hash((tuple(self.weekly.items()), self.exceptions, self.is_always_open))

    def ranges_on(self, day: date) -> tuple[TimeRange, ...]:
        """The wall-clock ranges that apply on `day`, after exceptions."""
        exception = self._exceptions_by_day.get(day)
        if exception is not None:
            return exception.ranges
        if self.is_always_open:
            return (ALL_DAY,)
        return self.weekly.get(day.weekday(), ())

    def is_open_at(self, moment: datetime, tz: ZoneInfo) -> bool:
        moment = _as_utc(moment)
        first_day = moment.astimezone(tz).date() - timedelta(days=1)
        for start, end in self._periods(tz, first_day, days=3):
            if start > moment:
                return False
            if end is None or moment < end:
                return True
        return False

    def next_opening_after(self, moment: datetime, tz: ZoneInfo) -> datetime | None:
        """The first instant strictly after `moment` at which a closed location opens (UTC).

        If it is open at `moment`, that is the start of the next open period after the
        current one ends. None if it does not open within `LOOKAHEAD`.
        """
        moment = _as_utc(moment)
        for start, _end in self._periods_from(moment, tz):
            if start > moment:
                return start if start - moment <= LOOKAHEAD else None
        return None

    def closes_at(self, moment: datetime, tz: ZoneInfo) -> datetime | None:
        """When the open period around `moment` ends (UTC).

        None if closed at `moment`, or if it stays open throughout `LOOKAHEAD` (always open).
        """
        moment = _as_utc(moment)
        for start, end in self._periods_from(moment, tz):
            if start > moment:
                return None
            if end is None or moment < end:
                return end
        return None

    def open_periods(
        self, start: datetime, end: datetime, tz: ZoneInfo
    ) -> Iterator[tuple[datetime, datetime]]:
        """Open periods (UTC [start, end), touching ranges joined) clipped to [start, end)."""
        start, end = _as_utc(start), _as_utc(end)
        first_day = start.astimezone(tz).date() - timedelta(days=1)
        days = (end.astimezone(tz).date() - first_day).days + 2
        for opens, closes in self._periods(tz, first_day, days=days):
            clipped_end = end if closes is None else min(closes, end)
            clipped_start = max(opens, start)
            if clipped_start >= end:
                return
            if clipped_start < clipped_end:
                yield clipped_start, clipped_end

    def _periods_from(
        self, moment: datetime, tz: ZoneInfo
    ) -> Iterator[tuple[datetime, datetime | None]]:
        # From the day before, so a period running over midnight into `moment`'s day is whole.
        first_day = moment.astimezone(tz).date() - timedelta(days=1)
        return self._periods(tz, first_day, days=LOOKAHEAD.days + 3)

    def _periods(
        self, tz: ZoneInfo, first_day: date, days: int
    ) -> Iterator[tuple[datetime, datetime | None]]:
        """Open periods as UTC [start, end), in order, with touching ranges joined.

        A period still open at the end of the window has end None.
        """
        current: tuple[datetime, datetime] | None = None
        for offset in range(days):
            day = first_day + timedelta(days=offset)
            for time_range in self.ranges_on(day):
                start = _instant(day, time_range.opens, tz)
                if time_range.ends_at_midnight:
                    end = _instant(day + timedelta(days=1), MIDNIGHT, tz)
                else:
                    end = _instant(day, time_range.closes, tz)
                if end <= start:
                    continue  # The whole range fell inside a spring-forward gap.
                if current is not None and start <= current[1]:
                    current = (current[0], max(current[1], end))
                    continue
                if current is not None:
                    yield current
                current = (start, end)
        if current is not None:
            window_end = _instant(first_day + timedelta(days=days), MIDNIGHT, tz)
            yield current[0], (None if current[1] >= window_end else current[1])

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: times as "HH:MM", a range closing at midnight as "24:00"."""
        return {
            "always_open": self.is_always_open,
            "weekly": {
                name: [_range_to_list(r) for r in self.weekly.get(weekday, ())]
                for weekday, name in enumerate(DAY_NAMES)
            },
            "exceptions": [
                {
                    "date": exception.day.isoformat(),
                    "ranges": [_range_to_list(r) for r in exception.ranges],
                    "reason": exception.reason,
                }
                for exception in self.exceptions
            ],
        }

    @classmethod
    def from_dict(cls, data: object) -> OpeningHours:
        """Parse the JSON form; raises Invalid("hours.*", field="hours", path=...) on bad input."""
        if not isinstance(data, Mapping):
            raise Invalid("hours.not_an_object", field="hours", path="")
        _reject_unknown_keys(data, {"always_open", "weekly", "exceptions"}, path="")
        is_always_open = data.get("always_open", False)
        if not isinstance(is_always_open, bool):
            raise Invalid("hours.invalid_always_open", field="hours", path="always_open")
        weekly_data = data.get("weekly", {})
        if not isinstance(weekly_data, Mapping):
            raise Invalid("hours.invalid_weekly", field="hours", path="weekly")
        weekly: dict[int, tuple[TimeRange, ...]] = {}
        for name, ranges in weekly_data.items():
            if name not in DAY_NAMES:
                raise Invalid("hours.unknown_day", field="hours", path=f"weekly.{name}")
            weekly[DAY_NAMES.index(name)] = _ranges_from_list(ranges, path=f"weekly.{name}")
        exceptions_data = data.get("exceptions", [])
        if not isinstance(exceptions_data, list):
            raise Invalid("hours.invalid_exception", field="hours", path="exceptions")
        exceptions = tuple(
            _exception_from_dict(item, path=f"exceptions[{index}]")
            for index, item in enumerate(exceptions_data)
        )
        return cls(weekly=weekly, exceptions=exceptions, is_always_open=is_always_open)


@dataclass
class Location:
    """A desk: where it is, what it offers, in which languages, and when it is open."""

    id: int | None
    code: str
    slug: str
    name: str
    municipality: str
    kind: LocationKind
    time_zone: str
    languages: tuple[str, ...]
    service_codes: frozenset[str]
    hours: OpeningHours
    country: str = "BE"
    is_active: bool = True

    def __post_init__(self) -> None:
        # The code prefixes ticket numbers (HH-014), so it must read well on a screen.
        if not _CODE_PATTERN.match(self.code):
            raise Invalid("location.invalid_code", field="code", value=self.code)
        if not _SLUG_PATTERN.match(self.slug):
            raise Invalid("location.invalid_slug", field="slug", slug=self.slug)
        if not self.name.strip():
            raise Invalid("location.invalid_name", field="name")
        # An online desk serves people wherever they are; every other desk is somewhere.
        if self.kind is not LocationKind.ONLINE and not self.municipality.strip():
            raise Invalid("location.invalid_municipality", field="municipality")
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise Invalid(
                "location.invalid_time_zone", field="time_zone", time_zone=self.time_zone
            ) from None
        if not self.languages:
            raise Invalid("location.no_language", field="languages")
        for language in self.languages:
            # Format only: the stdlib has no list of ISO 639-1 codes.
            if not _LANGUAGE_PATTERN.match(language):
                raise Invalid("location.invalid_language", field="languages", language=language)
        if len(set(self.languages)) != len(self.languages):
            raise Invalid("location.duplicate_language", field="languages")
        if not _COUNTRY_PATTERN.match(self.country):
            raise Invalid("location.invalid_country", field="country", country=self.country)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def is_open_at(self, moment: datetime) -> bool:
        return self.hours.is_open_at(moment, self.zone)

    def next_opening_after(self, moment: datetime) -> datetime | None:
        return self.hours.next_opening_after(moment, self.zone)

    def closes_at(self, moment: datetime) -> datetime | None:
        return self.hours.closes_at(moment, self.zone)

    def local_date(self, moment: datetime) -> date:
        return _as_utc(moment).astimezone(self.zone).date()

    def offers(self, service_code: str) -> bool:
        return service_code in self.service_codes

    def check_can_take_ticket(self, service_code: str, moment: datetime) -> None:
        """Refuse a ticket this desk cannot serve now: inactive, service not offered, closed."""
        if not self.is_active:
            raise Refused("location.inactive", location=self.code)
        if not self.offers(service_code):
            raise Refused("location.service_not_offered", field="service", service=service_code)
        if not self.is_open_at(moment):
            raise Refused("location.closed", next_opening_at=self.next_opening_after(moment))


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        # A naive datetime is a programming error, not user input: fail loudly.
        raise ValueError("moment must be timezone-aware")
    return moment.astimezone(UTC)


def _instant(day: date, wall: time, tz: ZoneInfo) -> datetime:
    """The UTC instant at which the wall clock in `tz` reads `wall` on `day`.

    Ambiguous times take their first occurrence; times in a gap map to the gap's end.
    """
    wanted = datetime.combine(day, wall)
    first = wanted.replace(tzinfo=tz).astimezone(UTC)  # fold=0: first occurrence.
    if first.astimezone(tz).replace(tzinfo=None) == wanted:
        return first
    # In a gap, fold=0 reads the time with the offset from before the change, which lands
    # after the gap by its length; fold=1 uses the offset after, which lands before the gap.
    # The change itself lies between the two: find it to the second.
    before = wanted.replace(tzinfo=tz, fold=1).astimezone(UTC)
    after = first
    while after - before > timedelta(seconds=1):
        middle = before + timedelta(seconds=(after - before) // timedelta(seconds=2))
        if middle.astimezone(tz).replace(tzinfo=None) >= wanted:
            after = middle
        else:
            before = middle
    return after


def _checked_ranges(ranges: object, path: str) -> tuple[TimeRange, ...]:
    if not isinstance(ranges, tuple | list) or not all(isinstance(r, TimeRange) for r in ranges):
        raise Invalid("hours.invalid_range", field="hours", path=path)
    ordered = sorted(ranges, key=TimeRange._sort_key)
    for earlier, later in itertools.pairwise(ordered):
        if earlier.overlaps(later):
            raise Invalid("hours.overlapping_ranges", field="hours", path=path)
    return tuple(ordered)


def _day_of(exception: DatedException) -> date:
    return exception.day


def _format_time(value: time) -> str:
    if value.second or value.microsecond:
        return value.isoformat(timespec="seconds")
    return value.isoformat(timespec="minutes")


def _range_to_list(time_range: TimeRange) -> list[str]:
    closes = "24:00" if time_range.ends_at_midnight else _format_time(time_range.closes)
    return [_format_time(time_range.opens), closes]


def _parse_time(value: object, path: str, *, is_closing: bool) -> time:
    match = _TIME_PATTERN.match(value) if isinstance(value, str) else None
    if match is None:
        raise Invalid("hours.invalid_time", field="hours", path=path, value=str(value))
    hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    if is_closing and (hour, minute, second) == (24, 0, 0):
        return MIDNIGHT
    if hour > 23 or minute > 59 or second > 59:
        raise Invalid("hours.invalid_time", field="hours", path=path, value=str(value))
    return time(hour, minute, second)


def _ranges_from_list(data: object, path: str) -> tuple[TimeRange, ...]:
    if not isinstance(data, list):
        raise Invalid("hours.invalid_range", field="hours", path=path)
    ranges = []
    for index, item in enumerate(data):
        item_path = f"{path}[{index}]"
        if not isinstance(item, list) or len(item) != 2:
            raise Invalid("hours.invalid_range", field="hours", path=item_path)
        opens = _parse_time(item[0], item_path, is_closing=False)
        closes = _parse_time(item[1], item_path, is_closing=True)
        try:
            ranges.append(TimeRange(opens, closes))
        except Invalid as error:
            raise Invalid(error.code, field="hours", path=item_path, **error.params) from None
    try:
        return _checked_ranges(ranges, path=path)
    except Invalid as error:
        raise Invalid(error.code, field="hours", path=path) from None


def _exception_from_dict(data: object, path: str) -> DatedException:
    if not isinstance(data, Mapping) or "date" not in data:
        raise Invalid("hours.invalid_exception", field="hours", path=path)
    _reject_unknown_keys(data, {"date", "ranges", "reason"}, path=path)
    raw_day = data["date"]
    try:
        day = date.fromisoformat(raw_day) if isinstance(raw_day, str) else None
    except ValueError:
        day = None
    # fromisoformat also takes "20261225"; the JSON form is the extended "2026-12-25".
    if day is None or len(raw_day) != 10:
        raise Invalid("hours.invalid_date", field="hours", path=f"{path}.date", value=str(raw_day))
    reason = data.get("reason", "")
    if not isinstance(reason, str):
        raise Invalid("hours.invalid_exception", field="hours", path=f"{path}.reason")
    ranges = _ranges_from_list(data.get("ranges", []), path=f"{path}.ranges")
    return DatedException(day=day, ranges=ranges, reason=reason)


def _reject_unknown_keys(data: Mapping[Any, Any], allowed: set[str], path: str) -> None:
    for key in data:
        if key not in allowed:
            raise Invalid("hours.unknown_field", field="hours", path=path, key=str(key))
