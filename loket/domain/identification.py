"""Identification: which level a report type needs, which level a citizen reached, and how.

The catalogue (domain/catalogue.py, `Service.identification`) is the one source of the level
each report or tip type needs. A draft starts at the level that filling in the form gives by
itself (an anonymous tip: anonymous; anything else: the name the citizen gives) and rises when
an OpenID Connect provider (DigiD, itsme, eID through a broker) or an officer on camera
verifies who the citizen is. What is kept of a verification is the least that proves it: a
pseudonym of the provider's subject and a display name, or the document's type and the last
four characters of its number with the officer who checked it. Never an image, never the
provider's other claims (see docs/identification.md).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from loket.domain.catalogue import IdentificationLevel, service_by_code
from loket.domain.errors import Invalid, Refused

Level = IdentificationLevel

MAX_DISPLAY_NAME = 200
MAX_SUBJECT = 255
DOCUMENT_SUFFIX_LENGTH = 4
_DOCUMENT_SUFFIX = re.compile(r"^[A-Z0-9]{4}$")
# Control characters and bidirectional overrides: a name must print as it reads.
_UNSAFE = re.compile(r"[\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]")


def required_level(form_code: str) -> Level:
    """The level a report or tip type needs, from the catalogue. Errors: service.unknown."""
    return service_by_code(form_code).identification


def starting_level(required: Level) -> Level:
    """What a draft has before any check: an anonymous tip never asks who; the rest are made
    under the name the citizen gives."""
    return Level.ANONYMOUS if required is Level.ANONYMOUS else Level.SELF_DECLARED


def needs_verification(required: Level, reached: Level) -> bool:
    return reached < required


def check_reached(required: Level, reached: Level) -> None:
    """Refuse a submission below the level its type needs: Refused("identification.required")."""
    if needs_verification(required, reached):
        raise Refused("identification.required", field="identification", level=required.value)


def can_verify_online(required: Level) -> bool:
    """Whether an OIDC login reaches `required` (a type needing an officer's check cannot)."""
    return required <= Level.VERIFIED_ONLINE


class Method(StrEnum):
    ONLINE = "online"  # an OpenID Connect provider
    OFFICER = "officer"  # an identity document shown on camera


class DocumentType(StrEnum):
    PASSPORT = "passport"
    ID_CARD = "id_card"
    DRIVING_LICENCE = "driving_licence"
    RESIDENCE_PERMIT = "residence_permit"
    FOREIGN_PASSPORT = "foreign_passport"


@dataclass(frozen=True)
class Verification:
    """How a draft's identity was verified; exactly the fields of its method are set."""

    level: Level
    method: Method
    verified_at: datetime
    # Online: a keyed hash of the provider's issuer and subject (the subject can be a BSN).
    subject_ref: str | None = None
    display_name: str | None = None
    # By an officer: who checked which kind of document; never an image of it.
    officer_id: int | None = None
    document_type: DocumentType | None = None
    document_suffix: str | None = None

    def __post_init__(self) -> None:
        if self.verified_at.tzinfo is None:
            raise Invalid("identification.naive_time", field="verified_at")
        if self.method is Method.ONLINE:
            if self.level is not Level.VERIFIED_ONLINE or not self.subject_ref:
                raise Invalid("identification.inconsistent", field="method")
            if self.officer_id is not None or self.document_type is not None:
                raise Invalid("identification.inconsistent", field="method")
        else:
            if self.level is not Level.VERIFIED_BY_OFFICER or self.officer_id is None:
                raise Invalid("identification.inconsistent", field="method")
            if self.document_type is None or self.document_suffix is None:
                raise Invalid("identification.inconsistent", field="method")
            if self.subject_ref is not None:
                raise Invalid("identification.inconsistent", field="method")


# -- online (OpenID Connect) ----------------------------------------------------------------

# The only claims read from an ID token; everything else a broker sends (BSN, birth date,
# address, e-mail) is dropped before anything is stored.
KEPT_CLAIMS = ("sub", "name", "given_name", "family_name")


def pseudonym(key: bytes, issuer: str, subject: str) -> str:
    """A stable pseudonym of a provider's subject: HMAC-SHA256 with the service key, so a
    subject that is a national number cannot be recovered by trying all of them."""
    message = f"loket-oidc-subject\0{issuer}\0{subject}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def online_verification(
    claims: Mapping[str, Any], *, issuer: str, key: bytes, at: datetime
) -> Verification:
    """The verification an ID token's (already validated) claims give.

    Errors: identification.no_subject.
    """
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject.strip() or len(subject) > MAX_SUBJECT:
        raise Invalid("identification.no_subject", field="sub")
    return Verification(
        level=Level.VERIFIED_ONLINE,
        method=Method.ONLINE,
        verified_at=at,
        subject_ref=pseudonym(key, issuer, subject),
        display_name=display_name(claims),
    )


def display_name(claims: Mapping[str, Any]) -> str | None:
    """`name`, else `given_name family_name`; cleaned and bounded; None when absent."""
    name = claims.get("name")
    if not isinstance(name, str) or not name.strip():
        parts = [claims.get("given_name"), claims.get("family_name")]
        name = " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
    cleaned = _UNSAFE.sub("", unicodedata.normalize("NFC", name)).strip()
    return cleaned[:MAX_DISPLAY_NAME] or None


# -- by an officer on camera ----------------------------------------------------------------


def officer_verification(
    *, document_type: str, document_suffix: str, face_matches: bool, officer_id: int, at: datetime
) -> Verification:
    """The verification an officer records after seeing the document on camera.

    Errors (with the field at fault): identification.document_type,
    identification.document_suffix, identification.face_not_confirmed.
    """
    try:
        kind = DocumentType(document_type)
    except ValueError:
        raise Invalid("identification.document_type", field="document_type") from None
    suffix = re.sub(r"[\s\-]", "", document_suffix or "").upper()
    if not _DOCUMENT_SUFFIX.match(suffix):
        raise Invalid("identification.document_suffix", field="document_suffix")
    if not face_matches:
        raise Invalid("identification.face_not_confirmed", field="face_matches")
    return Verification(
        level=Level.VERIFIED_BY_OFFICER,
        method=Method.OFFICER,
        verified_at=at,
        officer_id=officer_id,
        document_type=kind,
        document_suffix=suffix,
    )
