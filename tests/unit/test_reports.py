"""Reports: the legal rules per country as a table, drafts, resume codes and the state machine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from loket.adapters.forms import load_forms
from loket.domain.errors import Invalid, Refused
from loket.domain.reports import (
    CODE_ALPHABET,
    Draft,
    DraftPolicy,
    Report,
    ReportState,
    ReportStep,
    Route,
    new_resume_code,
    normalise_resume_code,
    route,
)

FORMS = load_forms()
NOW = datetime(2027, 1, 12, 9, 0, tzinfo=UTC)
SELF, OFFICER = Route.SELF_SERVICE, Route.OFFICER
UNKNOWN_NO_VIOLENCE = {"perpetrator_known": "no", "violence": "no"}


@pytest.mark.parametrize(
    ("country", "code", "answers", "expected"),
    [
        ("NL", "report.bicycle_theft", None, SELF),
        ("NL", "report.theft", UNKNOWN_NO_VIOLENCE, SELF),
        ("NL", "report.vandalism", None, SELF),
        ("NL", "report.online_fraud", None, SELF),
        ("NL", "report.burglary", None, OFFICER),
        ("NL", "report.burglary", UNKNOWN_NO_VIOLENCE, OFFICER),
        ("NL", "report.threat", None, OFFICER),
        ("NL", "report.theft", {"perpetrator_known": "yes", "violence": "no"}, SELF),
        ("NL", "report.theft", {"perpetrator_known": "no", "violence": "yes"}, OFFICER),
        ("BE", "report.bicycle_theft", UNKNOWN_NO_VIOLENCE, SELF),
        ("BE", "report.theft", {"perpetrator_known": "yes", "violence": "no"}, OFFICER),
        ("BE", "report.vandalism", {"perpetrator_known": "no", "violence": "yes"}, OFFICER),
        ("BE", "report.online_fraud", {}, SELF),
        ("BE", "report.burglary", UNKNOWN_NO_VIOLENCE, OFFICER),
        ("BE", "report.threat", UNKNOWN_NO_VIOLENCE, OFFICER),
        ("DE", "report.bicycle_theft", None, OFFICER),
        ("NL", "tip.anonymous", None, SELF),
        ("BE", "tip.nuisance", None, SELF),
    ],
)
def test_where_a_report_may_be_made_follows_the_countrys_rules(
    country: str, code: str, answers: dict[str, str] | None, expected: Route
) -> None:
    assert route(FORMS[code], country, answers) is expected


def test_an_offence_needing_a_complaint_in_person_always_goes_to_an_officer() -> None:
    from dataclasses import replace

    form = replace(FORMS["report.theft"], needs_complaint_in_person=True)
    assert route(form, "NL") is OFFICER


def test_a_resume_code_is_three_groups_of_four_without_look_alikes() -> None:
    code = new_resume_code()
    groups = code.split("-")
    assert [len(g) for g in groups] == [4, 4, 4]
    assert all(ch in CODE_ALPHABET for ch in "".join(groups))
    assert not set("01OIL") & set(code)


def test_a_resume_code_is_read_however_it_was_typed() -> None:
    assert normalise_resume_code(" abcd efgh-jkmn ") == "ABCD-EFGH-JKMN"
    assert normalise_resume_code("ABCD-EFGH-JKM0") is None
    assert normalise_resume_code("ABCD") is None


def make_draft(code: str = "report.bicycle_theft") -> Draft:
    return Draft.start(
        FORMS[code],
        language="nl",
        channel="kiosk",
        location_id=1,
        country="NL",
        at=NOW,
        policy=DraftPolicy(),
    )


def test_a_draft_expires_a_while_after_its_last_change() -> None:
    policy = DraftPolicy(draft_lifetime=timedelta(days=7))
    draft = make_draft()
    draft.record(FORMS[draft.form_code], "locked", "yes", NOW + timedelta(days=6), policy)
    assert not draft.is_expired(NOW + timedelta(days=12))
    assert draft.is_expired(NOW + timedelta(days=13))


def test_a_resume_code_works_until_it_expires_and_not_after_submitting() -> None:
    policy = DraftPolicy(resume_lifetime=timedelta(hours=72))
    draft = make_draft()
    assert not draft.can_resume_at(NOW)
    draft.issue_resume_code(NOW, policy)
    assert draft.can_resume_at(NOW + timedelta(hours=71))
    assert not draft.can_resume_at(NOW + timedelta(hours=72))
    draft.report_id = "r"
    assert not draft.can_resume_at(NOW)
    with pytest.raises(Refused, match=r"draft\.submitted"):
        draft.issue_resume_code(NOW, policy)


def test_an_unfinished_draft_cannot_be_submitted() -> None:
    draft = make_draft("tip.anonymous")
    form = FORMS["tip.anonymous"]
    draft.record(form, "subject", "drugs", NOW, DraftPolicy())
    with pytest.raises(Invalid) as caught:
        Report.submit(draft, form, NOW)
    assert (caught.value.code, caught.value.field) == ("draft.incomplete", "description")


def submitted_tip() -> Report:
    form = FORMS["tip.anonymous"]
    draft = make_draft("tip.anonymous")
    draft.record(form, "subject", "drugs", NOW, DraftPolicy())
    draft.record(form, "description", "Dealing at the corner", NOW, DraftPolicy())
    draft.record(form, "where", None, NOW, DraftPolicy())
    draft.record(form, "person", None, NOW, DraftPolicy())
    return Report.submit(draft, form, NOW)


def test_a_submitted_tip_gets_a_tip_reference() -> None:
    report = submitted_tip()
    assert report.reference.startswith("ME-")
    assert report.state is ReportState.SUBMITTED


@pytest.mark.parametrize(
    ("steps", "state"),
    [
        ([ReportStep.REVIEW], ReportState.IN_REVIEW),
        ([ReportStep.REVIEW, ReportStep.REGISTER], ReportState.REGISTERED),
        ([ReportStep.REVIEW, ReportStep.REGISTER, ReportStep.CLOSE], ReportState.CLOSED),
        ([ReportStep.REVIEW, ReportStep.CLOSE], ReportState.CLOSED),
    ],
)
def test_a_report_moves_through_its_states_by_the_table(
    steps: list[ReportStep], state: ReportState
) -> None:
    report = submitted_tip()
    for step in steps:
        report.move(step, NOW)
    assert report.state is state


@pytest.mark.parametrize(
    "steps", [[ReportStep.REGISTER], [ReportStep.CLOSE], [ReportStep.REVIEW, ReportStep.REVIEW]]
)
def test_an_illegal_step_is_refused(steps: list[ReportStep]) -> None:
    report = submitted_tip()
    with pytest.raises(Refused, match=r"report\.illegal_transition"):
        for step in steps:
            report.move(step, NOW)
