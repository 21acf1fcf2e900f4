"""Identification rules: the level each type needs, how a draft reaches it, what is kept of a
login's claims, and what an officer's check must hold."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from loket.adapters.forms import load_forms
from loket.domain.catalogue import CATALOGUE, IdentificationLevel, ServiceKind
from loket.domain.errors import DomainError
from loket.domain.identification import (
    KEPT_CLAIMS,
    DocumentType,
    Method,
    can_verify_online,
    check_reached,
    display_name,
    officer_verification,
    online_verification,
    pseudonym,
    required_level,
    starting_level,
)
from loket.domain.reports import Draft, DraftPolicy, Report

L = IdentificationLevel
AT = datetime(2027, 1, 12, 9, 0, tzinfo=UTC)
KEY = b"k" * 32
FORMS = load_forms(None)
BROKER_CLAIMS = {
    "iss": "https://broker.example",
    "sub": "999990019",  # a test BSN, as a broker might send it
    "name": "Jan Jansen",
    "birthdate": "1980-04-01",
    "email": "jan@example.invalid",
    "address": {"street_address": "Markt 1"},
}


def make_draft(code: str) -> Draft:
    return Draft.start(
        FORMS[code],
        language="nl",
        channel="home",
        location_id=1,
        country="NL",
        at=AT,
        policy=DraftPolicy(),
    )


@pytest.mark.parametrize(
    ("code", "level"),
    [
        ("report.bicycle_theft", L.VERIFIED_ONLINE),
        ("report.theft", L.VERIFIED_ONLINE),
        ("report.vandalism", L.VERIFIED_ONLINE),
        ("report.online_fraud", L.VERIFIED_ONLINE),
        ("report.burglary", L.VERIFIED_BY_OFFICER),
        ("report.threat", L.VERIFIED_BY_OFFICER),
        ("tip.anonymous", L.ANONYMOUS),
        ("tip.nuisance", L.SELF_DECLARED),
    ],
)
def test_each_form_takes_its_level_from_the_catalogue(code: str, level: L) -> None:
    assert required_level(code) is level


def test_every_report_needs_a_verified_identity_and_every_form_has_a_catalogue_level() -> None:
    for service in CATALOGUE:
        if service.kind is ServiceKind.REPORT:
            assert service.identification >= L.VERIFIED_ONLINE
    for code in FORMS:
        required_level(code)  # no form without a catalogue entry


def test_a_draft_starts_anonymous_only_for_an_anonymous_tip() -> None:
    assert make_draft("tip.anonymous").identification is L.ANONYMOUS
    assert make_draft("tip.nuisance").identification is L.SELF_DECLARED
    assert make_draft("report.bicycle_theft").identification is L.SELF_DECLARED
    assert starting_level(L.VERIFIED_BY_OFFICER) is L.SELF_DECLARED


def test_a_level_is_reached_by_itself_or_a_stronger_one() -> None:
    check_reached(L.VERIFIED_ONLINE, L.VERIFIED_ONLINE)
    check_reached(L.VERIFIED_ONLINE, L.VERIFIED_BY_OFFICER)
    with pytest.raises(DomainError) as refused:
        check_reached(L.VERIFIED_ONLINE, L.SELF_DECLARED)
    assert refused.value.code == "identification.required"
    with pytest.raises(DomainError):
        check_reached(L.VERIFIED_BY_OFFICER, L.VERIFIED_ONLINE)


def test_only_types_up_to_verified_online_can_be_verified_online() -> None:
    assert can_verify_online(L.VERIFIED_ONLINE)
    assert not can_verify_online(L.VERIFIED_BY_OFFICER)


def test_a_login_keeps_a_pseudonym_and_a_name_and_drops_every_other_claim() -> None:
    kept = online_verification(BROKER_CLAIMS, issuer="https://broker.example", key=KEY, at=AT)
    assert kept.level is L.VERIFIED_ONLINE and kept.method is Method.ONLINE
    assert kept.display_name == "Jan Jansen"
    assert kept.subject_ref == pseudonym(KEY, "https://broker.example", "999990019")
    assert "999990019" not in repr(kept)
    for value in ("1980-04-01", "jan@example.invalid", "Markt 1"):
        assert value not in repr(kept)
    assert set(KEPT_CLAIMS) == {"sub", "name", "given_name", "family_name"}


def test_the_pseudonym_is_stable_but_differs_per_issuer_and_per_key() -> None:
    one = pseudonym(KEY, "https://a.example", "123")
    assert one == pseudonym(KEY, "https://a.example", "123")
    assert one != pseudonym(KEY, "https://b.example", "123")
    assert one != pseudonym(b"other" * 8, "https://a.example", "123")


def test_the_display_name_falls_back_to_given_and_family_name_and_is_cleaned() -> None:
    assert display_name({"given_name": "Deniz", "family_name": "Yılmaz"}) == "Deniz Yılmaz"
    assert display_name({"name": "Eve\u202e lived"}) == "Eve lived"
    assert display_name({"sub": "x"}) is None
    assert len(display_name({"name": "x" * 500}) or "") == 200


@pytest.mark.parametrize("subject", [None, "", "   ", 42, "x" * 256])
def test_a_login_without_a_usable_subject_is_refused(subject: object) -> None:
    with pytest.raises(DomainError) as refused:
        online_verification({"sub": subject}, issuer="i", key=KEY, at=AT)
    assert refused.value.code == "identification.no_subject"


def test_an_officer_check_keeps_the_type_and_the_last_four_characters_normalised() -> None:
    kept = officer_verification(
        document_type="residence_permit",
        document_suffix=" x7-9k ",
        face_matches=True,
        officer_id=7,
        at=AT,
    )
    assert kept.level is L.VERIFIED_BY_OFFICER and kept.method is Method.OFFICER
    assert kept.document_type is DocumentType.RESIDENCE_PERMIT
    assert kept.document_suffix == "X79K" and kept.officer_id == 7
    assert kept.subject_ref is None and kept.display_name is None


@pytest.mark.parametrize(
    ("document_type", "suffix", "face", "code", "field"),
    [
        ("library_card", "AB12", True, "identification.document_type", "document_type"),
        ("passport", "AB1", True, "identification.document_suffix", "document_suffix"),
        ("passport", "AB123", True, "identification.document_suffix", "document_suffix"),
        ("passport", "AB!2", True, "identification.document_suffix", "document_suffix"),
        ("passport", "AB12", False, "identification.face_not_confirmed", "face_matches"),
    ],
)
def test_an_officer_check_refuses_what_was_not_seen(
    document_type: str, suffix: str, face: bool, code: str, field: str
) -> None:
    with pytest.raises(DomainError) as refused:
        officer_verification(
            document_type=document_type,
            document_suffix=suffix,
            face_matches=face,
            officer_id=7,
            at=AT,
        )
    assert (refused.value.code, refused.value.field) == (code, field)


def test_a_verification_raises_a_draft_and_never_lowers_it() -> None:
    draft = make_draft("report.bicycle_theft")
    by_officer = officer_verification(
        document_type="passport", document_suffix="AB12", face_matches=True, officer_id=1, at=AT
    )
    online = online_verification(BROKER_CLAIMS, issuer="i", key=KEY, at=AT)
    draft.verify(by_officer, AT, DraftPolicy())
    draft.verify(online, AT, DraftPolicy())
    assert draft.identification is L.VERIFIED_BY_OFFICER


def test_a_report_is_submitted_only_at_its_level_and_keeps_it() -> None:
    draft = make_draft("report.vandalism")
    draft.answers = {
        "target": "car",
        "when": "2027-01-10",
        "where": {"street": "Markt 1", "city": "Peer"},
        "damage": "Mirror",
        "cost": "150",
        "perpetrator_known": "no",
        "violence": "no",
        "photo": None,
    }
    form = FORMS["report.vandalism"]
    assert form.first_unanswered(draft.answers) is None
    with pytest.raises(DomainError) as refused:
        Report.submit(draft, form, AT)
    assert refused.value.code == "identification.required"
    draft.verify(online_verification(BROKER_CLAIMS, issuer="i", key=KEY, at=AT), AT, DraftPolicy())
    assert Report.submit(draft, form, AT).identification is L.VERIFIED_ONLINE
