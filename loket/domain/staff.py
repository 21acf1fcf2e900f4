"""Staff members of the back office and on site: roles, officer status and skills."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from loket.domain.errors import Invalid, Refused
from loket.domain.events import Event, OfficerStatusChanged


class Role(StrEnum):
    OFFICER = "officer"
    SUPERVISOR = "supervisor"
    HOST = "host"
    INTERPRETER = "interpreter"
    ADMINISTRATOR = "administrator"


class OfficerStatus(StrEnum):
    OFFLINE = "offline"
    AVAILABLE = "available"
    BUSY = "busy"
    WRAP_UP = "wrap_up"
    BREAK = "break"


# Statuses in which an officer counts towards serving the queue: the waiting-time estimate
# treats them as servers, even if they are finishing a contact right now.
ON_DUTY = frozenset({OfficerStatus.AVAILABLE, OfficerStatus.BUSY, OfficerStatus.WRAP_UP})

# Who may serve tickets from the central queue.
SERVING_ROLES = frozenset({Role.OFFICER, Role.SUPERVISOR})


@dataclass(frozen=True)
class Skills:
    """What an officer covers: ticket languages and service codes."""

    languages: frozenset[str]
    services: frozenset[str]

    def covers(self, language: str, service_code: str) -> bool:
        return language in self.languages and service_code in self.services


@dataclass
class StaffMember:
    id: int | None
    username: str
    display_name: str
    roles: frozenset[Role]
    skills: Skills
    status: OfficerStatus = OfficerStatus.OFFLINE
    status_since_at: datetime | None = None
    ui_language: str = "nl"
    is_active: bool = True
    events: list[Event] = field(default_factory=list, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.username or not self.username.replace(".", "").replace("-", "").isalnum():
            raise Invalid("staff.invalid_username", field="username")
        if not self.roles:
            raise Invalid("staff.no_role", field="roles")

    def has_role(self, *roles: Role) -> bool:
        return any(role in self.roles for role in roles)

    @property
    def can_serve(self) -> bool:
        return bool(self.roles & SERVING_ROLES) and self.is_active

    def set_status(self, status: OfficerStatus, at: datetime) -> None:
        """Change the officer's status; recorded as an event even when unchanged is skipped."""
        if not self.can_serve:
            raise Refused("staff.not_an_officer", username=self.username)
        if status == self.status:
            return
        self.status = status
        self.status_since_at = at
        self.events.append(
            OfficerStatusChanged(staff_id=self._id(), username=self.username, status=status, at=at)
        )

    def _id(self) -> int:
        assert self.id is not None, "staff member must be stored before it emits events"
        return self.id
