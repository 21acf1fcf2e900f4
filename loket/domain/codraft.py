"""A report drafted together in a call: the draft linked to a contact, who changed which answer,
and the two confirmations (citizen and officer) that must both hold for the final text.

Each side confirms one draft version, and with it the exact answers of that version (their
fingerprint). A confirmation holds only while the answers are those it confirmed: any later
change voids both (the change itself clears them; the fingerprint also catches a change made
elsewhere, such as the citizen's own report pages). Confirming the same version twice (a
double click, a reconnect that resends) changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from loket.domain.errors import Invalid, Refused

MAX_NAME_LENGTH = 200


class Side(StrEnum):
    """Who acts on a shared draft."""

    CITIZEN = "citizen"
    OFFICER = "officer"


def fingerprint(answers: Mapping[str, Any]) -> str:
    """The answers' identity: equal answers, equal fingerprint, whatever their key order."""
    text = json.dumps(answers, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class SideConfirmation:
    """One side's "this is the final text": the draft version seen and its answers' fingerprint."""

    draft_version: int
    answers: str
    at: datetime

    def holds_for(self, current_answers: str) -> bool:
        return self.answers == current_answers


@dataclass
class SharedDraft:
    """A contact's draft, shared between the citizen and the officer in the call."""

    ticket_id: str
    draft_id: str
    started_by: Side
    created_at: datetime
    updated_at: datetime
    citizen: SideConfirmation | None = None
    officer: SideConfirmation | None = None
    # How the citizen confirmed (their typed full name) and which officer confirmed: both go
    # on the signed statement.
    citizen_name: str | None = None
    officer_id: int | None = None
    # Questions whose answer the officer set last; the citizen's page marks them.
    officer_changes: list[str] = field(default_factory=list)
    version: int = 0

    @classmethod
    def link(cls, ticket_id: str, draft_id: str, started_by: Side, at: datetime) -> SharedDraft:
        return cls(ticket_id, draft_id, started_by, created_at=at, updated_at=at)

    def confirmation(self, side: Side) -> SideConfirmation | None:
        return self.citizen if side is Side.CITIZEN else self.officer

    def is_confirmed_by(self, side: Side, answers: Mapping[str, Any]) -> bool:
        given = self.confirmation(side)
        return given is not None and given.holds_for(fingerprint(answers))

    def is_confirmed_by_both(self, answers: Mapping[str, Any]) -> bool:
        return all(self.is_confirmed_by(side, answers) for side in Side)

    def confirm(
        self,
        side: Side,
        *,
        seen_version: int,
        draft_version: int,
        answers: Mapping[str, Any],
        at: datetime,
        citizen_name: str | None = None,
        officer_id: int | None = None,
    ) -> bool:
        """Confirm the text of `seen_version`; whether anything changed (False: said before).

        Errors: codraft.changed_meanwhile (the draft moved on since that version was shown),
        codraft.name_missing (the citizen confirms with their full name typed).
        """
        if seen_version != draft_version:
            raise Refused("codraft.changed_meanwhile", version=draft_version)
        current = fingerprint(answers)
        given = self.confirmation(side)
        if given is not None and given.holds_for(current):
            return False
        confirmation = SideConfirmation(draft_version, current, at)
        if side is Side.CITIZEN:
            name = " ".join((citizen_name or "").split())
            if not name:
                raise Invalid("codraft.name_missing", field="full_name")
            if len(name) > MAX_NAME_LENGTH:
                raise Invalid("answer.too_long", field="full_name", maximum=MAX_NAME_LENGTH)
            self.citizen = confirmation
            self.citizen_name = name
        else:
            self.officer = confirmation
            self.officer_id = officer_id
        self.updated_at = at
        return True

    def changed(self, side: Side, question_id: str, at: datetime) -> None:
        """An answer changed: both confirmations are void, and the mark follows the changer."""
        self.citizen = None
        self.officer = None
        self.citizen_name = None
        self.officer_id = None
        marks = [q for q in self.officer_changes if q != question_id]
        if side is Side.OFFICER:
            marks.append(question_id)
        self.officer_changes = marks
        self.updated_at = at

    def check_both_confirmed(self, answers: Mapping[str, Any]) -> None:
        """Refuse submission unless both confirmed exactly these answers.

        Errors: codraft.not_confirmed.
        """
        if not self.is_confirmed_by_both(answers):
            raise Refused("codraft.not_confirmed")
