from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from loket.demo import load_demo_locations
from loket.domain.catalogue import service_by_code
from loket.domain.errors import Invalid, Refused
from loket.domain.locations import (
    DatedException,
    Location,
    LocationKind,
    OpeningHours,
    TimeRange,
)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
BRUSSELS = ZoneInfo("Europe/Brussels")


def at(tz: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A wall-clock moment in `tz` (fold=0), as UTC."""
    return datetime(year, month, day, hour, minute, tzinfo=tz).astimezone(UTC)


def hours(spec: str) -> tuple[TimeRange, ...]:
    """'08:00-12:00,13:00-24:00' as ranges."""
    ranges = []
    for part in spec.split(","):
        opens, closes = part.split("-")
        ranges.append(TimeRange(time.fromisoformat(opens), _closing(closes)))
    return tuple(ranges)


def _closing(text: str) -> time:
    return time(0, 0) if text == "24:00" else time.fromisoformat(text)


# The Utrecht Smart Police Station's hours (seed 001).
UTRECHT = OpeningHours(
    weekly={
        0: hours("08:00-20:00"),
        1: hours("08:00-20:00"),
        2: hours("08:00-20:00"),
        3: hours("08:00-22:00"),
        4: hours("08:00-22:00"),
        5: hours("09:00-22:00"),
        6: hours("09:00-19:00"),
    }
)
OFFICE = OpeningHours(weekly={day: hours("09:00-12:00,13:00-17:00") for day in range(5)})


def make_location(**overrides: object) -> Location:
    fields: dict[str, object] = {
        "id": None,
        "code": "HH",
        "slug": "houthalen-helchteren",
        "name": "Gemeentehuis Houthalen-Helchteren",
        "municipality": "Houthalen-Helchteren",
        "kind": LocationKind.TOWN_HALL,
        "time_zone": "Europe/Brussels",
        "languages": ("nl", "fr"),
        "service_codes": frozenset({"report.theft", "info.general"}),
        "hours": OFFICE,
    }
    fields.update(overrides)
    return Location(**fields)  # type: ignore[arg-type]


# Open and closed


def test_a_desk_is_open_within_its_hours_and_closed_outside_them() -> None:
    # 2026-06-03 is a Wednesday.
    assert UTRECHT.is_open_at(at(AMSTERDAM, 2026, 6, 3, 8, 0), AMSTERDAM)
    assert UTRECHT.is_open_at(at(AMSTERDAM, 2026, 6, 3, 19, 59), AMSTERDAM)
    assert not UTRECHT.is_open_at(at(AMSTERDAM, 2026, 6, 3, 7, 59), AMSTERDAM)
    assert not UTRECHT.is_open_at(at(AMSTERDAM, 2026, 6, 3, 20, 0), AMSTERDAM)


def test_a_lunch_break_closes_the_desk() -> None:
    assert not OFFICE.is_open_at(at(BRUSSELS, 2026, 6, 3, 12, 30), BRUSSELS)
    assert OFFICE.is_open_at(at(BRUSSELS, 2026, 6, 3, 13, 0), BRUSSELS)


def test_hours_are_read_in_the_location_time_zone() -> None:
    # 19:30 in Amsterdam is 17:30 UTC in summer: a UTC reading would say 17:30, open too.
    # 21:30 UTC is 23:30 local: closed, though 21:30 would be within Thursday's hours.
    assert not UTRECHT.is_open_at(datetime(2026, 6, 4, 21, 30, tzinfo=UTC), AMSTERDAM)
    assert UTRECHT.is_open_at(datetime(2026, 6, 4, 6, 30, tzinfo=UTC), AMSTERDAM)


def test_an_exception_closes_a_normal_day() -> None:
    christmas = OpeningHours(
        weekly=UTRECHT.weekly,
        exceptions=(DatedException(date(2026, 12, 25), reason="Christmas Day"),),
    )
    assert not christmas.is_open_at(at(AMSTERDAM, 2026, 12, 25, 12, 0), AMSTERDAM)
    assert christmas.is_open_at(at(AMSTERDAM, 2026, 12, 24, 12, 0), AMSTERDAM)


def test_an_exception_opens_a_normally_closed_day() -> None:
    # 2027-06-27 is a Sunday, when the office is closed.
    event = OpeningHours(
        weekly=OFFICE.weekly,
        exceptions=(DatedException(date(2027, 6, 27), hours("12:00-23:00"), "Genk On Stage"),),
    )
    assert event.is_open_at(at(BRUSSELS, 2027, 6, 27, 22, 0), BRUSSELS)
    assert not event.is_open_at(at(BRUSSELS, 2027, 6, 27, 11, 0), BRUSSELS)
    assert not event.is_open_at(at(BRUSSELS, 2027, 7, 4, 13, 0), BRUSSELS)


def test_an_exception_replaces_the_weekly_hours_of_that_day() -> None:
    christmas_eve = OpeningHours(
        weekly=UTRECHT.weekly,
        exceptions=(DatedException(date(2026, 12, 24), hours("08:00-18:00"), "Christmas Eve"),),
    )
    assert not christmas_eve.is_open_at(at(AMSTERDAM, 2026, 12, 24, 19, 0), AMSTERDAM)
    assert christmas_eve.closes_at(at(AMSTERDAM, 2026, 12, 24, 12, 0), AMSTERDAM) == at(
        AMSTERDAM, 2026, 12, 24, 18, 0
    )


def test_an_always_open_desk_is_open_at_any_moment() -> None:
    always = OpeningHours(is_always_open=True)
    moment = at(BRUSSELS, 2026, 3, 29, 2, 30)
    assert always.is_open_at(moment, BRUSSELS)
    assert always.next_opening_after(moment, BRUSSELS) is None
    assert always.closes_at(moment, BRUSSELS) is None


def test_an_always_open_desk_still_honours_a_closing_exception() -> None:
    maintenance = OpeningHours(
        is_always_open=True,
        exceptions=(DatedException(date(2027, 2, 16), hours("00:00-06:00,10:00-24:00")),),
    )
    assert not maintenance.is_open_at(at(BRUSSELS, 2027, 2, 16, 8, 0), BRUSSELS)
    assert maintenance.closes_at(at(BRUSSELS, 2027, 2, 10, 8, 0), BRUSSELS) == at(
        BRUSSELS, 2027, 2, 16, 6, 0
    )
    assert maintenance.next_opening_after(at(BRUSSELS, 2027, 2, 16, 8, 0), BRUSSELS) == at(
        BRUSSELS, 2027, 2, 16, 10, 0
    )


def test_a_desk_that_never_opens_has_no_next_opening() -> None:
    never = OpeningHours()
    moment = at(BRUSSELS, 2026, 6, 3, 12, 0)
    assert not never.is_open_at(moment, BRUSSELS)
    assert never.next_opening_after(moment, BRUSSELS) is None
    assert never.closes_at(moment, BRUSSELS) is None


def test_an_opening_more_than_366_days_ahead_is_not_reported() -> None:
    once = OpeningHours(exceptions=(DatedException(date(2028, 1, 10), hours("09:00-12:00")),))
    # 366 days and 21 hours ahead, then 364 days and 21 hours ahead.
    assert once.next_opening_after(at(BRUSSELS, 2027, 1, 8, 12, 0), BRUSSELS) is None
    assert once.next_opening_after(at(BRUSSELS, 2027, 1, 10, 12, 0), BRUSSELS) == at(
        BRUSSELS, 2028, 1, 10, 9, 0
    )


# Next opening


def test_the_next_opening_after_friday_evening_is_monday_morning() -> None:
    # 2026-06-05 is a Friday.
    friday_evening = at(BRUSSELS, 2026, 6, 5, 18, 0)
    assert OFFICE.next_opening_after(friday_evening, BRUSSELS) == at(BRUSSELS, 2026, 6, 8, 9, 0)


def test_the_next_opening_skips_a_closing_exception() -> None:
    # Christmas 2026 is a Friday; the office reopens on Monday the 28th.
    christmas = OpeningHours(weekly=OFFICE.weekly, exceptions=(DatedException(date(2026, 12, 25)),))
    thursday_evening = at(BRUSSELS, 2026, 12, 24, 18, 0)
    assert christmas.next_opening_after(thursday_evening, BRUSSELS) == at(
        BRUSSELS, 2026, 12, 28, 9, 0
    )


def test_the_next_opening_while_open_is_after_the_current_period() -> None:
    morning = at(BRUSSELS, 2026, 6, 3, 10, 0)
    assert OFFICE.next_opening_after(morning, BRUSSELS) == at(BRUSSELS, 2026, 6, 3, 13, 0)


def test_the_next_opening_is_strictly_after_the_moment() -> None:
    opening = at(BRUSSELS, 2026, 6, 3, 9, 0)
    assert OFFICE.next_opening_after(opening, BRUSSELS) == at(BRUSSELS, 2026, 6, 3, 13, 0)
    just_before = opening - timedelta(microseconds=1)
    assert OFFICE.next_opening_after(just_before, BRUSSELS) == opening


def test_the_next_opening_is_returned_in_utc() -> None:
    moment = datetime(2026, 6, 5, 18, 0, tzinfo=BRUSSELS)
    opening = OFFICE.next_opening_after(moment, BRUSSELS)
    assert opening is not None
    assert opening.tzinfo is UTC


def test_the_utrecht_station_opens_at_nine_on_a_saturday() -> None:
    friday_night = at(AMSTERDAM, 2026, 6, 5, 23, 0)
    assert UTRECHT.next_opening_after(friday_night, AMSTERDAM) == at(AMSTERDAM, 2026, 6, 6, 9, 0)


# Across midnight


NIGHT = OpeningHours(weekly={0: hours("20:00-24:00"), 1: hours("00:00-02:00")})


def test_periods_that_touch_at_midnight_are_one_open_period() -> None:
    # 2026-06-01 is a Monday.
    monday_evening = at(BRUSSELS, 2026, 6, 1, 21, 0)
    assert NIGHT.closes_at(monday_evening, BRUSSELS) == at(BRUSSELS, 2026, 6, 2, 2, 0)
    assert NIGHT.is_open_at(at(BRUSSELS, 2026, 6, 2, 0, 0), BRUSSELS)
    assert NIGHT.is_open_at(at(BRUSSELS, 2026, 6, 2, 1, 59), BRUSSELS)
    assert not NIGHT.is_open_at(at(BRUSSELS, 2026, 6, 2, 2, 0), BRUSSELS)


def test_midnight_is_not_a_new_opening() -> None:
    monday_evening = at(BRUSSELS, 2026, 6, 1, 21, 0)
    assert NIGHT.next_opening_after(monday_evening, BRUSSELS) == at(BRUSSELS, 2026, 6, 8, 20, 0)


def test_a_range_ending_at_midnight_closes_at_the_end_of_the_day() -> None:
    evening = OpeningHours(weekly={0: hours("20:00-24:00")})
    assert evening.closes_at(at(BRUSSELS, 2026, 6, 1, 21, 0), BRUSSELS) == at(
        BRUSSELS, 2026, 6, 2, 0, 0
    )
    assert not evening.is_open_at(at(BRUSSELS, 2026, 6, 2, 0, 0), BRUSSELS)


def test_closes_at_is_none_when_closed() -> None:
    assert OFFICE.closes_at(at(BRUSSELS, 2026, 6, 3, 12, 30), BRUSSELS) is None


# Daylight saving time


@pytest.mark.parametrize("tz", [AMSTERDAM, BRUSSELS])
def test_an_opening_time_inside_the_spring_forward_gap_opens_when_the_gap_ends(
    tz: ZoneInfo,
) -> None:
    # On 2026-03-29 the clocks jump from 02:00 to 03:00: 02:30 never happens.
    early = OpeningHours(weekly={6: hours("02:30-12:00")})
    saturday = at(tz, 2026, 3, 28, 12, 0)
    opening = early.next_opening_after(saturday, tz)
    assert opening == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert opening.astimezone(tz).time() == time(3, 0)
    assert early.is_open_at(opening, tz)
    assert not early.is_open_at(opening - timedelta(microseconds=1), tz)


@pytest.mark.parametrize("tz", [AMSTERDAM, BRUSSELS])
def test_an_opening_time_in_the_repeated_fall_back_hour_takes_its_first_occurrence(
    tz: ZoneInfo,
) -> None:
    # On 2026-10-25 the clocks go back from 03:00 to 02:00: 02:30 happens twice.
    early = OpeningHours(weekly={6: hours("02:30-12:00")})
    opening = early.next_opening_after(at(tz, 2026, 10, 24, 12, 0), tz)
    assert opening == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 summer time.


@pytest.mark.parametrize(
    ("tz", "saturday", "real_hours"),
    [
        (AMSTERDAM, date(2026, 3, 28), 7),
        (AMSTERDAM, date(2026, 10, 24), 9),
        (BRUSSELS, date(2026, 3, 28), 7),
        (BRUSSELS, date(2026, 10, 24), 9),
        (BRUSSELS, date(2026, 6, 6), 8),
    ],
)
def test_a_night_across_the_clock_change_lasts_an_hour_less_or_more(
    tz: ZoneInfo, saturday: date, real_hours: int
) -> None:
    night = OpeningHours(weekly={5: hours("22:00-24:00"), 6: hours("00:00-06:00")})
    opening = night.next_opening_after(at(tz, saturday.year, saturday.month, saturday.day), tz)
    assert opening is not None
    closing = night.closes_at(opening, tz)
    assert closing is not None
    assert closing - opening == timedelta(hours=real_hours)
    assert closing.astimezone(tz).time() == time(6, 0)


def test_a_day_shift_on_the_clock_change_keeps_its_wall_clock_hours() -> None:
    # 08:00-20:00 does not cross 02:00-03:00, so it lasts twelve real hours on that Sunday.
    sunday = OpeningHours(weekly={6: hours("08:00-20:00")})
    opening = sunday.next_opening_after(at(AMSTERDAM, 2026, 3, 28, 12, 0), AMSTERDAM)
    assert opening == at(AMSTERDAM, 2026, 3, 29, 8, 0)
    assert sunday.closes_at(opening, AMSTERDAM) == opening + timedelta(hours=12)


def test_a_range_wholly_inside_the_spring_forward_gap_never_opens() -> None:
    lost = OpeningHours(weekly={6: hours("02:00-02:45")})
    opening = lost.next_opening_after(at(AMSTERDAM, 2026, 3, 28, 12, 0), AMSTERDAM)
    assert opening == at(AMSTERDAM, 2026, 4, 5, 2, 0)


def test_a_desk_open_on_a_fall_back_night_is_open_in_both_occurrences_of_the_hour() -> None:
    night = OpeningHours(weekly={5: hours("22:00-24:00"), 6: hours("00:00-06:00")})
    first_half_past_two = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    second_half_past_two = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert night.is_open_at(first_half_past_two, AMSTERDAM)
    assert night.is_open_at(second_half_past_two, AMSTERDAM)


PROPERTY_HOURS = [
    OpeningHours(
        weekly=UTRECHT.weekly,
        exceptions=(
            DatedException(date(2026, 12, 25)),
            DatedException(date(2026, 12, 24), hours("08:00-18:00")),
        ),
    ),
    OpeningHours(
        weekly={
            0: hours("09:00-12:00,13:00-17:00"),
            3: hours("20:00-24:00"),
            4: hours("00:00-02:00"),
            5: hours("22:00-24:00"),
            6: hours("00:00-02:30,02:45-06:00,23:00-24:00"),
        },
        exceptions=(DatedException(date(2026, 7, 15), hours("10:00-11:00")),),
    ),
    OpeningHours(
        is_always_open=True,
        exceptions=(DatedException(date(2026, 3, 29)), DatedException(date(2027, 3, 28))),
    ),
]


@settings(deadline=None, max_examples=200)
@given(
    moment=st.datetimes(
        min_value=datetime(2026, 1, 1),
        max_value=datetime(2027, 1, 1),
        timezones=st.just(UTC),
    ),
    hours_index=st.integers(min_value=0, max_value=len(PROPERTY_HOURS) - 1),
    tz=st.sampled_from([AMSTERDAM, BRUSSELS]),
)
def test_the_next_opening_is_open_and_the_instant_before_it_closed(
    moment: datetime, hours_index: int, tz: ZoneInfo
) -> None:
    opening_hours = PROPERTY_HOURS[hours_index]
    opening = opening_hours.next_opening_after(moment, tz)
    assert opening is not None
    assert opening > moment
    assert opening_hours.is_open_at(opening, tz)
    assert not opening_hours.is_open_at(opening - timedelta(microseconds=1), tz)


def test_a_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        OFFICE.is_open_at(datetime(2026, 6, 3, 10, 0), BRUSSELS)


# Validation and the JSON form


def test_a_range_must_close_after_it_opens() -> None:
    with pytest.raises(Invalid) as error:
        TimeRange(time(20, 0), time(8, 0))
    assert error.value.code == "hours.invalid_range"
    with pytest.raises(Invalid):
        TimeRange(time(8, 0), time(8, 0))


def test_midnight_as_closing_time_means_the_end_of_the_day() -> None:
    assert TimeRange(time(20, 0), time(0, 0)).ends_at_midnight
    assert TimeRange(time(0, 0), time(0, 0)).ends_at_midnight


def test_overlapping_ranges_on_one_day_are_refused() -> None:
    with pytest.raises(Invalid) as error:
        OpeningHours(weekly={0: hours("08:00-12:00,11:00-17:00")})
    assert error.value.code == "hours.overlapping_ranges"


def test_two_exceptions_on_one_date_are_refused() -> None:
    with pytest.raises(Invalid) as error:
        OpeningHours(
            exceptions=(DatedException(date(2026, 12, 25)), DatedException(date(2026, 12, 25)))
        )
    assert error.value.code == "hours.duplicate_exception"


def test_always_open_with_weekly_hours_is_refused() -> None:
    with pytest.raises(Invalid) as error:
        OpeningHours(weekly=OFFICE.weekly, is_always_open=True)
    assert error.value.code == "hours.always_open_with_weekly"


def test_opening_hours_survive_a_round_trip_through_the_json_form() -> None:
    original = OpeningHours(
        weekly={**UTRECHT.weekly, 0: hours("08:00-12:00,20:00-24:00")},
        exceptions=(
            DatedException(date(2026, 12, 25), reason="Christmas Day"),
            DatedException(date(2026, 12, 24), hours("08:00-18:00"), "Christmas Eve"),
        ),
    )
    data = original.to_dict()
    assert data["weekly"]["mon"] == [["08:00", "12:00"], ["20:00", "24:00"]]
    assert data["exceptions"][0] == {
        "date": "2026-12-24",
        "ranges": [["08:00", "18:00"]],
        "reason": "Christmas Eve",
    }
    assert OpeningHours.from_dict(data) == original
    assert hash(OpeningHours.from_dict(data)) == hash(original)


def test_the_json_form_of_always_open_round_trips() -> None:
    always = OpeningHours(is_always_open=True)
    assert always.to_dict()["always_open"] is True
    assert OpeningHours.from_dict(always.to_dict()) == always


def test_the_json_form_may_leave_out_closed_days() -> None:
    parsed = OpeningHours.from_dict({"weekly": {"mon": [["09:00", "17:00"]]}})
    assert parsed == OpeningHours(weekly={0: hours("09:00-17:00"), 6: ()})


@pytest.mark.parametrize(
    ("data", "code"),
    [
        ([], "hours.not_an_object"),
        ({"always_open": "yes"}, "hours.invalid_always_open"),
        ({"opening": {}}, "hours.unknown_field"),
        ({"weekly": []}, "hours.invalid_weekly"),
        ({"weekly": {"monday": []}}, "hours.unknown_day"),
        ({"weekly": {"mon": [["08:00"]]}}, "hours.invalid_range"),
        ({"weekly": {"mon": "08:00-20:00"}}, "hours.invalid_range"),
        ({"weekly": {"mon": [["20:00", "08:00"]]}}, "hours.invalid_range"),
        ({"weekly": {"mon": [["8:00", "20:00"]]}}, "hours.invalid_time"),
        ({"weekly": {"mon": [["08:00", "25:00"]]}}, "hours.invalid_time"),
        ({"weekly": {"mon": [["24:00", "24:00"]]}}, "hours.invalid_time"),
        ({"weekly": {"mon": [[8, 20]]}}, "hours.invalid_time"),
        ({"weekly": {"mon": [["08:00", "12:00"], ["11:00", "13:00"]]}}, "hours.overlapping_ranges"),
        ({"exceptions": {}}, "hours.invalid_exception"),
        ({"exceptions": [{"ranges": []}]}, "hours.invalid_exception"),
        ({"exceptions": [{"date": "2026-12-25", "why": ""}]}, "hours.unknown_field"),
        ({"exceptions": [{"date": "2026-12-25", "reason": 1}]}, "hours.invalid_exception"),
        ({"exceptions": [{"date": "25-12-2026"}]}, "hours.invalid_date"),
        ({"exceptions": [{"date": "20261225"}]}, "hours.invalid_date"),
        ({"exceptions": [{"date": "2026-02-30"}]}, "hours.invalid_date"),
        (
            {"exceptions": [{"date": "2026-12-25"}, {"date": "2026-12-25"}]},
            "hours.duplicate_exception",
        ),
        (
            {"always_open": True, "weekly": {"mon": [["08:00", "20:00"]]}},
            "hours.always_open_with_weekly",
        ),
    ],
)
def test_bad_json_hours_are_refused_with_a_clear_code(data: object, code: str) -> None:
    with pytest.raises(Invalid) as error:
        OpeningHours.from_dict(data)
    assert error.value.code == code
    assert error.value.field == "hours"


def test_a_bad_json_time_names_where_it_is() -> None:
    with pytest.raises(Invalid) as error:
        OpeningHours.from_dict({"weekly": {"tue": [["08:00", "12:00"], ["13:00", "99:00"]]}})
    assert error.value.params["path"] == "weekly.tue[1]"


# Locations


def test_a_location_reads_its_hours_in_its_own_time_zone() -> None:
    location = make_location()
    assert location.zone == BRUSSELS
    assert location.is_open_at(at(BRUSSELS, 2026, 6, 3, 9, 0))
    assert location.next_opening_after(at(BRUSSELS, 2026, 6, 5, 18, 0)) == at(
        BRUSSELS, 2026, 6, 8, 9, 0
    )


def test_the_local_date_follows_the_location_time_zone() -> None:
    location = make_location()
    late_utc = datetime(2026, 6, 3, 22, 30, tzinfo=UTC)  # 00:30 on the 4th in Brussels.
    assert location.local_date(late_utc) == date(2026, 6, 4)


def test_a_location_offers_only_its_services() -> None:
    location = make_location()
    assert location.offers("report.theft")
    assert not location.offers("report.burglary")


def test_an_open_location_takes_a_ticket_for_a_service_it_offers() -> None:
    make_location().check_can_take_ticket("report.theft", at(BRUSSELS, 2026, 6, 3, 10, 0))


def test_a_closed_location_refuses_a_ticket_and_says_when_it_opens() -> None:
    with pytest.raises(Refused) as error:
        make_location().check_can_take_ticket("report.theft", at(BRUSSELS, 2026, 6, 5, 18, 0))
    assert error.value.code == "location.closed"
    assert error.value.params["next_opening_at"] == at(BRUSSELS, 2026, 6, 8, 9, 0)


def test_a_location_refuses_a_ticket_for_a_service_it_does_not_offer() -> None:
    with pytest.raises(Refused) as error:
        make_location().check_can_take_ticket("report.burglary", at(BRUSSELS, 2026, 6, 3, 10, 0))
    assert error.value.code == "location.service_not_offered"
    assert error.value.field == "service"
    assert error.value.params["service"] == "report.burglary"


def test_an_inactive_location_refuses_a_ticket() -> None:
    with pytest.raises(Refused) as error:
        make_location(is_active=False).check_can_take_ticket(
            "report.theft", at(BRUSSELS, 2026, 6, 3, 10, 0)
        )
    assert error.value.code == "location.inactive"


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"code": "H"}, "location.invalid_code"),
        ({"code": "hh"}, "location.invalid_code"),
        ({"code": "HOUTH"}, "location.invalid_code"),
        ({"code": "H1"}, "location.invalid_code"),
        ({"slug": "Houthalen Helchteren"}, "location.invalid_slug"),
        ({"slug": "houthalen--helchteren"}, "location.invalid_slug"),
        ({"name": " "}, "location.invalid_name"),
        ({"municipality": ""}, "location.invalid_municipality"),
        ({"time_zone": "Europe/Genk"}, "location.invalid_time_zone"),
        ({"time_zone": "../etc/passwd"}, "location.invalid_time_zone"),
        ({"languages": ()}, "location.no_language"),
        ({"languages": ("nld",)}, "location.invalid_language"),
        ({"languages": ("NL",)}, "location.invalid_language"),
        ({"languages": ("nl", "nl")}, "location.duplicate_language"),
        ({"country": "Belgium"}, "location.invalid_country"),
    ],
)
def test_a_location_with_bad_fields_is_refused(overrides: dict[str, object], code: str) -> None:
    with pytest.raises(Invalid) as error:
        make_location(**overrides)
    assert error.value.code == code


def test_an_online_location_needs_no_municipality() -> None:
    online = make_location(code="WEB", slug="online", municipality="", kind=LocationKind.ONLINE)
    assert online.kind is LocationKind.ONLINE


# Demo data


def test_the_demo_locations_load() -> None:
    locations = load_demo_locations()
    assert all(location.id is None for location in locations)
    assert len({location.code for location in locations}) == len(locations)
    assert len({location.slug for location in locations}) == len(locations)


def test_the_demo_has_ten_carma_desks_in_eight_municipalities() -> None:
    desks = [
        location
        for location in load_demo_locations()
        if location.country == "BE" and location.kind is not LocationKind.ONLINE
    ]
    assert len(desks) == 10
    assert {desk.municipality for desk in desks} == {
        "Genk",
        "Houthalen-Helchteren",
        "Bree",
        "Zutendaal",
        "As",
        "Oudsbergen",
        "Bocholt",
        "Peer",
    }
    assert sum(desk.municipality == "Genk" for desk in desks) == 2
    assert sum(desk.municipality == "Oudsbergen" for desk in desks) == 2
    assert all(desk.time_zone == "Europe/Brussels" for desk in desks)
    assert all(desk.hours.exceptions for desk in desks)


def test_the_demo_main_desk_in_genk_is_open_around_the_clock() -> None:
    genk = next(location for location in load_demo_locations() if location.code == "GNK")
    assert genk.municipality == "Genk"
    assert genk.hours.is_always_open
    assert genk.is_open_at(at(BRUSSELS, 2026, 12, 25, 3, 0))


def test_the_demo_utrecht_station_keeps_the_hours_of_the_seed() -> None:
    utrecht = next(location for location in load_demo_locations() if location.country == "NL")
    assert utrecht.kind is LocationKind.PUBLIC_PLACE
    assert utrecht.time_zone == "Europe/Amsterdam"
    assert utrecht.hours.weekly == UTRECHT.weekly


def test_the_demo_has_an_online_desk_that_is_always_open() -> None:
    online = [
        location for location in load_demo_locations() if location.kind is LocationKind.ONLINE
    ]
    assert len(online) == 1
    assert online[0].hours.is_always_open


def test_every_demo_service_code_is_in_the_catalogue() -> None:
    for location in load_demo_locations():
        assert location.service_codes
        for code in location.service_codes:
            assert service_by_code(code).code == code
