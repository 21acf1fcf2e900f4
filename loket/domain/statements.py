"""The statement (proces-verbaal van aangifte): what the citizen declared, where, when and to whom.

A statement is a value: once signed it never changes. A correction is a new version that names
the version it replaces by number and by the hash of that version's signed document, so the
chain of versions can be checked from the documents alone.
"""

from __future__ import annotations

import hashlib
import re
import struct
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from loket.domain.catalogue import IdentificationLevel
from loket.domain.errors import Invalid, Refused
from loket.domain.locations import Location

# The statement is legally in Dutch; a part in the citizen's language may follow it.
AUTHORITATIVE_LANGUAGE = "nl"
MAX_ANSWERS = 200
MAX_LABEL_LENGTH = 300
MAX_ANSWER_LENGTH = 10_000
MAX_CONFIRMATION_LENGTH = 500
# A signature pad at kiosk resolution draws a few tens of KB; anything far larger is not one.
MAX_SIGNATURE_BYTES = 512 * 1024
MAX_SIGNATURE_SIDE = 4000
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9./-]{2,39}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_REPORT_TYPE = re.compile(r"^[a-z]+\.[a-z_]+$")
# Control characters other than line breaks and tabs, and bidirectional overrides that could
# make a printed answer read differently from what was typed.
_UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class Answer:
    """One question as it was put to the citizen and what they answered, in one language."""

    label: str
    text: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "label", _clean(self.label, "label", MAX_LABEL_LENGTH))
        object.__setattr__(
            self, "text", _clean(self.text, "answer", MAX_ANSWER_LENGTH, required=False)
        )


@dataclass(frozen=True)
class StatementText:
    """The answers in one language, in the order they were asked."""

    language: str
    answers: tuple[Answer, ...]

    def __post_init__(self) -> None:
        if not _LANGUAGE.match(self.language):
            raise Invalid("statement.invalid_language", field="language")
        object.__setattr__(self, "answers", tuple(self.answers))
        if not self.answers:
            raise Invalid("statement.no_answers", field="answers")
        if len(self.answers) > MAX_ANSWERS:
            raise Invalid("statement.too_many_answers", field="answers", maximum=MAX_ANSWERS)


@dataclass(frozen=True)
class Officer:
    name: str
    staff_id: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", _clean(self.name, "officer", MAX_LABEL_LENGTH))


@dataclass(frozen=True)
class Place:
    """Where the statement was made: the desk's name, its municipality and its time zone.

    A statement made at home has the online desk's name and no municipality.
    """

    name: str
    municipality: str
    time_zone: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", _clean(self.name, "place", MAX_LABEL_LENGTH))
        municipality = _clean(self.municipality, "municipality", MAX_LABEL_LENGTH, required=False)
        object.__setattr__(self, "municipality", municipality)
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise Invalid("statement.invalid_time_zone", field="time_zone") from None

    @classmethod
    def of(cls, location: Location) -> Place:
        return cls(location.name, location.municipality, location.time_zone)


@dataclass(frozen=True)
class Confirmation:
    """How the citizen confirmed the text: a drawn signature, an identity verified online, or
    (for those who cannot draw: keyboard and screen-reader users) a ticked declaration with
    their full name typed.

    Exactly one of the three. The drawn signature is a PNG from the signature pad, recognised by
    its content (header and size), never by what the browser said it was.
    """

    signature_png: bytes | None = None
    verified_identity: str | None = None
    typed_name: str | None = None

    def __post_init__(self) -> None:
        given = [self.signature_png, self.verified_identity, self.typed_name]
        if sum(value is not None for value in given) != 1:
            raise Invalid("statement.confirmation_required", field="confirmation")
        if self.signature_png is not None:
            check_signature_png(self.signature_png)
        if self.verified_identity is not None:
            text = _clean(self.verified_identity, "confirmation", MAX_CONFIRMATION_LENGTH)
            object.__setattr__(self, "verified_identity", text)
        if self.typed_name is not None:
            name = _clean(self.typed_name, "typed_name", MAX_LABEL_LENGTH)
            object.__setattr__(self, "typed_name", name)

    @property
    def kind(self) -> str:
        if self.signature_png is not None:
            return "drawn_signature"
        return "typed_name" if self.typed_name is not None else "verified_identity"


def check_signature_png(content: bytes) -> tuple[int, int]:
    """The width and height of a drawn signature; Invalid("statement.signature_invalid")."""
    # A PNG starts with its signature and then the IHDR chunk: length 13, width, height.
    if (
        not content.startswith(_PNG_SIGNATURE)
        or len(content) > MAX_SIGNATURE_BYTES
        or len(content) < 33
        or content[12:16] != b"IHDR"
    ):
        raise Invalid("statement.signature_invalid", field="signature")
    width, height = struct.unpack(">II", content[16:24])
    if not (0 < width <= MAX_SIGNATURE_SIDE and 0 < height <= MAX_SIGNATURE_SIDE):
        raise Invalid("statement.signature_invalid", field="signature")
    return width, height


@dataclass(frozen=True)
class Statement:
    """A statement ready to be signed.

    `texts[0]` is the authoritative Dutch text; a second text, if any, is the same answers in
    the citizen's language. `made_at` is UTC-aware; it is shown in the desk's time zone.
    Version 1 has no predecessor; version n > 1 names version n - 1's signed document hash.
    """

    case_reference: str
    report_type: str
    texts: tuple[StatementText, ...]
    identification: IdentificationLevel
    officer: Officer | None
    place: Place
    made_at: datetime
    confirmation: Confirmation
    version: int = 1
    previous_sha256: str | None = None

    def __post_init__(self) -> None:
        if not _REFERENCE.match(self.case_reference):
            raise Invalid("statement.invalid_reference", field="case_reference")
        if not _REPORT_TYPE.match(self.report_type):
            raise Invalid("statement.invalid_report_type", field="report_type")
        object.__setattr__(self, "texts", tuple(self.texts))
        self._check_texts()
        if self.made_at.tzinfo is None or self.made_at.utcoffset() is None:
            raise Invalid("statement.naive_time", field="made_at")
        if self.version < 1:
            raise Invalid("statement.invalid_version", field="version")
        if (self.version == 1) != (self.previous_sha256 is None):
            raise Invalid("statement.invalid_version", field="previous_sha256")
        if self.previous_sha256 is not None and not _SHA256_HEX.match(self.previous_sha256):
            raise Invalid("statement.invalid_version", field="previous_sha256")

    def _check_texts(self) -> None:
        if not self.texts or self.texts[0].language != AUTHORITATIVE_LANGUAGE:
            raise Invalid("statement.dutch_text_required", field="texts")
        if len(self.texts) > 2:
            raise Invalid("statement.too_many_languages", field="texts")
        if len(self.texts) == 2:
            dutch, translation = self.texts
            if translation.language == dutch.language:
                raise Invalid("statement.same_language_twice", field="texts")
            # Both parts put the same questions: a translation that drops one misleads.
            if len(translation.answers) != len(dutch.answers):
                raise Invalid("statement.translation_incomplete", field="texts")

    @property
    def dutch(self) -> StatementText:
        return self.texts[0]

    @property
    def translation(self) -> StatementText | None:
        return self.texts[1] if len(self.texts) > 1 else None

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(text.language for text in self.texts)

    def corrected(
        self,
        previous: SignedStatement,
        *,
        texts: tuple[StatementText, ...],
        confirmation: Confirmation,
        made_at: datetime,
        officer: Officer | None = None,
        identification: IdentificationLevel | None = None,
    ) -> Statement:
        """The next version of `previous`: new answers, confirmed again by the citizen.

        The case, report type and place stay; the officer and identification may change (a
        correction taken by another officer). Raises Refused("statement.not_latest") when
        `previous` is not this statement.
        """
        if previous.statement != self:
            raise Refused("statement.not_latest")
        return replace(
            self,
            texts=texts,
            confirmation=confirmation,
            made_at=made_at,
            officer=officer if officer is not None else self.officer,
            identification=identification or self.identification,
            version=self.version + 1,
            previous_sha256=previous.sha256,
        )

    def check_follows(self, previous: SignedStatement | None) -> None:
        """Refuse to sign a version that does not follow the given signed one.

        Raises Refused("statement.version_mismatch").
        """
        if previous is None:
            if self.version != 1:
                raise Refused("statement.version_mismatch", version=self.version)
            return
        if (
            previous.statement.case_reference != self.case_reference
            or previous.statement.version + 1 != self.version
            or previous.sha256 != self.previous_sha256
        ):
            raise Refused("statement.version_mismatch", version=self.version)


@dataclass(frozen=True)
class SignedStatement:
    """A statement with its signed PDF and that document's SHA-256; it never changes."""

    statement: Statement
    document: bytes
    sha256: str

    def __post_init__(self) -> None:
        if hashlib.sha256(self.document).hexdigest() != self.sha256:
            raise Invalid("statement.invalid_hash", field="sha256")

    @classmethod
    def of(cls, statement: Statement, document: bytes) -> SignedStatement:
        return cls(statement, document, hashlib.sha256(document).hexdigest())


def _clean(value: str, field: str, maximum: int, *, required: bool = True) -> str:
    if not isinstance(value, str):
        raise Invalid("statement.invalid_text", field=field)
    text = _UNSAFE.sub("", unicodedata.normalize("NFC", value)).strip()
    if required and not text:
        raise Invalid("statement.empty_text", field=field)
    if len(text) > maximum:
        raise Invalid("statement.text_too_long", field=field, maximum=maximum)
    return text
