"""The audit trail: records of who did what to which record, chained by hash to reveal tampering."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from types import MappingProxyType

from loket.domain.errors import Invalid

# The previous_hash of entry 1: there is nothing before it.
GENESIS_HASH = "0" * 64

# Bumped (and kept in the hashed form) if the canonical form ever has to change, so old
# entries stay verifiable by the rules they were written under.
CANONICAL_VERSION = 1

# Integers outside the range a JSON double represents exactly could come back altered from a
# JSON column or a JavaScript tool, and the entry would then fail to verify.
_MAX_SAFE_INT = 2**53 - 1

DetailValue = str | int | bool | None


class AuditAction(StrEnum):
    """What the actor did. Values are hashed into entries: add new ones, never rename or remove."""

    READ = "read"  # opened a record holding personal data (a ticket, report, call transcript)
    SEARCH = "search"  # listed or searched records; the query's shape goes in details
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"  # removed on request or by mistake-correction, by a person
    PURGE = "purge"  # removed by the retention schedule, by the system
    EXPORT = "export"  # figures or records left the system (CSV, a report to the case system)
    DOWNLOAD = "download"  # a document (statement PDF, uploaded photo) was fetched
    PRINT = "print"  # a document was printed, e.g. at a kiosk
    SIGN = "sign"  # a statement was signed by the citizen or the officer
    VERIFY_IDENTITY = "verify_identity"  # an officer checked an identity document on camera
    ASSIGN = "assign"  # a ticket or call was handed to an officer
    TRANSFER = "transfer"  # a ticket moved from one officer to another
    JOIN_CALL = "join_call"  # someone (interpreter, supervisor) entered a running call
    SIGN_IN = "sign_in"
    SIGN_IN_FAILED = "sign_in_failed"  # kept to spot password guessing on staff accounts
    SIGN_OUT = "sign_out"
    GRANT_ROLE = "grant_role"
    REVOKE_ROLE = "revoke_role"
    RESET_CREDENTIALS = "reset_credentials"  # password or second factor reset by an admin
    CHANGE_SETTINGS = "change_settings"  # locations, hours, retention, forms


@dataclass(frozen=True)
class AuditRecord:
    """What a caller wants recorded.

    `actor` names who acted ("staff:12", "citizen", "system"); `subject_type` and `subject_id`
    name the record acted on ("ticket", "T-0042"). `details` holds a few JSON scalars that
    explain the act (a field name, a reason code, a row count) but never the personal data
    itself: the trail is kept longer than the data it describes and must not become a copy.
    `personal_data` says whether the subject holds personal data, so reads of it can be
    reported on. Raises `Invalid` for a naive `at`, non-text names or unsupported details.
    """

    actor: str
    action: AuditAction
    subject_type: str
    subject_id: str
    at: datetime
    details: Mapping[str, DetailValue]
    personal_data: bool

    def __post_init__(self) -> None:
        for name in ("actor", "subject_type", "subject_id"):
            _check_text(getattr(self, name), field=name)
        if not isinstance(self.personal_data, bool):
            raise Invalid("audit.invalid_field", field="personal_data")
        try:
            action = AuditAction(self.action)
        except ValueError:
            raise Invalid("audit.unknown_action", field="action") from None
        object.__setattr__(self, "action", action)
        object.__setattr__(self, "at", _require_aware(self.at).astimezone(UTC))
        # A private read-only copy: the caller changing its dict later must not make the
        # stored entry disagree with the hash computed from it.
        object.__setattr__(self, "details", MappingProxyType(_checked_details(self.details)))


@dataclass(frozen=True)
class AuditEntry:
    """A record as stored: its place in the chain and the hashes that tie it there."""

    record: AuditRecord
    sequence: int  # 1, 2, 3 … without gaps
    previous_hash: str  # entry_hash of sequence - 1, or GENESIS_HASH for sequence 1
    entry_hash: str  # sha256 of the canonical form, lowercase hex


@dataclass(frozen=True)
class ChainVerdict:
    """The outcome of verifying a chain.

    `problem` is None when intact, otherwise one of "hash_mismatch" (an entry's content no
    longer matches its hash), "broken_link" (an entry does not point at the one before it),
    "gap" (a sequence number is missing: an entry was deleted) or "reordered" (an entry is
    out of sequence order: swapped, moved or repeated). `first_bad_sequence` is the position
    in the chain where the problem starts. `head_hash` is the last entry's hash (GENESIS_HASH
    for an empty chain) for the operator to keep outside the database; None when broken.
    """

    is_intact: bool
    entries_checked: int
    first_bad_sequence: int | None
    problem: str | None
    head_hash: str | None


def canonical_bytes(record: AuditRecord, *, sequence: int, previous_hash: str) -> bytes:
    """The exact bytes an entry's hash is computed over.

    A JSON object with sorted keys, no whitespace, non-ASCII characters written as themselves
    and the whole encoded as UTF-8; `at` is written in UTC with exactly six fractional digits
    and a "Z" ("2025-03-01T09:30:00.000000Z"), the precision both PostgreSQL and SQLite keep.
    Strings are hashed code point for code point, so storage must return them unchanged (no
    Unicode normalisation, no trimming). Raises `Invalid` for a naive datetime.
    """
    document = {
        "v": CANONICAL_VERSION,
        "sequence": sequence,
        "previous_hash": previous_hash,
        "actor": record.actor,
        "action": str(record.action),
        "subject_type": record.subject_type,
        "subject_id": record.subject_id,
        "at": _canonical_time(record.at),
        "details": dict(record.details),
        "personal_data": record.personal_data,
    }
    text = json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return text.encode("utf-8")


def compute_hash(record: AuditRecord, *, sequence: int, previous_hash: str) -> str:
    """The lowercase hex sha256 of the canonical form."""
    data = canonical_bytes(record, sequence=sequence, previous_hash=previous_hash)
    return hashlib.sha256(data).hexdigest()


def chain(record: AuditRecord, *, sequence: int, previous_hash: str) -> AuditEntry:
    """Make the entry that follows `previous_hash` at `sequence`.

    The caller (the audit repository) must hand out sequences and read the previous hash under
    one lock, or two writers would both chain onto the same head. Raises `Invalid` for a
    sequence below 1 or a previous hash that is not 64 lowercase hex digits.
    """
    if isinstance(sequence, bool) or not isinstance(sequence, int) or sequence < 1:
        raise Invalid("audit.invalid_sequence", field="sequence")
    if not _is_hash(previous_hash):
        raise Invalid("audit.invalid_previous_hash", field="previous_hash")
    if sequence == 1 and previous_hash != GENESIS_HASH:
        raise Invalid("audit.invalid_previous_hash", field="previous_hash")
    entry_hash = compute_hash(record, sequence=sequence, previous_hash=previous_hash)
    return AuditEntry(record, sequence, previous_hash, entry_hash)


def verify_chain(entries: Iterable[AuditEntry]) -> ChainVerdict:
    """Check a chain read in sequence order, stopping at the first problem.

    Streams: it keeps only the previous hash and one entry of look-ahead, so it can walk
    millions of entries straight from a database cursor.
    """
    # Limitation: the chain proves nothing about its own end. Deleting the newest entries
    # leaves a shorter chain that verifies. The mitigation is to anchor the head outside the
    # database: `loket audit verify` prints head_hash and entries_checked, and the operator
    # keeps them (a logbook, a ticket, a signed mail); a later chain that lacks that entry, or
    # holds a different hash at that sequence, has been truncated or rewritten.
    stream: Iterator[AuditEntry] = iter(entries)
    expected_sequence = 1
    previous_hash = GENESIS_HASH
    checked = 0
    for entry in stream:
        checked += 1
        if entry.sequence != expected_sequence:
            # A higher number is a deletion unless a lower number follows it, which means
            # entries were moved. One entry of look-ahead tells them apart for a swap.
            problem = "reordered"
            if entry.sequence > expected_sequence:
                following = next(stream, None)
                if following is None or following.sequence > entry.sequence:
                    problem = "gap"
            return _broken(checked, expected_sequence, problem)
        recomputed = compute_hash(
            entry.record, sequence=entry.sequence, previous_hash=entry.previous_hash
        )
        # Content first: an edited previous_hash is an edited entry, reported as such.
        if recomputed != entry.entry_hash:
            return _broken(checked, expected_sequence, "hash_mismatch")
        if entry.previous_hash != previous_hash:
            return _broken(checked, expected_sequence, "broken_link")
        previous_hash = entry.entry_hash
        expected_sequence += 1
    return ChainVerdict(
        is_intact=True,
        entries_checked=checked,
        first_bad_sequence=None,
        problem=None,
        head_hash=previous_hash,
    )


def _broken(checked: int, sequence: int, problem: str) -> ChainVerdict:
    return ChainVerdict(
        is_intact=False,
        entries_checked=checked,
        first_bad_sequence=sequence,
        problem=problem,
        head_hash=None,
    )


def _require_aware(at: object) -> datetime:
    # SQLite hands timestamps back without a zone; guessing one here would hash a different
    # instant, so the storage adapter must attach UTC before building records.
    if not isinstance(at, datetime):
        raise Invalid("audit.invalid_field", field="at")
    if at.tzinfo is None or at.utcoffset() is None:
        raise Invalid("audit.naive_datetime", field="at")
    return at


def _canonical_time(at: datetime) -> str:
    utc = _require_aware(at).astimezone(UTC)
    # Formatted by hand: strftime's %Y does not zero-pad small years on every platform.
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}"
        f"T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}.{utc.microsecond:06d}Z"
    )


def _check_text(value: object, *, field: str) -> None:
    if not isinstance(value, str):
        raise Invalid("audit.invalid_field", field=field)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates cannot be encoded, stored in PostgreSQL or hashed.
        raise Invalid("audit.invalid_field", field=field) from None


def _checked_details(details: Mapping[str, DetailValue]) -> dict[str, DetailValue]:
    # Floats are left out on purpose: their text form differs between JSON libraries and
    # databases, and a re-rendered 0.1 would break the hash.
    if not isinstance(details, Mapping):
        raise Invalid("audit.invalid_field", field="details")
    copied: dict[str, DetailValue] = {}
    for key, value in details.items():
        _check_text(key, field="details")
        if isinstance(value, str):
            _check_text(value, field="details")
        elif isinstance(value, int) and not isinstance(value, bool):
            if abs(value) > _MAX_SAFE_INT:
                raise Invalid("audit.invalid_detail", field="details", key=key)
        elif value is not None and not isinstance(value, bool):
            raise Invalid("audit.invalid_detail", field="details", key=key)
        copied[key] = value
    return copied


def _is_hash(value: object) -> bool:
    return (
        isinstance(value, str)
        and len(value) == 64
        and all(character in "0123456789abcdef" for character in value)
    )
