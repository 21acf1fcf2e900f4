"""Help requests: a citizen at a kiosk calls the host on site, who acknowledges, then resolves."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from loket.domain.errors import Invalid, Refused
from loket.domain.events import (
    Event,
    HelpAcknowledged,
    HelpRequested,
    HelpResolved,
    HelpSnapshot,
)


class HelpState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class HelpStep(StrEnum):
    ACKNOWLEDGE = "acknowledge"
    RESOLVE = "resolve"


H = HelpState
TRANSITIONS: dict[tuple[HelpState, HelpStep], HelpState] = {
    (H.OPEN, HelpStep.ACKNOWLEDGE): H.ACKNOWLEDGED,
    # A host who walks straight over may close the call without acknowledging it first.
    (H.OPEN, HelpStep.RESOLVE): H.RESOLVED,
    (H.ACKNOWLEDGED, HelpStep.RESOLVE): H.RESOLVED,
}

# Until resolved, a call is active: a second press at the same desk joins it.
ACTIVE_STATES = frozenset({H.OPEN, H.ACKNOWLEDGED})

MAX_KIOSK_LENGTH = 64
# A kiosk's label is configuration of the device ("Kiosk 2", "entrance"), never the citizen's.
_KIOSK_PATTERN = re.compile(r"^[\w][\w .\-]*$")


def new_help_id() -> str:
    return secrets.token_hex(16)


def check_kiosk_label(kiosk: str | None) -> str | None:
    """The kiosk label, trimmed, or None; raises Invalid("help.invalid_kiosk")."""
    if kiosk is None or not kiosk.strip():
        return None
    label = kiosk.strip()
    if len(label) > MAX_KIOSK_LENGTH or not _KIOSK_PATTERN.match(label):
        raise Invalid("help.invalid_kiosk", field="kiosk", maximum=MAX_KIOSK_LENGTH)
    return label


@dataclass
class HelpRequest:
    id: str
    location_id: int
    location_code: str
    kiosk: str | None
    state: HelpState
    requested_at: datetime
    changed_at: datetime
    acknowledged_at: datetime | None = None
    acknowledged_by: int | None = None
    resolved_at: datetime | None = None
    resolved_by: int | None = None
    version: int = 0
    events: list[Event] = field(default_factory=list, repr=False, compare=False)

    @classmethod
    def raise_at(
        cls, *, location_id: int, location_code: str, kiosk: str | None, at: datetime
    ) -> HelpRequest:
        """A new open call for the host; records HelpRequested."""
        request = cls(
            id=new_help_id(),
            location_id=location_id,
            location_code=location_code,
            kiosk=check_kiosk_label(kiosk),
            state=H.OPEN,
            requested_at=at,
            changed_at=at,
        )
        request.events.append(HelpRequested(at=at, help=request.snapshot()))
        return request

    def acknowledge(self, staff_id: int, at: datetime) -> None:
        self._move(HelpStep.ACKNOWLEDGE, at)
        self.acknowledged_at = at
        self.acknowledged_by = staff_id
        self.events.append(HelpAcknowledged(at=at, help=self.snapshot()))

    def resolve(self, staff_id: int, at: datetime) -> None:
        self._move(HelpStep.RESOLVE, at)
        self.resolved_at = at
        self.resolved_by = staff_id
        self.events.append(HelpResolved(at=at, help=self.snapshot()))

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES

    def snapshot(self) -> HelpSnapshot:
        # Who answered stays out of events: the location's stream is public.
        return HelpSnapshot(
            id=self.id,
            location_id=self.location_id,
            location_code=self.location_code,
            kiosk=self.kiosk,
            state=self.state.value,
            requested_at=self.requested_at,
            changed_at=self.changed_at,
        )

    def _move(self, step: HelpStep, at: datetime) -> None:
        target = TRANSITIONS.get((self.state, step))
        if target is None:
            raise Refused("help.illegal_transition", state=self.state.value, step=step.value)
        self.state = target
        self.changed_at = at
