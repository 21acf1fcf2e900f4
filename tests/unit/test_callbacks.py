"""Callback requests in the domain: slots in the back office's hours, numbers, the life cycle."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from loket.domain.callbacks import (
    SLOT_LENGTH,
    Callback,
    CallbackMode,
    CallbackOutcome,
    CallbackPolicy,
    CallbackState,
    bookable_slots,
    ceil_to_slot,
    check_slot,
    is_reference,
    new_reference,
    normalise_email,
    normalise_phone,
    slots_in_hours,
)
from loket.domain.errors import Invalid, Refused
from loket.domain.locations import DatedException, Location, LocationKind, OpeningHours, TimeRange

BRUSSELS_WINTER = timedelta(hours=1)
POLICY = CallbackPolicy()


def office(hours: OpeningHours) -> Location:
    return Location(
        id=1,
        code="WEB",
        slug="online",
        name="Online",
        municipality="",
        kind=LocationKind.ONLINE,
        time_zone="Europe/Brussels",
        languages=("nl", "fr", "en"),
        service_codes=frozenset({"contact.callback"}),
        hours=hours,
    )


def weekdays(*ranges: tuple[time, time]) -> OpeningHours:
    spans = tuple(TimeRange(opens, closes) for opens, closes in ranges)
    return OpeningHours(weekly={day: spans for day in range(5)})


OFFICE = office(weekdays((time(8, 50), time(12, 0)), (time(13, 0), time(16, 10))))


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def local_day(location: Location, day: date) -> list[str]:
    start = datetime.combine(day, time(0), tzinfo=location.zone)
    slots = slots_in_hours(location, start, start + timedelta(days=1))
    return [slot.start_at.astimezone(location.zone).strftime("%H:%M") for slot in slots]


def test_slots_lie_wholly_inside_the_opening_hours_on_quarter_hours() -> None:
    # Tuesday 12 January 2027.
    starts = local_day(OFFICE, date(2027, 1, 12))
    assert starts[0] == "09:00"  # opens at 08:50: the first whole quarter starts at 09:00
    assert "11:45" in starts and "12:00" not in starts
    assert starts[starts.index("11:45") + 1] == "13:00"
    assert starts[-1] == "15:45"  # 16:00-16:15 would run past 16:10
    assert len(starts) == 12 + 12


def test_a_closed_day_has_no_slots() -> None:
    assert local_day(OFFICE, date(2027, 1, 16)) == []  # Saturday
    assert local_day(OFFICE, date(2027, 1, 17)) == []  # Sunday


def test_a_dated_exception_replaces_the_weekly_hours() -> None:
    hours = OpeningHours(
        weekly=weekdays((time(9, 0), time(17, 0))).weekly,
        exceptions=(
            DatedException(date(2027, 1, 12)),
            DatedException(date(2027, 1, 13), (TimeRange(time(10, 0), time(11, 0)),)),
        ),
    )
    location = office(hours)
    assert local_day(location, date(2027, 1, 12)) == []
    assert local_day(location, date(2027, 1, 13)) == ["10:00", "10:15", "10:30", "10:45"]
    assert len(local_day(location, date(2027, 1, 14))) == 32


def test_slots_follow_the_wall_clock_across_daylight_saving() -> None:
    always = office(OpeningHours(is_always_open=True))
    # The night clocks go back (25 hours) and forward (23 hours) in Brussels.
    assert len(local_day(always, date(2026, 10, 25))) == 25 * 4
    assert len(local_day(always, date(2027, 3, 28))) == 23 * 4
    # A desk opening at 09:00 opens at 08:00 UTC in winter and 07:00 UTC in summer.
    location = office(
        OpeningHours(weekly={day: (TimeRange(time(9, 0), time(10, 0)),) for day in range(7)})
    )
    before = datetime(2027, 3, 27, tzinfo=UTC)
    after = datetime(2027, 3, 29, tzinfo=UTC)
    starts = [slot.start_at for slot in slots_in_hours(location, before, after + timedelta(1))]
    assert starts[0] == utc(2027, 3, 27, 8, 0)
    assert starts[4] == utc(2027, 3, 28, 7, 0)
    assert local_day(location, date(2027, 3, 28))[0] == "09:00"


def test_bookable_slots_start_after_the_lead_time_and_end_at_the_horizon() -> None:
    now = utc(2027, 1, 12, 9, 3)  # 10:03 in Brussels
    slots = bookable_slots(OFFICE, now, POLICY, {})
    assert slots[0].start_at == utc(2027, 1, 12, 9, 45)  # 10:33 rounded up to 10:45
    assert slots[-1].start_at < now + timedelta(days=POLICY.days_ahead)
    assert all(slot.end_at - slot.start_at == SLOT_LENGTH for slot in slots)


def test_a_full_slot_is_not_offered_and_cannot_be_booked() -> None:
    now = utc(2027, 1, 12, 7, 0)
    full = utc(2027, 1, 12, 9, 0)
    slots = bookable_slots(OFFICE, now, POLICY, {full: POLICY.capacity})
    assert full not in [slot.start_at for slot in slots]
    assert utc(2027, 1, 12, 9, 15) in [slot.start_at for slot in slots]
    with pytest.raises(Refused) as refused:
        check_slot(OFFICE, full, now, POLICY, booked=POLICY.capacity)
    assert refused.value.code == "slot.full"
    assert check_slot(OFFICE, full, now, POLICY, booked=POLICY.capacity - 1).start_at == full


@pytest.mark.parametrize(
    ("start", "code"),
    [
        (utc(2027, 1, 12, 7, 15), "slot.past"),  # before now + lead time
        (utc(2027, 1, 12, 11, 0), "slot.outside_hours"),  # 12:00 lunch break
        (utc(2027, 1, 12, 9, 5), "slot.outside_hours"),  # not on a quarter hour
        (utc(2027, 1, 16, 9, 0), "slot.outside_hours"),  # Saturday
        (utc(2027, 3, 1, 9, 0), "slot.too_far"),
    ],
)
def test_a_time_outside_the_rules_is_refused_with_its_reason(start: datetime, code: str) -> None:
    with pytest.raises(Invalid) as refused:
        check_slot(OFFICE, start, utc(2027, 1, 12, 7, 0), POLICY, booked=0)
    assert refused.value.code == code
    assert refused.value.field == "slot"


def test_ceiling_to_a_slot_keeps_quarter_hours_and_rounds_the_rest_up() -> None:
    assert ceil_to_slot(utc(2027, 1, 12, 9, 0)) == utc(2027, 1, 12, 9, 0)
    assert ceil_to_slot(utc(2027, 1, 12, 9, 0, 1)) == utc(2027, 1, 12, 9, 15)
    assert ceil_to_slot(utc(2027, 1, 12, 9, 50)) == utc(2027, 1, 12, 10, 0)


@pytest.mark.parametrize(
    ("raw", "country", "expected"),
    [
        ("0470 12 34 56", "BE", "+32470123456"),
        ("011/23.45.67", "BE", "+3211234567"),
        ("06-12345678", "NL", "+31612345678"),
        ("06 12345678", "BE", "+31612345678"),  # a Dutch mobile typed at a Belgian desk
        ("030 123 4567", "NL", "+31301234567"),
        ("0032 470 12 34 56", "NL", "+32470123456"),
        ("+49 (30) 1234567", "BE", "+49301234567"),
    ],
)
def test_phone_numbers_are_stored_in_international_form(
    raw: str, country: str, expected: str
) -> None:
    assert normalise_phone(raw, country) == expected


@pytest.mark.parametrize(
    "raw", ["", "112", "0470 12 34 567", "+32 470 12 34 567", "call me", "+0 123 456 789", "0470"]
)
def test_a_number_that_cannot_be_called_is_refused(raw: str) -> None:
    with pytest.raises(Invalid) as refused:
        normalise_phone(raw, "BE")
    assert (refused.value.code, refused.value.field) == ("callback.phone_invalid", "phone")


def test_email_addresses_are_trimmed_and_checked() -> None:
    assert normalise_email("  an@example.be ") == "an@example.be"
    for bad in ("an", "an@", "an@localhost", "a n@example.be", "an@-x.be"):
        with pytest.raises(Invalid):
            normalise_email(bad)


def test_references_are_short_and_free_of_look_alike_characters() -> None:
    references = {new_reference() for _ in range(200)}
    assert len(references) > 190
    for reference in references:
        assert is_reference(reference)
        assert not set(reference[3:]) & set("01ILO")


def booked(mode: CallbackMode = CallbackMode.PHONE, contact: str = "0470123456") -> Callback:
    now = utc(2027, 1, 12, 7, 0)
    slot = check_slot(OFFICE, utc(2027, 1, 12, 9, 0), now, POLICY, booked=0)
    return Callback.request(
        mode=mode,
        language="nl",
        location=OFFICE,
        slot=slot,
        contact=contact,
        country="BE",
        at=now,
    )


def test_a_callback_not_answered_is_tried_again_until_the_attempts_run_out() -> None:
    callback = booked()
    assert callback.phone == "+32470123456" and callback.email is None
    assert [e.type for e in callback.events] == ["callback.requested"]
    at = utc(2027, 1, 12, 9, 0)
    for attempt in range(1, POLICY.max_attempts):
        callback.release(f"ticket{attempt}", at)
        callback.record_outcome(CallbackOutcome.NO_ANSWER, at, POLICY, at + timedelta(hours=1))
        assert callback.state is CallbackState.SCHEDULED
        assert callback.attempts == attempt
        at += timedelta(hours=1)
        assert callback.due_at == at
    callback.release("last", at)
    callback.record_outcome(CallbackOutcome.NO_ANSWER, at, POLICY, at + timedelta(hours=1))
    assert callback.state is CallbackState.FAILED
    assert callback.events[-1].type == "callback.failed"


def test_a_callback_reached_is_done_and_cannot_be_cancelled() -> None:
    callback = booked(CallbackMode.VIDEO, " an@example.be")
    assert callback.email == "an@example.be" and callback.phone is None
    at = utc(2027, 1, 12, 9, 0)
    callback.release("t1", at)
    callback.record_outcome(CallbackOutcome.REACHED, at, POLICY, None)
    assert callback.state is CallbackState.REACHED
    with pytest.raises(Refused) as refused:
        callback.cancel(at)
    assert refused.value.code == "callback.illegal_transition"


def test_a_scheduled_callback_can_be_cancelled_and_events_carry_no_contact() -> None:
    callback = booked()
    callback.cancel(utc(2027, 1, 12, 8, 0))
    assert callback.state is CallbackState.CANCELLED
    payload = str([event.payload() for event in callback.events])
    assert "+32470123456" not in payload and callback.id not in payload
    assert callback.reference in payload


def test_a_language_the_back_office_does_not_speak_is_refused() -> None:
    with pytest.raises(Invalid) as refused:
        Callback.request(
            mode=CallbackMode.PHONE,
            language="de",
            location=OFFICE,
            slot=check_slot(OFFICE, utc(2027, 1, 12, 9, 0), utc(2027, 1, 12, 7), POLICY, 0),
            contact="0470123456",
            country="BE",
            at=utc(2027, 1, 12, 7, 0),
        )
    assert refused.value.field == "language"
