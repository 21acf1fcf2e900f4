"""Coming back to a submitted report or tip: a tipster's passphrase to add information, a
citizen's status code to look up a report's state, and the additions themselves.

Only hashes are kept: a passphrase is hashed slowly (argon2, by the service's password hasher),
a status code (about 59 random bits) with SHA-256 bound to its reference. A lookup answers the
same for an unknown reference and a wrong secret, so a guesser learns nothing.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from loket.domain.errors import Invalid
from loket.domain.forms import clean_text
from loket.domain.i18n import N_
from loket.domain.reports import ReportState, new_resume_code, normalise_resume_code

# A passphrase is four pronounceable four-letter words (consonant, vowel, consonant, vowel):
# easy to read aloud and write down in any of the desk's languages, without a word list that
# would need translating. 14 × 5 × 14 × 5 = 4,900 words, four of them about 49 bits: with a
# slow hash and a rate limit far beyond guessing.
PASSPHRASE_WORDS = 4
_CONSONANTS = "bdfgkmnprstvz"  # no c, j, q, w, x, y, h, l: they read differently per language
_VOWELS = "aeiou"
_WORD_LENGTH = 4
FOLLOW_UP_MIN_LENGTH = 10
FOLLOW_UP_MAX_LENGTH = 3000


class AccessPurpose(StrEnum):
    """What a kept secret opens: adding to a tip, or reading a report's status."""

    FOLLOW_UP = "follow_up"
    STATUS = "status"


@dataclass(frozen=True)
class AccessCode:
    """The hash of the one secret a report or tip has for the citizen; a new one replaces it."""

    report_id: str
    purpose: AccessPurpose
    secret_hash: str
    created_at: datetime


@dataclass(frozen=True)
class FollowUp:
    """Information a tipster added to their tip later, as typed (markup is text)."""

    id: str
    report_id: str
    text: str
    added_at: datetime


# -- passphrases ------------------------------------------------------------------------------


def new_passphrase() -> str:
    return "-".join(_word() for _ in range(PASSPHRASE_WORDS))


def _word() -> str:
    return "".join(
        secrets.choice(_CONSONANTS if i % 2 == 0 else _VOWELS) for i in range(_WORD_LENGTH)
    )


def normalise_passphrase(typed: str) -> str | None:
    """The passphrase as issued (baki-tomu-rezo-fina) from what was typed, or None.

    Case, spaces, dashes and dots between the words do not matter; the letters do.
    """
    letters = re.sub(r"[\s\-.,_]", "", typed.lower())
    if len(letters) != PASSPHRASE_WORDS * _WORD_LENGTH:
        return None
    for i, ch in enumerate(letters):
        if ch not in (_CONSONANTS if i % 2 == 0 else _VOWELS):
            return None
    return "-".join(letters[i : i + _WORD_LENGTH] for i in range(0, len(letters), _WORD_LENGTH))


# -- status codes -----------------------------------------------------------------------------


def new_status_code() -> str:
    return new_resume_code()


def normalise_status_code(typed: str) -> str | None:
    return normalise_resume_code(typed)


def hash_status_code(reference: str, code: str) -> str:
    # Bound to the reference and to its purpose: the hash of one report's code does not
    # open another report, and never matches a resume or download code's hash.
    return hashlib.sha256(f"loket-status:{reference}:{code}".encode()).hexdigest()


def normalise_reference(typed: str) -> str | None:
    """A reference as issued (AG-XXXXXXXX, ME-XXXXXXXX) from what was typed, or None."""
    cleaned = re.sub(r"[\s.]", "", typed.upper())
    match = re.fullmatch(r"(AG|ME)-?([A-Z0-9]{8})", cleaned)
    if match is None:
        return None
    return f"{match.group(1)}-{match.group(2)}"


# -- follow-up text ---------------------------------------------------------------------------


def clean_follow_up(raw: str) -> str:
    """The addition as kept. Raises Invalid("follow_up.too_short" / "follow_up.too_long")."""
    text = clean_text(raw, multiline=True)
    if len(text) < FOLLOW_UP_MIN_LENGTH:
        raise Invalid("follow_up.too_short", field="text", minimum=FOLLOW_UP_MIN_LENGTH)
    if len(text) > FOLLOW_UP_MAX_LENGTH:
        raise Invalid("follow_up.too_long", field="text", maximum=FOLLOW_UP_MAX_LENGTH)
    return text


# -- what a report's state means to the citizen ---------------------------------------------------

STATUS_LABELS: dict[ReportState, str] = {
    ReportState.SUBMITTED: N_("Submitted"),
    ReportState.IN_REVIEW: N_("In review"),
    ReportState.REGISTERED: N_("Registered"),
    ReportState.CLOSED: N_("Closed"),
}

STATUS_MEANINGS: dict[ReportState, str] = {
    ReportState.SUBMITTED: N_(
        "The police received your report. An officer has not looked at it yet."
    ),
    ReportState.IN_REVIEW: N_(
        "An officer is checking your report. If they need more information, they contact you."
    ),
    ReportState.REGISTERED: N_(
        "Your report is registered as a criminal complaint. The police decide whether to"
        " investigate; you will be told if they do."
    ),
    ReportState.CLOSED: N_(
        "The police have finished handling your report. If you have new information, make a"
        " new report or contact the police with your reference."
    ),
}
