"""Callback requests: a citizen books a time, the back office calls them by phone or video."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from loket.domain.errors import Invalid, Refused
from loket.domain.events import (
    CallbackCancelled,
    CallbackFailed,
    CallbackQueued,
    CallbackReached,
    CallbackRequested,
    CallbackRescheduled,
    CallbackSnapshot,
    Event,
)
from loket.domain.locations import Location

# A slot is a quarter of an hour. Every time zone's offset is a multiple of 15 minutes,
# so slots aligned on UTC quarters are also aligned on the desk's wall clock.
SLOT_LENGTH = timedelta(minutes=15)

# References are read aloud on the phone: no 0/O, 1/I/L look-alikes.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
REFERENCE_LENGTH = 6
REFERENCE_PREFIX = "TB"  # terugbelverzoek
_REFERENCE_PATTERN = re.compile(
    rf"^{REFERENCE_PREFIX}-[{REFERENCE_ALPHABET}]{{{REFERENCE_LENGTH}}}$"
)

MAX_EMAIL_LENGTH = 254
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
# A local part without spaces, and a domain of at least two labels: the rest is for the
# mail server to judge (the full grammar of addresses accepts much nobody uses).
_EMAIL_PATTERN = re.compile(rf"^[^@\s]{{1,64}}@{_LABEL}(?:\.{_LABEL})+$")
# Separators people type in phone numbers; they carry no meaning.
_PHONE_SEPARATORS = re.compile(r"[\s().\-/]")
# Country calling codes of the desks' countries, and the length of a national number
# after its leading 0 (NL: always 9 digits; BE: 8 for landlines, 9 for mobiles).
_NATIONAL = {"NL": ("31", (9,)), "BE": ("32", (8, 9))}


class CallbackMode(StrEnum):
    PHONE = "phone"
    VIDEO = "video"


class CallbackState(StrEnum):
    SCHEDULED = "scheduled"  # waiting for its time
    QUEUED = "queued"  # a ticket is in the officer queue
    REACHED = "reached"
    FAILED = "failed"  # not answered after the last attempt
    CANCELLED = "cancelled"


class CallbackStep(StrEnum):
    RELEASE = "release"
    REACH = "reach"
    RETRY = "retry"
    GIVE_UP = "give_up"
    CANCEL = "cancel"


class CallbackOutcome(StrEnum):
    REACHED = "reached"
    NO_ANSWER = "no_answer"


C = CallbackState
TRANSITIONS: dict[tuple[CallbackState, CallbackStep], CallbackState] = {
    (C.SCHEDULED, CallbackStep.RELEASE): C.QUEUED,
    (C.SCHEDULED, CallbackStep.CANCEL): C.CANCELLED,
    (C.QUEUED, CallbackStep.REACH): C.REACHED,
    # No answer: booked again a little later, until the attempts run out.
    (C.QUEUED, CallbackStep.RETRY): C.SCHEDULED,
    (C.QUEUED, CallbackStep.GIVE_UP): C.FAILED,
    # The citizen may cancel while the ticket waits; the service cancels the ticket too.
    (C.QUEUED, CallbackStep.CANCEL): C.CANCELLED,
}
ACTIVE_STATES = frozenset({C.SCHEDULED, C.QUEUED})


@dataclass(frozen=True)
class CallbackPolicy:
    """The numbers of callback booking; see docs/callbacks.md for the reasons."""

    # Time the back office needs to see a booking coming.
    lead_time: timedelta = timedelta(minutes=30)
    days_ahead: int = 14
    # Callbacks one slot can hold: how many officers can call at the same time.
    capacity: int = 2
    # A callback not answered is tried again this much later, at most max_attempts in all.
    retry_after: timedelta = timedelta(minutes=15)
    max_attempts: int = 3


@dataclass(frozen=True)
class Slot:
    start_at: datetime
    end_at: datetime


def slots_in_hours(location: Location, start: datetime, end: datetime) -> Iterator[Slot]:
    """Slots wholly inside the desk's open periods, starting at or after `start`, before `end`.

    The open periods already respect dated exceptions and daylight saving (they are UTC).
    """
    for opens, closes in location.hours.open_periods(start, end, location.zone):
        slot_start = ceil_to_slot(opens)
        while slot_start + SLOT_LENGTH <= closes:
            yield Slot(slot_start, slot_start + SLOT_LENGTH)
            slot_start += SLOT_LENGTH


def bookable_slots(
    location: Location,
    now: datetime,
    policy: CallbackPolicy,
    booked: Mapping[datetime, int],
    *,
    start: datetime | None = None,
    end: datetime | None = None,
) -> list[Slot]:
    """Free slots between now + lead time and the booking horizon, optionally narrowed."""
    earliest = now + policy.lead_time
    latest = now + timedelta(days=policy.days_ahead)
    window_start = earliest if start is None else max(start, earliest)
    window_end = latest if end is None else min(end, latest)
    if window_start >= window_end:
        return []
    return [
        slot
        for slot in slots_in_hours(location, window_start, window_end)
        if booked.get(slot.start_at, 0) < policy.capacity
    ]


def check_slot(
    location: Location, start_at: datetime, now: datetime, policy: CallbackPolicy, booked: int
) -> Slot:
    """The slot that starts at `start_at` if it may be booked now, else a domain error."""
    if start_at < now + policy.lead_time:
        raise Invalid("slot.past", field="slot")
    if start_at > now + timedelta(days=policy.days_ahead):
        raise Invalid("slot.too_far", field="slot", days=policy.days_ahead)
    if ceil_to_slot(start_at) != start_at:
        raise Invalid("slot.outside_hours", field="slot")
    inside = any(
        slot.start_at == start_at
        for slot in slots_in_hours(location, start_at, start_at + SLOT_LENGTH)
    )
    if not inside:
        raise Invalid("slot.outside_hours", field="slot")
    if booked >= policy.capacity:
        raise Refused("slot.full", field="slot")
    return Slot(start_at, start_at + SLOT_LENGTH)


def next_slot_after(location: Location, moment: datetime, policy: CallbackPolicy) -> Slot | None:
    """The first slot inside opening hours starting at or after `moment` (full or not)."""
    horizon = moment + timedelta(days=policy.days_ahead)
    return next(iter(slots_in_hours(location, moment, horizon)), None)


def ceil_to_slot(moment: datetime) -> datetime:
    """`moment` rounded up to the next quarter hour (unchanged when already on one)."""
    moment = moment.astimezone(UTC)
    epoch = moment.replace(minute=0, second=0, microsecond=0)
    rest = moment - epoch
    quarters = -(-rest // SLOT_LENGTH)
    return epoch + quarters * SLOT_LENGTH


def new_reference() -> str:
    code = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))
    return f"{REFERENCE_PREFIX}-{code}"


def is_reference(value: str) -> bool:
    return bool(_REFERENCE_PATTERN.match(value))


def new_callback_id() -> str:
    """The key of the citizen's callback page: 128 random bits, so it cannot be guessed."""
    return secrets.token_hex(16)


def normalise_phone(raw: str, country: str) -> str:
    """A phone number in E.164 (+32470123456); Dutch and Belgian local forms are accepted.

    Raises Invalid("callback.phone_invalid", field="phone").
    """
    number = _PHONE_SEPARATORS.sub("", raw.strip())
    if number.startswith("00"):
        number = "+" + number[2:]
    if country == "BE" and len(number) == 10 and number.startswith("06"):
        # A Dutch mobile (06 and 8 digits) typed at a Belgian desk: Belgian 06x
        # numbers are landlines of 9 digits, so there is no doubt.
        country = "NL"
    if not number.startswith("+") and number.startswith("0") and country in _NATIONAL:
        calling_code, lengths = _NATIONAL[country]
        national = number[1:]
        if national.isdigit() and len(national) in lengths:
            number = f"+{calling_code}{national}"
    digits = number[1:]
    # E.164: at most 15 digits; 8 is the shortest number a person can be called back on.
    if not number.startswith("+") or not digits.isdigit() or not 8 <= len(digits) <= 15:
        raise Invalid("callback.phone_invalid", field="phone")
    if digits.startswith("0"):
        raise Invalid("callback.phone_invalid", field="phone")
    for calling_code, lengths in _NATIONAL.values():
        # Our own countries' numbers are checked closely: a digit too many is a typo.
        national = digits[len(calling_code) :]
        if digits.startswith(calling_code) and len(national) not in lengths:
            raise Invalid("callback.phone_invalid", field="phone")
    return number


def normalise_email(raw: str) -> str:
    """A plausible e-mail address, trimmed; raises Invalid("callback.email_invalid")."""
    address = raw.strip()
    if len(address) > MAX_EMAIL_LENGTH or not _EMAIL_PATTERN.match(address):
        raise Invalid("callback.email_invalid", field="email")
    return address


@dataclass
class Callback:
    id: str
    reference: str
    mode: CallbackMode
    language: str
    location_id: int  # the desk that serves it: the online desk stands for the back office
    slot_start_at: datetime
    slot_end_at: datetime
    due_at: datetime  # the slot's start, or the time of the next attempt
    state: CallbackState
    requested_at: datetime
    changed_at: datetime
    phone: str | None = None
    email: str | None = None
    attempts: int = 0
    ticket_id: str | None = None
    finished_at: datetime | None = None
    idempotency_key: str | None = None
    version: int = 0
    events: list[Event] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def request(
        cls,
        *,
        mode: CallbackMode,
        language: str,
        location: Location,
        slot: Slot,
        contact: str,
        country: str,
        at: datetime,
        idempotency_key: str | None = None,
    ) -> Callback:
        """A new scheduled callback; `contact` is the phone number or e-mail address.

        Local phone numbers are read as numbers of `country` (the desk where it was booked).

        Records CallbackRequested.
        """
        if language not in location.languages:
            raise Invalid("callback.language_not_offered", field="language", language=language)
        assert location.id is not None
        phone = normalise_phone(contact, country) if mode is CallbackMode.PHONE else None
        email = normalise_email(contact) if mode is CallbackMode.VIDEO else None
        callback = cls(
            id=new_callback_id(),
            reference=new_reference(),
            mode=mode,
            language=language,
            location_id=location.id,
            slot_start_at=slot.start_at,
            slot_end_at=slot.end_at,
            due_at=slot.start_at,
            state=C.SCHEDULED,
            requested_at=at,
            changed_at=at,
            phone=phone,
            email=email,
            idempotency_key=idempotency_key,
        )
        callback.events.append(CallbackRequested(at=at, callback=callback.snapshot()))
        return callback

    def release(self, ticket_id: str, at: datetime) -> None:
        """Its time has come: a ticket for it is in the queue."""
        self._move(CallbackStep.RELEASE, at)
        self.ticket_id = ticket_id
        self.attempts += 1
        self.events.append(CallbackQueued(at=at, callback=self.snapshot()))

    def record_outcome(
        self,
        outcome: CallbackOutcome,
        at: datetime,
        policy: CallbackPolicy,
        retry_at: datetime | None,
    ) -> None:
        """Reached ends it; no answer books a retry at `retry_at`, or gives up after the last
        attempt (or when no later time is open)."""
        if outcome is CallbackOutcome.REACHED:
            self._move(CallbackStep.REACH, at)
            self.finished_at = at
            self.events.append(CallbackReached(at=at, callback=self.snapshot()))
        elif retry_at is not None and self.attempts < policy.max_attempts:
            self._move(CallbackStep.RETRY, at)
            self.due_at = retry_at
            self.events.append(CallbackRescheduled(at=at, callback=self.snapshot()))
        else:
            self._move(CallbackStep.GIVE_UP, at)
            self.finished_at = at
            self.events.append(CallbackFailed(at=at, callback=self.snapshot()))

    def cancel(self, at: datetime) -> None:
        self._move(CallbackStep.CANCEL, at)
        self.finished_at = at
        self.events.append(CallbackCancelled(at=at, callback=self.snapshot()))

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def contact(self) -> str:
        """The number to dial or the address the join link goes to (personal data)."""
        return (self.phone if self.mode is CallbackMode.PHONE else self.email) or ""

    def snapshot(self) -> CallbackSnapshot:
        # No id (the citizen's key), no number or address: events reach every staff screen.
        return CallbackSnapshot(
            reference=self.reference,
            mode=self.mode.value,
            language=self.language,
            state=self.state.value,
            due_at=self.due_at,
            attempts=self.attempts,
            ticket_id=self.ticket_id,
        )

    def _move(self, step: CallbackStep, at: datetime) -> None:
        target = TRANSITIONS.get((self.state, step))
        if target is None:
            raise Refused(
                "callback.illegal_transition",
                reference=self.reference,
                state=self.state.value,
                step=step.value,
            )
        self.state = target
        self.changed_at = at


def count_by_slot(starts: Iterable[datetime]) -> dict[datetime, int]:
    counts: dict[datetime, int] = {}
    for start in starts:
        counts[start] = counts.get(start, 0) + 1
    return counts
