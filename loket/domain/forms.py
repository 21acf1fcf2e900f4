"""Report and tip forms as data: questions, their conditions, and the validation of each answer.

A form is read from a file in `content/forms/` (see docs/forms.md) and checked by `parse_form`,
which refuses a bad file with a message naming the place of the fault. Answers are plain JSON
values (text, lists, small objects), so a draft can be stored as JSON and turned into the
ordered (question, answer) lines of a statement in any of the form's languages.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from loket.domain.errors import Invalid
from loket.domain.exchange import Author, AuthorRole, Document

# Form texts are content, translated in the file itself; these must all be there.
FORM_LANGUAGES = ("nl", "en", "fr", "de")
FALLBACK_LANGUAGE = "en"
_CODE = re.compile(r"^(report|tip)\.[a-z_]+$")
_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# Control characters other than line breaks and tabs, and the bidirectional overrides.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
# A frame number is stamped by the maker in its own format: letters and digits, sometimes
# with spaces or dashes, 5 to 24 long and with at least one digit. Checked loosely on
# purpose: a real but unusual number must not be refused; a phone number or a word is.
_FRAME_NUMBER = re.compile(r"^[A-Z0-9](?:[A-Z0-9 .\-/]{3,22})[A-Z0-9]$")
_AMOUNT = re.compile(r"^\d{1,9}(?:[.,]\d{1,2})?$")
_DEFAULT_MAX_LENGTH = {"text": 200, "long_text": 5000}
_PART_MAX_LENGTH = 200
MAX_ITEMS = 10


class QuestionType(StrEnum):
    TEXT = "text"
    LONG_TEXT = "long_text"
    DATE = "date"
    DATETIME = "datetime"
    PLACE = "place"
    CHOICE = "choice"
    MULTI_CHOICE = "multi_choice"
    AMOUNT = "amount"
    ITEMS = "items"
    PERSON = "person"
    FILE = "file"


# The parts of composite answers, in the order they are asked and printed.
PLACE_PARTS = ("street", "postcode", "city")
PERSON_PARTS = ("name", "age", "height", "build", "clothing", "features")
ITEM_FIELDS = ("description", "brand", "colour", "serial", "frame_number")


class FormSchemaError(ValueError):
    """A form file breaks the schema; the message names the file, the place and the fault."""


@dataclass(frozen=True)
class Text:
    """A text of the form in every language of the form."""

    translations: Mapping[str, str]

    def in_language(self, language: str) -> str:
        return (
            self.translations.get(language)
            or self.translations.get(FALLBACK_LANGUAGE)
            or next(iter(self.translations.values()))
        )


@dataclass(frozen=True)
class Option:
    value: str
    label: Text


@dataclass(frozen=True)
class Condition:
    """Show a question only if an earlier answer is one of `values` (or contains one)."""

    question: str
    values: frozenset[str]

    def holds(self, answers: Mapping[str, Any]) -> bool:
        answer = answers.get(self.question)
        if isinstance(answer, list):
            return any(value in self.values for value in answer)
        return isinstance(answer, str) and answer in self.values


@dataclass(frozen=True)
class Question:
    id: str
    type: QuestionType
    label: Text
    help: Text | None = None
    required: bool = True
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    not_future: bool = False
    options: tuple[Option, ...] = ()
    fields: tuple[str, ...] = ()
    # Item fields every item must have (a stolen thing needs at least a description).
    required_fields: tuple[str, ...] = ()
    max_items: int = 1
    show_if: Condition | None = None
    # A fact the legal rules read (see domain.reports.RULES): the answer "yes" makes it true.
    fact: str | None = None

    def option(self, value: str) -> Option | None:
        return next((option for option in self.options if option.value == value), None)

    @property
    def length_limit(self) -> int:
        return self.max_length or _DEFAULT_MAX_LENGTH.get(self.type.value, _PART_MAX_LENGTH)


@dataclass(frozen=True)
class Form:
    code: str
    version: int
    title: Text
    intro: Text
    questions: tuple[Question, ...]
    # Only an officer can take it (a threat): the flow ends with talking to an officer.
    is_officer_only: bool = False
    # The offence needs the victim's complaint in person (a klachtdelict).
    needs_complaint_in_person: bool = False
    _by_id: Mapping[str, Question] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {q.id: q for q in self.questions})

    @property
    def kind(self) -> str:
        return self.code.split(".", 1)[0]

    def question(self, question_id: str) -> Question:
        try:
            return self._by_id[question_id]
        except KeyError:
            raise Invalid("form.unknown_question", field="question") from None

    def visible(self, answers: Mapping[str, Any]) -> list[Question]:
        """The questions asked given these answers, in order; hidden ones are skipped."""
        return [q for q in self.questions if q.show_if is None or q.show_if.holds(answers)]

    def relevant_answers(self, answers: Mapping[str, Any]) -> dict[str, Any]:
        """Answers to questions still shown: a changed answer can hide later questions."""
        return {q.id: answers[q.id] for q in self.visible(answers) if q.id in answers}

    def first_unanswered(self, answers: Mapping[str, Any]) -> Question | None:
        return next((q for q in self.visible(answers) if q.id not in answers), None)

    def facts(self, answers: Mapping[str, Any]) -> frozenset[str]:
        """The facts the answers establish, for the legal rules."""
        return frozenset(
            q.fact for q in self.visible(answers) if q.fact and answers.get(q.id) == "yes"
        )

    def statement_lines(self, answers: Mapping[str, Any], language: str) -> list[tuple[str, str]]:
        """(question, answer) in the order asked, in `language`, for the statement."""
        lines = []
        for q in self.visible(answers):
            if q.id in answers:
                lines.append(
                    (q.label.in_language(language), answer_text(q, answers[q.id], language))
                )
        return lines


# -- validation of answers ------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    """A file the citizen chose for a file question, as the web layer received it."""

    filename: str | None
    content: bytes


@dataclass(frozen=True)
class AnswerContext:
    """What validation needs beyond the question: now, and the desk's time zone."""

    now: datetime
    zone: ZoneInfo
    max_upload_bytes: int = 10 * 1024 * 1024


def validate_answer(question: Question, raw: Any, ctx: AnswerContext) -> Any:
    """The answer as it will be stored (a JSON value), or Invalid naming the input at fault.

    `raw` is a string for text, date, choice and amount questions, a list of strings for a
    multiple choice, a mapping of part → string for a place or a person, a list of such
    mappings for a list of items, an Upload (or None) for a file, and for a date with time
    a mapping with "date" and "time". An empty optional answer is stored as None.
    """
    validator = _VALIDATORS[question.type]
    return validator(question, raw, ctx)


def _text(question: Question, raw: Any, ctx: AnswerContext) -> str | None:
    value = clean_text(raw, multiline=question.type is QuestionType.LONG_TEXT)
    if not value:
        _missing(question, question.id)
        return None
    if question.min_length is not None and len(value) < question.min_length:
        raise Invalid("answer.too_short", field=question.id, minimum=question.min_length)
    if len(value) > question.length_limit:
        raise Invalid("answer.too_long", field=question.id, maximum=question.length_limit)
    if question.pattern is not None and not re.fullmatch(question.pattern, value):
        raise Invalid("answer.pattern", field=question.id)
    return value


def _date(question: Question, raw: Any, ctx: AnswerContext) -> str | None:
    text = clean_text(raw)
    if not text:
        _missing(question, question.id)
        return None
    day = _parse_date(text, question.id)
    if question.not_future and day > ctx.now.astimezone(ctx.zone).date():
        raise Invalid("answer.in_future", field=question.id)
    return day.isoformat()


def _datetime(question: Question, raw: Any, ctx: AnswerContext) -> str | None:
    parts = raw if isinstance(raw, Mapping) else {}
    day_text = clean_text(parts.get("date"))
    time_text = clean_text(parts.get("time"))
    if not day_text and not time_text:
        _missing(question, f"{question.id}-date")
        return None
    if not day_text:
        raise Invalid("answer.date_missing", field=f"{question.id}-date")
    day = _parse_date(day_text, f"{question.id}-date")
    if not time_text:
        raise Invalid("answer.time_missing", field=f"{question.id}-time")
    try:
        moment = time.fromisoformat(time_text)
    except ValueError:
        raise Invalid("answer.invalid_time", field=f"{question.id}-time") from None
    local = datetime.combine(day, moment.replace(second=0, microsecond=0, tzinfo=None))
    if question.not_future and local.replace(tzinfo=ctx.zone) > ctx.now:
        raise Invalid("answer.in_future", field=f"{question.id}-date")
    return local.isoformat(timespec="minutes")


def _parse_date(text: str, field_id: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid("answer.invalid_date", field=field_id) from None


def _choice(question: Question, raw: Any, ctx: AnswerContext) -> str | None:
    value = clean_text(raw)
    if not value:
        _missing(question, f"{question.id}-0")
        return None
    if question.option(value) is None:
        raise Invalid("answer.invalid_choice", field=f"{question.id}-0")
    return value


def _multi_choice(question: Question, raw: Any, ctx: AnswerContext) -> list[str] | None:
    values = [clean_text(v) for v in (raw if isinstance(raw, list | tuple) else [raw])]
    chosen = [v for v in values if v]
    if not chosen:
        _missing(question, f"{question.id}-0")
        return None
    if any(question.option(v) is None for v in chosen):
        raise Invalid("answer.invalid_choice", field=f"{question.id}-0")
    # Kept in the form's order, once each, whatever order the browser sent.
    return [option.value for option in question.options if option.value in chosen]


def _amount(question: Question, raw: Any, ctx: AnswerContext) -> str | None:
    text = clean_text(raw).replace("€", "").replace(" ", "")
    if not text:
        _missing(question, question.id)
        return None
    if not _AMOUNT.match(text):
        raise Invalid("answer.invalid_amount", field=question.id)
    try:
        amount = Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise Invalid("answer.invalid_amount", field=question.id) from None
    if question.minimum is not None and amount < question.minimum:
        raise Invalid("answer.amount_too_low", field=question.id, minimum=str(question.minimum))
    if question.maximum is not None and amount > question.maximum:
        raise Invalid("answer.amount_too_high", field=question.id, maximum=str(question.maximum))
    return f"{amount:.2f}"


def _parts(question: Question, raw: Any, names: Sequence[str], prefix: str) -> dict[str, str]:
    given = raw if isinstance(raw, Mapping) else {}
    parts = {}
    for name in names:
        value = clean_text(given.get(name))
        if len(value) > _PART_MAX_LENGTH:
            raise Invalid("answer.too_long", field=f"{prefix}-{name}", maximum=_PART_MAX_LENGTH)
        if value:
            parts[name] = value
    return parts


def _place(question: Question, raw: Any, ctx: AnswerContext) -> dict[str, str] | None:
    parts = _parts(question, raw, PLACE_PARTS, question.id)
    if not parts:
        _missing(question, f"{question.id}-street")
        return None
    # A street (or a description of the spot) and a town: enough for an officer to find it.
    for name in ("street", "city"):
        if name not in parts:
            raise Invalid("answer.place_incomplete", field=f"{question.id}-{name}")
    return parts


def _person(question: Question, raw: Any, ctx: AnswerContext) -> dict[str, str] | None:
    parts = _parts(question, raw, PERSON_PARTS, question.id)
    if not parts:
        _missing(question, f"{question.id}-{PERSON_PARTS[0]}")
        return None
    return parts


def _items(question: Question, raw: Any, ctx: AnswerContext) -> list[dict[str, str]] | None:
    rows = raw if isinstance(raw, list | tuple) else []
    fields = question.fields or ITEM_FIELDS
    items = []
    for index, row in enumerate(rows):
        prefix = f"{question.id}-{index}"
        item = _parts(question, row, fields, prefix)
        if not item:
            continue  # an empty row of the form: nothing was filled in
        for name in question.required_fields:
            if name not in item:
                raise Invalid("answer.item_field_missing", field=f"{prefix}-{name}")
        frame = item.get("frame_number")
        if frame is not None:
            frame = frame.upper()
            if not _FRAME_NUMBER.match(frame) or not any(ch.isdigit() for ch in frame):
                raise Invalid("answer.frame_number", field=f"{prefix}-frame_number")
            item["frame_number"] = frame
        items.append(item)
    if not items:
        _missing(question, f"{question.id}-0-{fields[0]}")
        return None
    if len(items) > question.max_items:
        raise Invalid("answer.too_many_items", field=question.id, maximum=question.max_items)
    return items


def _file(question: Question, raw: Any, ctx: AnswerContext) -> dict[str, Any] | None:
    if not isinstance(raw, Upload) or not raw.content:
        _missing(question, question.id)
        return None
    try:
        document = Document.accept(
            ticket_id="",
            author=Author(AuthorRole.CITIZEN, "citizen"),
            filename=raw.filename,
            content=raw.content,
            at=ctx.now,
            max_bytes=ctx.max_upload_bytes,
        )
    except Invalid as error:
        raise Invalid(error.code, field=question.id, **error.params) from None
    return {
        "filename": document.filename,
        "content_type": document.content_type.value,
        "size": document.size,
        "sha256": document.sha256,
    }


def _missing(question: Question, field_id: str) -> None:
    """Refuse an empty answer to a required question; an optional one is stored as None."""
    if question.required:
        raise Invalid("answer.required", field=field_id)


_VALIDATORS = {
    QuestionType.TEXT: _text,
    QuestionType.LONG_TEXT: _text,
    QuestionType.DATE: _date,
    QuestionType.DATETIME: _datetime,
    QuestionType.PLACE: _place,
    QuestionType.CHOICE: _choice,
    QuestionType.MULTI_CHOICE: _multi_choice,
    QuestionType.AMOUNT: _amount,
    QuestionType.ITEMS: _items,
    QuestionType.PERSON: _person,
    QuestionType.FILE: _file,
}


def clean_text(raw: Any, *, multiline: bool = False) -> str:
    """Text as kept: NFC, trimmed, no control characters; markup stays as typed (it is text)."""
    if not isinstance(raw, str):
        return ""
    text = unicodedata.normalize("NFC", raw).replace("\r\n", "\n")
    if not multiline:
        text = text.replace("\n", " ").replace("\t", " ")
    return _UNSAFE.sub("", text).strip()


# -- answers as text ------------------------------------------------------------------------

# Labels of the parts of composite answers in the statement; the form's own languages.
PART_LABELS: Mapping[str, Mapping[str, str]] = {
    "street": {"nl": "Straat", "en": "Street", "fr": "Rue", "de": "Straße"},
    "postcode": {"nl": "Postcode", "en": "Postcode", "fr": "Code postal", "de": "Postleitzahl"},
    "city": {"nl": "Plaats", "en": "Town", "fr": "Localité", "de": "Ort"},
    "name": {"nl": "Naam", "en": "Name", "fr": "Nom", "de": "Name"},
    "age": {"nl": "Leeftijd", "en": "Age", "fr": "Âge", "de": "Alter"},
    "height": {"nl": "Lengte", "en": "Height", "fr": "Taille", "de": "Größe"},
    "build": {"nl": "Postuur", "en": "Build", "fr": "Corpulence", "de": "Statur"},
    "clothing": {"nl": "Kleding", "en": "Clothing", "fr": "Vêtements", "de": "Kleidung"},
    "features": {
        "nl": "Opvallende kenmerken",
        "en": "Distinctive features",
        "fr": "Signes particuliers",
        "de": "Besondere Merkmale",
    },
    "description": {
        "nl": "Omschrijving",
        "en": "Description",
        "fr": "Description",
        "de": "Beschreibung",
    },
    "brand": {"nl": "Merk", "en": "Brand", "fr": "Marque", "de": "Marke"},
    "colour": {"nl": "Kleur", "en": "Colour", "fr": "Couleur", "de": "Farbe"},
    "serial": {
        "nl": "Serienummer",
        "en": "Serial number",
        "fr": "Numéro de série",
        "de": "Seriennummer",
    },
    "frame_number": {
        "nl": "Framenummer",
        "en": "Frame number",
        "fr": "Numéro de cadre",
        "de": "Rahmennummer",
    },
    "date": {"nl": "Datum", "en": "Date", "fr": "Date", "de": "Datum"},
    "time": {"nl": "Tijd", "en": "Time", "fr": "Heure", "de": "Uhrzeit"},
}
_NOT_ANSWERED = Text(
    {
        "nl": "(niet ingevuld)",
        "en": "(not answered)",
        "fr": "(sans réponse)",
        "de": "(keine Angabe)",
    }
)


def part_label(name: str, language: str) -> str:
    return Text(PART_LABELS[name]).in_language(language)


def answer_text(question: Question, value: Any, language: str) -> str:
    """One answer as plain text in `language`, as the check page and the statement show it."""
    if value is None or value == [] or value == {}:
        return _NOT_ANSWERED.in_language(language)
    kind = question.type
    if kind is QuestionType.CHOICE:
        option = question.option(value)
        return option.label.in_language(language) if option else str(value)
    if kind is QuestionType.MULTI_CHOICE:
        return ", ".join(answer_text_choice(question, v, language) for v in value)
    if kind is QuestionType.DATETIME:
        return str(value).replace("T", " ")
    if kind is QuestionType.AMOUNT:
        return f"€ {value}"
    if kind in (QuestionType.PLACE, QuestionType.PERSON):
        return "; ".join(f"{part_label(k, language)}: {v}" for k, v in value.items())
    if kind is QuestionType.ITEMS:
        return "\n".join(
            "; ".join(f"{part_label(k, language)}: {v}" for k, v in item.items()) for item in value
        )
    if kind is QuestionType.FILE:
        return str(value.get("filename", ""))
    return str(value)


def answer_text_choice(question: Question, value: str, language: str) -> str:
    option = question.option(value)
    return option.label.in_language(language) if option else value


# -- reading a form file --------------------------------------------------------------------


def parse_form(data: Any, source: str) -> Form:
    """A Form from the parsed content of a form file; FormSchemaError names what is wrong."""
    reader = _Reader(source)
    return reader.form(data)


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, message: str) -> FormSchemaError:
        return FormSchemaError(f"{self.source}: {where}: {message}")

    def mapping(self, value: Any, where: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise self.fail(where, "must be a mapping")
        return value

    def keys(
        self, value: Mapping[str, Any], where: str, allowed: set[str], required: set[str]
    ) -> None:
        unknown = set(value) - allowed
        if unknown:
            raise self.fail(where, f"unknown key(s) {', '.join(sorted(map(str, unknown)))}")
        missing = required - set(value)
        if missing:
            raise self.fail(where, f"missing key(s) {', '.join(sorted(missing))}")

    def text(self, value: Any, where: str) -> Text:
        value = self.mapping(value, where)
        missing = [language for language in FORM_LANGUAGES if not value.get(language)]
        if missing:
            raise self.fail(where, f"missing translation(s) {', '.join(missing)}")
        for language, text in value.items():
            if not isinstance(text, str) or not isinstance(language, str):
                raise self.fail(f"{where}.{language}", "must be text")
        return Text(dict(value))

    def integer(self, value: Any, where: str, minimum: int = 0) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.fail(where, f"must be a whole number of at least {minimum}")
        return value

    def flag(self, value: Any, where: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(where, "must be true or false")
        return value

    def form(self, data: Any) -> Form:
        data = self.mapping(data, "form")
        self.keys(
            data,
            "form",
            {
                "code",
                "version",
                "title",
                "intro",
                "questions",
                "officer_only",
                "complaint_in_person",
            },
            {"code", "version", "title", "intro", "questions"},
        )
        code = data["code"]
        if not isinstance(code, str) or not _CODE.match(code):
            raise self.fail("code", "must look like report.some_type or tip.some_type")
        raw_questions = data["questions"]
        if not isinstance(raw_questions, list) or not raw_questions:
            raise self.fail("questions", "must be a non-empty list")
        questions: list[Question] = []
        for index, raw in enumerate(raw_questions):
            questions.append(self.question(raw, f"questions[{index}]", questions))
        return Form(
            code=code,
            version=self.integer(data["version"], "version", 1),
            title=self.text(data["title"], "title"),
            intro=self.text(data["intro"], "intro"),
            questions=tuple(questions),
            is_officer_only=self.flag(data.get("officer_only", False), "officer_only"),
            needs_complaint_in_person=self.flag(
                data.get("complaint_in_person", False), "complaint_in_person"
            ),
        )

    def question(self, raw: Any, where: str, earlier: list[Question]) -> Question:
        raw = self.mapping(raw, where)
        self.keys(
            raw,
            where,
            {
                "id", "type", "label", "help", "required", "min_length", "max_length",
                "pattern", "min", "max", "not_future", "options", "fields", "required_fields",
                "max_items", "show_if", "fact",
            },
            {"id", "type", "label"},
        )  # fmt: skip
        question_id = raw["id"]
        if not isinstance(question_id, str) or not _ID.match(question_id):
            raise self.fail(f"{where}.id", "must be lower case letters, digits and _")
        if any(q.id == question_id for q in earlier):
            raise self.fail(f"{where}.id", f"{question_id!r} is used twice")
        where = f"{where} ({question_id})"
        try:
            kind = QuestionType(raw["type"])
        except ValueError:
            allowed = ", ".join(t.value for t in QuestionType)
            raise self.fail(f"{where}.type", f"must be one of {allowed}") from None
        options = self.options(raw.get("options"), where, kind)
        fields = self.fields(raw.get("fields"), where, kind)
        required_fields = self.required_fields(raw.get("required_fields"), where, fields)
        pattern = raw.get("pattern")
        if pattern is not None:
            if kind not in (QuestionType.TEXT, QuestionType.LONG_TEXT) or not isinstance(
                pattern, str
            ):
                raise self.fail(f"{where}.pattern", "only text questions take a pattern (text)")
            try:
                re.compile(pattern)
            except re.error as error:
                raise self.fail(f"{where}.pattern", f"not a valid pattern: {error}") from None
        min_length = raw.get("min_length")
        max_length = raw.get("max_length")
        for name, value in (("min_length", min_length), ("max_length", max_length)):
            if value is not None:
                if kind not in (QuestionType.TEXT, QuestionType.LONG_TEXT):
                    raise self.fail(f"{where}.{name}", "only text questions have a length")
                self.integer(value, f"{where}.{name}", 1)
        if min_length is not None and max_length is not None and min_length > max_length:
            raise self.fail(where, "min_length is larger than max_length")
        minimum = self.amount(raw.get("min"), f"{where}.min", kind)
        maximum = self.amount(raw.get("max"), f"{where}.max", kind)
        not_future = self.flag(raw.get("not_future", False), f"{where}.not_future")
        if not_future and kind not in (QuestionType.DATE, QuestionType.DATETIME):
            raise self.fail(f"{where}.not_future", "only date questions can refuse the future")
        max_items = raw.get("max_items", 1)
        if "max_items" in raw and kind is not QuestionType.ITEMS:
            raise self.fail(f"{where}.max_items", "only a list of items has max_items")
        self.integer(max_items, f"{where}.max_items", 1)
        if max_items > MAX_ITEMS:
            raise self.fail(f"{where}.max_items", f"at most {MAX_ITEMS}")
        fact = raw.get("fact")
        if fact is not None:
            if kind is not QuestionType.CHOICE or not any(o.value == "yes" for o in options):
                raise self.fail(f"{where}.fact", "a fact needs a choice with the option 'yes'")
            if not isinstance(fact, str) or not _ID.match(fact):
                raise self.fail(f"{where}.fact", "must be a name in lower case")
        return Question(
            id=question_id,
            type=kind,
            label=self.text(raw["label"], f"{where}.label"),
            help=None if raw.get("help") is None else self.text(raw["help"], f"{where}.help"),
            required=self.flag(raw.get("required", True), f"{where}.required"),
            min_length=min_length,
            max_length=max_length,
            pattern=pattern,
            minimum=minimum,
            maximum=maximum,
            not_future=not_future,
            options=options,
            fields=fields,
            required_fields=required_fields,
            max_items=max_items,
            show_if=self.condition(raw.get("show_if"), where, earlier),
            fact=fact,
        )

    def options(self, raw: Any, where: str, kind: QuestionType) -> tuple[Option, ...]:
        is_choice = kind in (QuestionType.CHOICE, QuestionType.MULTI_CHOICE)
        if raw is None:
            if is_choice:
                raise self.fail(f"{where}.options", "a choice needs options")
            return ()
        if not is_choice:
            raise self.fail(f"{where}.options", "only a choice has options")
        if not isinstance(raw, list) or len(raw) < 2:
            raise self.fail(f"{where}.options", "must list at least two options")
        options: list[Option] = []
        for index, item in enumerate(raw):
            place = f"{where}.options[{index}]"
            item = self.mapping(item, place)
            self.keys(item, place, {"value", "label"}, {"value", "label"})
            value = item["value"]
            if not isinstance(value, str) or not _ID.match(value):
                raise self.fail(f"{place}.value", "must be lower case text (quote yes and no)")
            if any(option.value == value for option in options):
                raise self.fail(f"{place}.value", f"{value!r} is used twice")
            options.append(Option(value, self.text(item["label"], f"{place}.label")))
        return tuple(options)

    def fields(self, raw: Any, where: str, kind: QuestionType) -> tuple[str, ...]:
        if raw is None:
            return ITEM_FIELDS if kind is QuestionType.ITEMS else ()
        if kind is not QuestionType.ITEMS:
            raise self.fail(f"{where}.fields", "only a list of items has fields")
        if not isinstance(raw, list) or not raw or any(f not in ITEM_FIELDS for f in raw):
            raise self.fail(f"{where}.fields", f"must be some of {', '.join(ITEM_FIELDS)}")
        return tuple(raw)

    def required_fields(self, raw: Any, where: str, fields: tuple[str, ...]) -> tuple[str, ...]:
        if raw is None:
            return ()
        if not fields:
            raise self.fail(f"{where}.required_fields", "only a list of items has fields")
        if not isinstance(raw, list) or not raw or any(f not in fields for f in raw):
            raise self.fail(f"{where}.required_fields", f"must be some of {', '.join(fields)}")
        return tuple(raw)

    def amount(self, raw: Any, where: str, kind: QuestionType) -> Decimal | None:
        if raw is None:
            return None
        if kind is not QuestionType.AMOUNT:
            raise self.fail(where, "only an amount has a range")
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise self.fail(where, "must be a number")
        return Decimal(str(raw))

    def condition(self, raw: Any, where: str, earlier: list[Question]) -> Condition | None:
        if raw is None:
            return None
        place = f"{where}.show_if"
        raw = self.mapping(raw, place)
        self.keys(raw, place, {"question", "equals", "any_of"}, {"question"})
        target = next((q for q in earlier if q.id == raw["question"]), None)
        if target is None:
            raise self.fail(f"{place}.question", "must name an earlier question")
        if target.type not in (QuestionType.CHOICE, QuestionType.MULTI_CHOICE):
            raise self.fail(f"{place}.question", "must name a choice question")
        if ("equals" in raw) == ("any_of" in raw):
            raise self.fail(place, "give either equals or any_of")
        values = raw["any_of"] if "any_of" in raw else [raw["equals"]]
        if not isinstance(values, list) or any(target.option(v) is None for v in values):
            raise self.fail(place, f"values must be options of {target.id!r}")
        return Condition(target.id, frozenset(values))
