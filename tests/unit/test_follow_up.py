"""Tips' passphrases, reports' status codes, references, additions, referrals, retention
cutoffs and the export document: the domain rules on their own."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from loket.adapters.forms import load_forms
from loket.demo import load_demo_locations
from loket.domain import referrals
from loket.domain.catalogue import CATALOGUE
from loket.domain.errors import Invalid, NotFound
from loket.domain.export import export_bytes, export_document
from loket.domain.follow_up import (
    STATUS_LABELS,
    STATUS_MEANINGS,
    clean_follow_up,
    hash_status_code,
    new_passphrase,
    new_status_code,
    normalise_passphrase,
    normalise_reference,
)
from loket.domain.reports import Report, ReportState
from loket.domain.retention import Cutoffs, RetentionCounts, RetentionPolicy

NOW = datetime(2027, 1, 12, 9, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Brussels


def test_a_passphrase_is_four_pronounceable_words_and_reads_back_however_it_is_typed() -> None:
    phrase = new_passphrase()
    words = phrase.split("-")
    assert len(words) == 4 and all(len(word) == 4 for word in words)
    assert normalise_passphrase(phrase) == phrase
    assert normalise_passphrase(phrase.upper().replace("-", " ")) == phrase
    assert normalise_passphrase(phrase.replace("-", "")) == phrase
    assert normalise_passphrase(" " + phrase.replace("-", ". ") + " ") == phrase


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "baki-tomu-rezo",
        "baki-tomu-rezo-fina-doke",
        "aaaa-tomu-rezo-fina",
        "b@ki-tomu-rezo-fina",
    ],
)
def test_what_cannot_be_a_passphrase_is_refused(typed: str) -> None:
    assert normalise_passphrase(typed) is None


def test_passphrases_differ() -> None:
    assert len({new_passphrase() for _ in range(200)}) == 200


@given(st.text(max_size=60))
def test_normalising_anything_typed_gives_a_passphrase_or_nothing(typed: str) -> None:
    result = normalise_passphrase(typed)
    assert result is None or normalise_passphrase(result) == result


def test_a_status_code_hash_is_bound_to_its_reference() -> None:
    code = new_status_code()
    assert hash_status_code("AG-ABCD2345", code) != hash_status_code("AG-ABCD2346", code)
    assert code not in hash_status_code("AG-ABCD2345", code)


def test_references_are_read_as_issued() -> None:
    assert normalise_reference(" ag-abcd2345 ") == "AG-ABCD2345"
    assert normalise_reference("ME ABCD2345") == "ME-ABCD2345"
    assert normalise_reference("MEABCD2345") == "ME-ABCD2345"
    for wrong in ("XX-ABCD2345", "AG-ABC", "AG-ABCD23456", ""):
        assert normalise_reference(wrong) is None


def test_an_addition_is_kept_as_typed_within_its_limits() -> None:
    assert clean_follow_up("  <b>grey</b> car\u202e again \x00 ") == "<b>grey</b> car again"
    with pytest.raises(Invalid) as short:
        clean_follow_up("too short")
    assert short.value.code == "follow_up.too_short" and short.value.field == "text"
    with pytest.raises(Invalid) as long:
        clean_follow_up("x" * 3001)
    assert long.value.code == "follow_up.too_long"


def test_every_report_state_has_a_label_and_a_meaning() -> None:
    assert set(STATUS_LABELS) == set(STATUS_MEANINGS) == set(ReportState)


# -- referrals ----------------------------------------------------------------------------------


def test_the_agents_intents_have_topics_and_linked_services_exist() -> None:
    for key in ("lost.property", "lost.passport_foreign", "lost.id_document"):
        assert referrals.topic(key).key == key
    codes = {service.code for service in CATALOGUE}
    referring = {service.code for service in CATALOGUE if service.referral}
    assert set(referrals.SERVICE_TOPICS) <= codes & referring
    assert set(referrals.SERVICE_TOPICS.values()) <= set(referrals.TOPICS)
    with pytest.raises(NotFound):
        referrals.topic("lost.nothing")


def test_police_stations_near_a_desk_come_first_and_show_their_hours() -> None:
    desks = load_demo_locations()
    peer = next(d for d in desks if d.slug == "peer")
    found = referrals.police_stations(desks, NOW, near=peer)
    assert found[0].location.slug == "peer"
    assert {s.location.kind.value for s in found} == {"police_office"}
    as_ = next(s for s in found if s.location.slug == "as")
    assert as_.is_open and as_.closes_at is not None and as_.next_opening_at is None
    late = referrals.police_stations(desks, NOW + timedelta(hours=12))
    as_late = next(s for s in late if s.location.slug == "as")
    assert not as_late.is_open and as_late.next_opening_at is not None
    assert as_late.next_opening_at > NOW + timedelta(hours=12)


def test_at_home_stations_are_in_order_of_name() -> None:
    names = [s.location.name for s in referrals.police_stations(load_demo_locations(), NOW)]
    assert names == sorted(names)


# -- retention ----------------------------------------------------------------------------------


def test_cutoffs_follow_the_policy() -> None:
    policy = RetentionPolicy(tip_access=timedelta(days=10))
    cutoffs = Cutoffs.at(NOW, policy)
    assert cutoffs.tip_access == NOW - timedelta(days=10)
    assert cutoffs.drafts == NOW and cutoffs.status_codes == NOW - timedelta(days=30)


def test_counts_add_up() -> None:
    counts = RetentionCounts(drafts=2, draft_files=1, tip_follow_ups=4)
    assert counts.total == 7 and counts.as_dict()["tip_follow_ups"] == 4


# -- export -------------------------------------------------------------------------------------


def test_the_export_document_is_the_same_bytes_each_time_and_holds_no_export_time() -> None:
    form = load_forms(None)["tip.anonymous"]
    desk = load_demo_locations()[0]
    report = Report(
        id="r" * 32,
        reference="ME-ABCD2345",
        draft_id="d" * 32,
        form_code=form.code,
        form_version=form.version,
        language="nl",
        channel="home",
        location_id=1,
        answers={"subject": "drugs", "description": "<b>Dealing</b> at the park"},
        submitted_at=NOW,
        changed_at=NOW,
    )
    first = export_bytes(export_document(report, form, desk, None))
    again = export_bytes(export_document(report, form, desk, None))
    assert first == again
    document = json.loads(first)
    assert document["submitted_at"] == "2027-01-12T09:00:00Z"
    assert [a["question"] for a in document["answers"]] == ["subject", "description"]
    assert document["answers"][1]["value"] == "<b>Dealing</b> at the park"
    assert document["answers"][0]["text"] == {"nl": "Drugs", "en": "Drugs"}
