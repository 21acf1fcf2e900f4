"""The satisfaction survey after a contact: its questions, one-time invitations and answers.

Anonymous by design: an invitation knows the contact's service, desk, channel and outcome,
never the ticket, report or person; its token is derived from the contact (so a page shown
twice offers the same survey) and only the token's hash is stored. An answer keeps that
context and the day it was given, no time of day (which could match it to one contact).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from loket.domain.errors import Invalid, Refused
from loket.domain.forms import FALLBACK_LANGUAGE, Text  # a text in several languages

MAX_COMMENT_LENGTH = 1000
# Closed answers are kept in numbered slots so figures can add them up in SQL; a question
# keeps its slot when the questions are reordered or reworded.
SLOTS = 6
SCALE = (1, 2, 3, 4, 5)


class QuestionKind(StrEnum):
    SCALE = "scale"  # 1 (worst) to 5 (best)
    YES_NO = "yes_no"  # stored as 1 (yes) or 0 (no)
    TEXT = "text"  # the optional comment


@dataclass(frozen=True)
class SurveyQuestion:
    id: str
    kind: QuestionKind
    text: Text
    slot: int | None  # 1..SLOTS for closed questions, None for the comment
    required: bool = False
    hint: Text | None = None
    low_label: Text | None = None  # what 1 means on a scale
    high_label: Text | None = None  # what 5 means on a scale


@dataclass(frozen=True)
class Survey:
    """The questions, in the order asked; `headline` is the overall satisfaction."""

    questions: tuple[SurveyQuestion, ...]
    headline: str
    title: Text
    intro: Text

    @property
    def closed(self) -> tuple[SurveyQuestion, ...]:
        return tuple(q for q in self.questions if q.slot is not None)

    def question(self, question_id: str) -> SurveyQuestion:
        for question in self.questions:
            if question.id == question_id:
                return question
        raise KeyError(question_id)


class SurveySchemaError(ValueError):
    """The survey file is not valid; the message names the place and the fault."""


_ID = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


def parse_survey(data: Any, source: str = "survey") -> Survey:
    """The survey from its data (YAML); SurveySchemaError says what is wrong where."""
    if not isinstance(data, dict) or not isinstance(data.get("questions"), list):
        raise SurveySchemaError(f"{source}: needs a list of questions")
    questions: list[SurveyQuestion] = []
    slots: set[int] = set()
    for number, raw in enumerate(data["questions"], start=1):
        where = f"{source}: question {number}"
        if not isinstance(raw, dict) or not _ID.match(str(raw.get("id", ""))):
            raise SurveySchemaError(f"{where}: needs an id of lowercase letters and digits")
        try:
            kind = QuestionKind(str(raw.get("type")))
        except ValueError:
            raise SurveySchemaError(f"{where}: type must be scale, yes_no or text") from None
        slot = raw.get("slot")
        if kind is QuestionKind.TEXT:
            if slot is not None:
                raise SurveySchemaError(f"{where}: a text question has no slot")
        elif not isinstance(slot, int) or not 1 <= slot <= SLOTS or slot in slots:
            raise SurveySchemaError(f"{where}: needs its own slot from 1 to {SLOTS}")
        else:
            slots.add(slot)
        questions.append(
            SurveyQuestion(
                id=raw["id"],
                kind=kind,
                text=_text(raw.get("text"), f"{where}: text"),
                slot=slot,
                required=bool(raw.get("required", False)),
                hint=_text(raw["hint"], f"{where}: hint") if raw.get("hint") else None,
                low_label=_text(raw["low"], f"{where}: low") if raw.get("low") else None,
                high_label=_text(raw["high"], f"{where}: high") if raw.get("high") else None,
            )
        )
    ids = [q.id for q in questions]
    if len(set(ids)) != len(ids):
        raise SurveySchemaError(f"{source}: question ids must differ")
    headline = data.get("headline")
    scale_ids = {q.id for q in questions if q.kind is QuestionKind.SCALE}
    if headline not in scale_ids:
        raise SurveySchemaError(f"{source}: headline must name a scale question")
    return Survey(
        questions=tuple(questions),
        headline=str(headline),
        title=_text(data.get("title"), f"{source}: title"),
        intro=_text(data.get("intro"), f"{source}: intro"),
    )


def _text(raw: Any, where: str) -> Text:
    if isinstance(raw, str):
        return Text({FALLBACK_LANGUAGE: raw})
    if not isinstance(raw, dict) or not raw or not all(isinstance(v, str) for v in raw.values()):
        raise SurveySchemaError(f"{where}: needs a text, or texts by language")
    return Text(dict(raw))


# -- checking answers ------------------------------------------------------------------------


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Seven or more digits, with the usual separators: phone numbers, account and ID numbers.
_NUMBER = re.compile(r"\+?\d(?:[\s./-]?\d){6,}")


def redact(comment: str) -> str:
    """The comment without e-mail addresses and long numbers (phones, ID or account numbers).

    The survey is anonymous; a citizen who types their details anyway should not end up
    in the figures with them.
    """
    return _NUMBER.sub("[…]", _EMAIL.sub("[…]", comment))


@dataclass(frozen=True)
class Answers:
    """Checked answers: closed ones by slot, and the comment (redacted)."""

    slots: Mapping[int, int]
    comment: str | None


def check_answers(survey: Survey, raw: Mapping[str, str]) -> Answers:
    """Check what the citizen posted; Invalid with the question at fault.

    Errors: survey.answer_required, survey.answer_invalid, survey.comment_too_long.
    """
    slots: dict[int, int] = {}
    comment: str | None = None
    for question in survey.questions:
        value = (raw.get(question.id) or "").strip()
        if not value:
            if question.required:
                raise Invalid("survey.answer_required", field=question.id)
            continue
        if question.kind is QuestionKind.TEXT:
            if len(value) > MAX_COMMENT_LENGTH:
                raise Invalid(
                    "survey.comment_too_long", field=question.id, maximum=MAX_COMMENT_LENGTH
                )
            comment = redact(value)
            continue
        allowed = {"yes": 1, "no": 0} if question.kind is QuestionKind.YES_NO else None
        if allowed is not None and value in allowed:
            number = allowed[value]
        elif allowed is None and value.isdigit() and int(value) in SCALE:
            number = int(value)
        else:
            raise Invalid("survey.answer_invalid", field=question.id)
        assert question.slot is not None
        slots[question.slot] = number
    if not slots and comment is None:
        raise Invalid("survey.answer_required", field=survey.questions[0].id)
    return Answers(slots=slots, comment=comment)


# -- invitations -----------------------------------------------------------------------------


def survey_token(key: bytes, contact_ref: str) -> str:
    """The contact's survey token: the same for the same contact, unguessable without `key`."""
    mac = hmac.new(key, f"loket.survey:{contact_ref}".encode(), hashlib.sha256).hexdigest()
    return mac[:32]


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


_TOKEN = re.compile(r"^[0-9a-f]{32}$")


def is_token(value: str) -> bool:
    return bool(_TOKEN.match(value))


@dataclass(frozen=True)
class SurveyContext:
    """What an answer may be linked to: the kind of contact, not the contact."""

    location_id: int
    service_code: str
    channel: str
    outcome: str | None
    language: str


@dataclass
class SurveyInvitation:
    """A survey offered for one contact; `context` is wiped once it is answered."""

    token_hash: str
    context: SurveyContext | None
    expires_at: datetime
    is_answered: bool = False
    version: int = 0

    @classmethod
    def offer(
        cls, token: str, context: SurveyContext, at: datetime, validity: timedelta
    ) -> SurveyInvitation:
        return cls(token_hash=hash_token(token), context=context, expires_at=at + validity)

    def answer(self, answers: Answers, at: datetime) -> SurveyAnswer:
        """The anonymous answer; the invitation forgets its context.

        Errors: survey.already_answered, survey.expired.
        """
        if self.is_answered or self.context is None:
            raise Refused("survey.already_answered")
        if at >= self.expires_at:
            raise Refused("survey.expired")
        answer = SurveyAnswer(
            id=secrets.token_hex(16),
            answered_on=at.date(),
            context=self.context,
            slots=dict(answers.slots),
            comment=answers.comment,
        )
        self.is_answered = True
        self.context = None
        return answer


@dataclass(frozen=True)
class SurveyAnswer:
    """One citizen's answers. The id is random (a sequence would order answers in time)."""

    id: str
    answered_on: date
    context: SurveyContext
    slots: Mapping[int, int] = field(default_factory=dict)
    comment: str | None = None


# -- figures of the answers ------------------------------------------------------------------


@dataclass
class Satisfaction:
    """Answers of a group: how many, and for each slot how often each value was given."""

    responses: int = 0
    counts: dict[int, dict[int, int]] = field(default_factory=dict)

    def add(self, other: Satisfaction) -> Satisfaction:
        self.responses += other.responses
        for slot, values in other.counts.items():
            mine = self.counts.setdefault(slot, {})
            for value, count in values.items():
                mine[value] = mine.get(value, 0) + count
        return self

    def answered(self, slot: int) -> int:
        return sum(self.counts.get(slot, {}).values())

    def mean(self, slot: int) -> float | None:
        values = self.counts.get(slot, {})
        total = sum(values.values())
        return None if total == 0 else sum(v * c for v, c in values.items()) / total

    def share_at_least(self, slot: int, value: int) -> float | None:
        """The share of answers of this slot at `value` or above (4 and 5: satisfied)."""
        values = self.counts.get(slot, {})
        total = sum(values.values())
        return None if total == 0 else sum(c for v, c in values.items() if v >= value) / total


def satisfaction_from_rows(rows: Sequence[tuple[int, int, int]], responses: int) -> Satisfaction:
    """From (slot, value, count) rows."""
    result = Satisfaction(responses=responses)
    for slot, value, count in rows:
        result.counts.setdefault(slot, {})[value] = count
    return result
