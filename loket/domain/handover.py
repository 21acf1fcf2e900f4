"""Handing a submitted report over: its stored statement, the citizen's acknowledgement, and the
one-time codes that let the citizen fetch the acknowledgement on another device.

The acknowledgement (ontvangstbevestiging) is what EU Directive 2012/29/EU (article 5) gives a
victim who reports a crime: written proof of the report with its basic elements, and (articles
4, 7, 8) information on their rights, interpretation and translation, and victim support.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from loket.domain.errors import NotFound
from loket.domain.i18n import N_
from loket.domain.reports import hash_resume_code, new_resume_code, normalise_resume_code
from loket.domain.statements import Answer

# A kiosk code is for fetching the document at home the same day or the next.
DOWNLOAD_CODE_LIFETIME = timedelta(hours=24)
# Single use: a code seen over someone's shoulder at the kiosk is worthless once used.
DOWNLOAD_CODE_USES = 1


@dataclass(frozen=True)
class StoredStatement:
    """Where a report's signed statement is kept: its version and the hash of its PDF."""

    id: str
    report_id: str
    reference: str
    version: int
    sha256: str
    created_at: datetime


@dataclass
class DownloadCode:
    """A one-time code for a report's acknowledgement; only the code's hash is kept."""

    id: str
    report_id: str
    code_hash: str
    created_at: datetime
    expires_at: datetime
    uses_left: int = DOWNLOAD_CODE_USES

    @classmethod
    def issue(cls, code_id: str, report_id: str, at: datetime) -> tuple[DownloadCode, str]:
        """A new code and the code itself, to be shown once and never stored."""
        code = new_resume_code()
        issued = cls(code_id, report_id, hash_download_code(code), at, at + DOWNLOAD_CODE_LIFETIME)
        return issued, code

    def use(self, at: datetime) -> None:
        """Spend one use. Raises NotFound("download.expired") or NotFound("download.used")."""
        if at >= self.expires_at:
            raise NotFound("download.expired", field="code")
        if self.uses_left <= 0:
            raise NotFound("download.used", field="code")
        self.uses_left -= 1


def hash_download_code(code: str) -> str:
    # The same alphabet and strength as resume codes; a different purpose in the hash, so a
    # resume code's hash never matches a download code's.
    return hash_resume_code(f"download:{code}")


def normalise_download_code(typed: str) -> str | None:
    return normalise_resume_code(typed)


@dataclass(frozen=True)
class Acknowledgement:
    """What the acknowledgement says, already in the citizen's language (except the answers'
    own words): the reference, the offence, when it was reported and where, and its basic
    elements (where and when it happened)."""

    reference: str
    language: str
    offence: str
    reported_at: datetime
    desk: str
    time_zone: str
    country: str
    elements: tuple[Answer, ...]


@dataclass(frozen=True)
class Right:
    heading: str
    text: str


# Article numbers of Directive 2012/29/EU; the support line depends on the desk's country.
VICTIM_RIGHTS: tuple[Right, ...] = (
    Right(
        N_("Written acknowledgement"),
        N_(
            "This document is the written acknowledgement of your report. Keep it: it states"
            " your reference and the basic elements of what you reported (article 5)."
        ),
    ),
    Right(
        N_("Information"),
        N_(
            "You have the right to be told what happens with your report: whether an"
            " investigation starts, how it proceeds and how it ends. Ask the police with your"
            " reference (articles 4 and 6)."
        ),
    ),
    Right(
        N_("Interpretation and translation"),
        N_(
            "If you do not understand or speak Dutch, you have the right to an interpreter, free"
            " of charge, and to a translation of this acknowledgement into a language you"
            " understand (articles 5 and 7)."
        ),
    ),
    Right(
        N_("Victim support"),
        N_(
            "You have the right to free and confidential support from a victim support service,"
            " whether or not you reported the crime (articles 8 and 9)."
        ),
    ),
)

VICTIM_SUPPORT: dict[str, str] = {
    "NL": N_("In the Netherlands: Slachtofferhulp Nederland, telephone 0900-0101."),
    "BE": N_(
        "In Belgium: the victim assistance service of the police, or the general helpline 1712."
    ),
}
