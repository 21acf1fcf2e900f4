"""Reports and tips: the draft a citizen fills in, the submitted report, and where each may be made.

A draft holds the answers so far and is saved at every step. A submitted report gets a
reference and moves through a transition table (submitted → in review → registered →
closed). Which report a citizen may make alone, and which needs an officer, follows the law
of the desk's country, written as a table (RULES) and decided by `route`.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from loket.domain.catalogue import IdentificationLevel
from loket.domain.errors import Invalid, Refused
from loket.domain.forms import Form
from loket.domain.identification import (
    Verification,
    check_reached,
    required_level,
    starting_level,
)

# Resume codes are typed on another device: no 0/O, 1/I/L look-alikes, in groups of four.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_GROUPS = 3
CODE_GROUP_LENGTH = 4
REFERENCE_LENGTH = 8
_REFERENCE_PREFIX = {"report": "AG", "tip": "ME"}  # aangifte, melding


@dataclass(frozen=True)
class DraftPolicy:
    """How long drafts and resume codes live; see docs/forms.md for the reasons."""

    # A draft nobody touched this long is gone (retention purges it).
    draft_lifetime: timedelta = timedelta(days=7)
    # A resume code is for finishing soon on another device, not for keeping.
    resume_lifetime: timedelta = timedelta(hours=72)


# -- where a report may be made -------------------------------------------------------------


class Route(StrEnum):
    SELF_SERVICE = "self_service"
    OFFICER = "officer"


@dataclass(frozen=True)
class CountryRules:
    """The legal rules of one country for making a report without an officer."""

    # Report types a citizen may make alone (tips are not criminal complaints: always).
    self_service: frozenset[str]
    # Facts (answers to form questions) that send the report to an officer.
    officer_if: frozenset[str] = frozenset()


# NL: the police take online reports of theft, vandalism and internet fraud (politie.nl);
# everything else needs an officer. BE (Police-on-web): only with an unknown perpetrator and
# no violence; the forms ask both and the answers decide.
_SELF_SERVICE_REPORTS = frozenset(
    {"report.bicycle_theft", "report.theft", "report.vandalism", "report.online_fraud"}
)
RULES: Mapping[str, CountryRules] = {
    # Theft with violence is robbery, which is not among the offences reported online.
    "NL": CountryRules(self_service=_SELF_SERVICE_REPORTS, officer_if=frozenset({"violence"})),
    "BE": CountryRules(
        self_service=_SELF_SERVICE_REPORTS, officer_if=frozenset({"perpetrator_known", "violence"})
    ),
}


def route(form: Form, country: str, answers: Mapping[str, Any] | None = None) -> Route:
    """Whether this report can be finished alone at a desk of `country`, given the answers."""
    if form.kind == "tip":
        return Route.OFFICER if form.is_officer_only else Route.SELF_SERVICE
    rules = RULES.get(country)
    if rules is None or form.is_officer_only or form.needs_complaint_in_person:
        return Route.OFFICER
    if form.code not in rules.self_service:
        return Route.OFFICER
    if answers is not None and form.facts(answers) & rules.officer_if:
        return Route.OFFICER
    return Route.SELF_SERVICE


# -- the draft ------------------------------------------------------------------------------


def new_resume_code() -> str:
    groups = (
        "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_GROUP_LENGTH))
        for _ in range(CODE_GROUPS)
    )
    return "-".join(groups)


def normalise_resume_code(typed: str) -> str | None:
    """The code as issued (ABCD-EFGH-JKMN) from what was typed, or None if it cannot be one."""
    letters = re.sub(r"[\s\-.]", "", typed.upper())
    if len(letters) != CODE_GROUPS * CODE_GROUP_LENGTH or any(
        ch not in CODE_ALPHABET for ch in letters
    ):
        return None
    return "-".join(
        letters[i : i + CODE_GROUP_LENGTH] for i in range(0, len(letters), CODE_GROUP_LENGTH)
    )


def hash_resume_code(code: str) -> str:
    # About 59 random bits and a lookup rate limit: a plain hash suffices, so a stolen
    # database does not hand out codes that work.
    return hashlib.sha256(f"loket-resume:{code}".encode()).hexdigest()


def new_draft_id() -> str:
    return secrets.token_hex(16)


@dataclass
class Draft:
    """A report or tip being filled in; `answers` maps question id to a JSON value."""

    id: str
    form_code: str
    form_version: int
    language: str
    channel: str
    location_id: int
    country: str
    answers: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    expires_at: datetime
    step: str | None = None  # the question shown last, to come back to it
    resume_code_hash: str | None = None
    resume_expires_at: datetime | None = None
    report_id: str | None = None  # set once submitted: a second submit finds it
    version: int = 0
    # The level reached so far (domain/identification.py); checked against the type's need.
    identification: IdentificationLevel = IdentificationLevel.SELF_DECLARED

    @classmethod
    def start(
        cls,
        form: Form,
        *,
        language: str,
        channel: str,
        location_id: int,
        country: str,
        at: datetime,
        policy: DraftPolicy,
    ) -> Draft:
        return cls(
            id=new_draft_id(),
            form_code=form.code,
            form_version=form.version,
            language=language,
            channel=channel,
            location_id=location_id,
            country=country,
            answers={},
            created_at=at,
            updated_at=at,
            expires_at=at + policy.draft_lifetime,
            step=form.questions[0].id,
            identification=starting_level(required_level(form.code)),
        )

    @property
    def is_submitted(self) -> bool:
        return self.report_id is not None

    @property
    def has_resume_code(self) -> bool:
        return self.resume_code_hash is not None

    def is_expired(self, at: datetime) -> bool:
        return at >= self.expires_at

    def record(
        self, form: Form, question_id: str, value: Any, at: datetime, policy: DraftPolicy
    ) -> None:
        """Keep an answer; answers to questions it hides are dropped."""
        self._check_open()
        form.question(question_id)
        answers = dict(self.answers)
        answers[question_id] = value
        self.answers = form.relevant_answers(answers)
        self.step = question_id
        self._touch(at, policy)

    def show(self, question_id: str, at: datetime, policy: DraftPolicy) -> None:
        self._check_open()
        self.step = question_id
        self._touch(at, policy)

    def verify(self, verification: Verification, at: datetime, policy: DraftPolicy) -> None:
        """Raise the draft's level to what a verification proved (never lower it)."""
        self._check_open()
        if verification.level > self.identification:
            self.identification = verification.level
        self._touch(at, policy)

    def issue_resume_code(self, at: datetime, policy: DraftPolicy) -> str:
        """A new code (an earlier one stops working); only its hash is kept."""
        self._check_open()
        code = new_resume_code()
        self.resume_code_hash = hash_resume_code(code)
        self.resume_expires_at = at + policy.resume_lifetime
        self._touch(at, policy)
        return code

    def can_resume_at(self, at: datetime) -> bool:
        return (
            self.resume_expires_at is not None
            and at < self.resume_expires_at
            and not self.is_expired(at)
            and not self.is_submitted
        )

    def _touch(self, at: datetime, policy: DraftPolicy) -> None:
        self.updated_at = at
        self.expires_at = at + policy.draft_lifetime

    def _check_open(self) -> None:
        if self.is_submitted:
            raise Refused("draft.submitted")


# -- the report -----------------------------------------------------------------------------


class ReportState(StrEnum):
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    REGISTERED = "registered"
    CLOSED = "closed"


class ReportStep(StrEnum):
    REVIEW = "review"
    REGISTER = "register"
    CLOSE = "close"


S = ReportState
TRANSITIONS: Mapping[tuple[ReportState, ReportStep], ReportState] = {
    (S.SUBMITTED, ReportStep.REVIEW): S.IN_REVIEW,
    (S.IN_REVIEW, ReportStep.REGISTER): S.REGISTERED,
    # Closed without registering: a duplicate, or not a criminal offence after review.
    (S.IN_REVIEW, ReportStep.CLOSE): S.CLOSED,
    (S.REGISTERED, ReportStep.CLOSE): S.CLOSED,
}


def new_reference(kind: str) -> str:
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(REFERENCE_LENGTH))
    return f"{_REFERENCE_PREFIX.get(kind, 'AG')}-{code}"


@dataclass
class Report:
    """A submitted report or tip: what was answered, in which language, and its state."""

    id: str
    reference: str
    draft_id: str
    form_code: str
    form_version: int
    language: str
    channel: str
    location_id: int
    answers: dict[str, Any]
    submitted_at: datetime
    state: ReportState = ReportState.SUBMITTED
    changed_at: datetime | None = None
    version: int = 0
    identification: IdentificationLevel = IdentificationLevel.SELF_DECLARED

    @classmethod
    def submit(cls, draft: Draft, form: Form, at: datetime) -> Report:
        """The report of a finished draft; Invalid("draft.incomplete") if a question is open,
        Refused("identification.required") if the citizen's identity is not verified enough."""
        answers = form.relevant_answers(draft.answers)
        missing = form.first_unanswered(answers)
        if missing is not None:
            raise Invalid("draft.incomplete", field=missing.id)
        check_reached(required_level(form.code), draft.identification)
        return cls(
            id=new_draft_id(),
            reference=new_reference(form.kind),
            draft_id=draft.id,
            form_code=form.code,
            form_version=form.version,
            language=draft.language,
            channel=draft.channel,
            location_id=draft.location_id,
            answers=answers,
            submitted_at=at,
            changed_at=at,
            identification=draft.identification,
        )

    def move(self, step: ReportStep, at: datetime) -> None:
        target = TRANSITIONS.get((self.state, step))
        if target is None:
            raise Refused(
                "report.illegal_transition",
                reference=self.reference,
                step=step.value,
                state=self.state.value,
            )
        self.state = target
        self.changed_at = at
