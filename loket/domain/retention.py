"""Retention: how long each kind of citizen data is kept, and what a purge run removed.

Periods are settings (LOKET_RETENTION_*; docs/retention.md gives the reasons for the
defaults). A run computes one cutoff per kind from its own clock reading, so a run is
repeatable: what is past its period now is purged, and a second run finds nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime, timedelta


@dataclass(frozen=True)
class RetentionPolicy:
    # Drafts carry their own expiry (DraftPolicy, 7 days after the last change); this is the
    # extra time an expired, never submitted draft and its uploads stay before the purge.
    draft_grace: timedelta = timedelta(days=0)
    # Expired resume codes are dropped from their draft at once: they open nothing anymore.
    resume_code_grace: timedelta = timedelta(days=0)
    # Acknowledgement download codes after they expired or were used.
    acknowledgement_code_grace: timedelta = timedelta(days=1)
    # A tipster's passphrase opens their tip this long after it was made.
    tip_access: timedelta = timedelta(days=90)
    # What tipsters added later, after it was added (the tip itself follows the case rules).
    tip_follow_up: timedelta = timedelta(days=365)
    # A report's status code after the report was closed.
    status_code_after_close: timedelta = timedelta(days=30)
    # Chat messages and documents of a contact (video call) after it ended.
    contact_exchange: timedelta = timedelta(days=30)
    # E-mails in the outbox (an address and a join link) after they were sent or given up.
    notifications: timedelta = timedelta(days=30)


@dataclass(frozen=True)
class Cutoffs:
    """Everything older than these moments is past its period."""

    drafts: datetime
    resume_codes: datetime
    acknowledgement_codes: datetime
    tip_access: datetime
    tip_follow_ups: datetime
    status_codes: datetime
    contact_exchange: datetime
    notifications: datetime

    @classmethod
    def at(cls, now: datetime, policy: RetentionPolicy) -> Cutoffs:
        return cls(
            drafts=now - policy.draft_grace,
            resume_codes=now - policy.resume_code_grace,
            acknowledgement_codes=now - policy.acknowledgement_code_grace,
            tip_access=now - policy.tip_access,
            tip_follow_ups=now - policy.tip_follow_up,
            status_codes=now - policy.status_code_after_close,
            contact_exchange=now - policy.contact_exchange,
            notifications=now - policy.notifications,
        )


@dataclass(frozen=True)
class RetentionCounts:
    """How many of each kind a run purged (or, in a dry run, would purge)."""

    drafts: int = 0
    draft_files: int = 0
    resume_codes: int = 0
    acknowledgement_codes: int = 0
    tip_access_codes: int = 0
    tip_follow_ups: int = 0
    status_codes: int = 0
    contact_messages: int = 0
    contact_documents: int = 0
    notifications: int = 0

    def as_dict(self) -> dict[str, int]:
        return {field.name: getattr(self, field.name) for field in fields(self)}

    @property
    def total(self) -> int:
        return sum(self.as_dict().values())
