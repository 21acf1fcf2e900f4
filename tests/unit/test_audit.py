from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loket.domain.audit import (
    GENESIS_HASH,
    AuditAction,
    AuditEntry,
    AuditRecord,
    canonical_bytes,
    chain,
    compute_hash,
    verify_chain,
)
from loket.domain.errors import Invalid

T0 = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
CHAIN_LENGTH = 6


def make_record(**overrides: Any) -> AuditRecord:
    values: dict[str, Any] = {
        "actor": "staff:12",
        "action": AuditAction.READ,
        "subject_type": "ticket",
        "subject_id": "T-0042",
        "at": T0,
        "details": {"reason": "call"},
        "personal_data": True,
    }
    values.update(overrides)
    return AuditRecord(**values)


def make_chain(length: int = CHAIN_LENGTH) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    previous_hash = GENESIS_HASH
    for number in range(1, length + 1):
        record = make_record(
            subject_id=f"T-{number:04d}", at=T0 + timedelta(seconds=number, microseconds=number)
        )
        entry = chain(record, sequence=number, previous_hash=previous_hash)
        entries.append(entry)
        previous_hash = entry.entry_hash
    return entries


def _other_hash(value: str) -> str:
    return ("1" if value[0] != "1" else "2") + value[1:]


# One change per field, each producing a different but well-formed value.
RECORD_CHANGES = {
    "actor": lambda r: dataclasses.replace(r, actor=r.actor + "x"),
    "action": lambda r: dataclasses.replace(
        r, action=AuditAction.UPDATE if r.action != AuditAction.UPDATE else AuditAction.READ
    ),
    "subject_type": lambda r: dataclasses.replace(r, subject_type=r.subject_type + "s"),
    "subject_id": lambda r: dataclasses.replace(r, subject_id=r.subject_id + "1"),
    "at": lambda r: dataclasses.replace(r, at=r.at + timedelta(microseconds=1)),
    "details": lambda r: dataclasses.replace(r, details={**r.details, "extra": None}),
    "personal_data": lambda r: dataclasses.replace(r, personal_data=not r.personal_data),
}
ENTRY_CHANGES = {
    "previous_hash": lambda e: dataclasses.replace(e, previous_hash=_other_hash(e.previous_hash)),
    "entry_hash": lambda e: dataclasses.replace(e, entry_hash=_other_hash(e.entry_hash)),
}


def test_a_chain_of_entries_verifies_and_reports_its_head() -> None:
    entries = make_chain()

    verdict = verify_chain(entries)

    assert verdict.is_intact
    assert verdict.entries_checked == CHAIN_LENGTH
    assert verdict.first_bad_sequence is None
    assert verdict.problem is None
    assert verdict.head_hash == entries[-1].entry_hash


def test_an_empty_chain_is_intact_with_the_genesis_head() -> None:
    verdict = verify_chain([])

    assert verdict.is_intact
    assert verdict.entries_checked == 0
    assert verdict.head_hash == GENESIS_HASH


def test_verification_streams_from_a_generator() -> None:
    verdict = verify_chain(entry for entry in make_chain())

    assert verdict.is_intact


@given(
    index=st.integers(0, CHAIN_LENGTH - 1),
    field=st.sampled_from(sorted(RECORD_CHANGES) + sorted(ENTRY_CHANGES)),
)
def test_changing_any_field_of_any_entry_is_detected_at_that_entry(index: int, field: str) -> None:
    entries = make_chain()
    entry = entries[index]
    if field in RECORD_CHANGES:
        entries[index] = dataclasses.replace(entry, record=RECORD_CHANGES[field](entry.record))
    else:
        entries[index] = ENTRY_CHANGES[field](entry)

    verdict = verify_chain(entries)

    assert not verdict.is_intact
    assert verdict.problem == "hash_mismatch"
    assert verdict.first_bad_sequence == index + 1
    assert verdict.entries_checked == index + 1
    assert verdict.head_hash is None


@given(
    index=st.integers(0, CHAIN_LENGTH - 1),
    new_sequence=st.integers(-3, CHAIN_LENGTH + 3),
)
def test_changing_the_sequence_of_any_entry_is_detected_at_that_entry(
    index: int, new_sequence: int
) -> None:
    entries = make_chain()
    if new_sequence == entries[index].sequence:
        new_sequence += CHAIN_LENGTH
    entries[index] = dataclasses.replace(entries[index], sequence=new_sequence)

    verdict = verify_chain(entries)

    assert not verdict.is_intact
    assert verdict.problem in {"gap", "reordered"}
    assert verdict.first_bad_sequence == index + 1


@given(index=st.integers(0, CHAIN_LENGTH - 2))
def test_deleting_an_entry_is_detected_as_a_gap(index: int) -> None:
    entries = make_chain()
    del entries[index]

    verdict = verify_chain(entries)

    assert not verdict.is_intact
    assert verdict.problem == "gap"
    assert verdict.first_bad_sequence == index + 1


def test_deleting_the_newest_entries_is_only_caught_by_an_anchored_head() -> None:
    entries = make_chain()
    anchored_head = verify_chain(entries).head_hash

    verdict = verify_chain(entries[:-2])

    # The chain alone cannot tell it lost its tail; the head kept outside the database can.
    assert verdict.is_intact
    assert verdict.head_hash != anchored_head


@given(
    pair=st.lists(st.integers(0, CHAIN_LENGTH - 1), min_size=2, max_size=2, unique=True).map(sorted)
)
def test_swapping_two_entries_is_detected_as_reordered(pair: list[int]) -> None:
    first, second = pair
    entries = make_chain()
    entries[first], entries[second] = entries[second], entries[first]

    verdict = verify_chain(entries)

    assert not verdict.is_intact
    assert verdict.problem == "reordered"
    assert verdict.first_bad_sequence == first + 1


def test_a_rewritten_entry_with_a_recomputed_hash_breaks_the_next_link() -> None:
    entries = make_chain()
    forged = make_record(actor="staff:99", subject_id="T-0003")
    entries[2] = chain(forged, sequence=3, previous_hash=entries[1].entry_hash)

    verdict = verify_chain(entries)

    assert verdict.problem == "broken_link"
    assert verdict.first_bad_sequence == 4


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(Invalid) as caught:
        make_record(at=datetime(2025, 3, 1, 9, 30))

    assert caught.value.code == "audit.naive_datetime"
    assert caught.value.field == "at"


def test_the_same_instant_in_another_zone_hashes_the_same() -> None:
    brussels = timezone(timedelta(hours=1))
    local = make_record(at=T0.astimezone(brussels))

    assert local.at.tzinfo is UTC
    assert compute_hash(local, sequence=1, previous_hash=GENESIS_HASH) == compute_hash(
        make_record(), sequence=1, previous_hash=GENESIS_HASH
    )


def test_the_canonical_form_and_hash_are_pinned() -> None:
    # Pinned once: if this fails, every stored chain would stop verifying. Change the
    # canonical form only with a new CANONICAL_VERSION and a migration note.
    record = make_record(
        actor="staff:7",
        action=AuditAction.EXPORT,
        subject_type="report",
        subject_id="2025-ÅB-17",
        at=datetime(2025, 3, 1, 9, 30, 5, 120, tzinfo=UTC),
        details={"format": "csv", "rows": 42, "anonymised": False, "note": None},
        personal_data=True,
    )

    data = canonical_bytes(record, sequence=7, previous_hash="ab" * 32)

    expected = (
        '{"action":"export","actor":"staff:7","at":"2025-03-01T09:30:05.000120Z",'
        '"details":{"anonymised":false,"format":"csv","note":null,"rows":42},'
        '"personal_data":true,"previous_hash":"' + "ab" * 32 + '","sequence":7,'
        '"subject_id":"2025-ÅB-17","subject_type":"report","v":1}'
    )
    assert data == expected.encode("utf-8")
    assert chain(record, sequence=7, previous_hash="ab" * 32).entry_hash == (
        "9463a7c9288dc878ba269d519704defc93966941e3c43ba37e75efb0ad41c4e8"
    )


@pytest.mark.parametrize(
    "details", [{"ratio": 0.5}, {"nested": {"a": 1}}, {"huge": 2**60}, {"tags": ["a"]}]
)
def test_details_that_would_not_round_trip_are_refused(details: dict[str, Any]) -> None:
    with pytest.raises(Invalid) as caught:
        make_record(details=details)

    assert caught.value.code == "audit.invalid_detail"


def test_changing_the_callers_details_afterwards_does_not_alter_the_entry() -> None:
    details: dict[str, Any] = {"reason": "call"}
    entry = chain(make_record(details=details), sequence=1, previous_hash=GENESIS_HASH)
    details["reason"] = "curiosity"

    assert verify_chain([entry]).is_intact


@pytest.mark.parametrize(
    ("sequence", "previous_hash"),
    [(0, GENESIS_HASH), (2, "not-a-hash"), (2, "AB" * 32), (1, "ab" * 32)],
)
def test_chaining_refuses_a_bad_position(sequence: int, previous_hash: str) -> None:
    with pytest.raises(Invalid):
        chain(make_record(), sequence=sequence, previous_hash=previous_hash)
