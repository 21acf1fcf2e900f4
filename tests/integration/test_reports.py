"""Report drafts on SQLite and PostgreSQL: saved each step, resumable, one report per draft."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from loket.adapters.db import schema as t
from loket.bootstrap import build
from loket.domain.errors import DomainError
from loket.domain.forms import Upload
from loket.domain.reports import ReportState, ReportStep, Route
from loket.services import reports as svc
from tests.conftest import FAST_HASHER, FakeClock, World
from tests.identity import verify_online

KIOSK = "utrecht-stationsplein"  # NL
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64

BICYCLE = [
    ("when", {"date": "2027-01-11", "time": "18:30"}),
    ("where", {"street": "Stationsplein", "city": "Utrecht"}),
    (
        "bicycle",
        [
            {
                "description": "e-bike",
                "brand": "Gazelle",
                "colour": "black",
                "frame_number": "GZ123456",
            }
        ],
    ),
    ("locked", "yes"),
    ("seen", "no"),
    ("perpetrator_known", "no"),
    ("violence", "no"),
    ("value", "1200"),
    ("details", "<b>Stolen</b> at night"),
    ("photo", Upload("bike.png", PNG)),
]


def start(world: World, code: str = "report.bicycle_theft", slug: str = KIOSK) -> str:
    progress = svc.start_draft(
        world.container.reports, form_code=code, location_slug=slug, language="nl", channel="kiosk"
    )
    return progress.draft.id


def fill(world: World, draft_id: str, answers: list[tuple[str, object]]) -> svc.Progress:
    """Answer in order; a finished draft whose type needs it is then verified online."""
    progress = None
    for question, raw in answers:
        progress = svc.answer(world.container.reports, draft_id, question, raw)
    assert progress is not None
    if progress.next_question is None and progress.needs_identification:
        verify_online(world.container, draft_id)
        progress = svc.load_draft(world.container.reports, draft_id)
    return progress


def count(world: World, table: object) -> int:
    with world.container.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_each_answer_is_saved_and_survives_a_restart(
    world: World, settings: object, clock: FakeClock
) -> None:
    draft_id = start(world)
    fill(world, draft_id, BICYCLE[:4])
    world.container.dispose()
    restarted = build(settings, clock=clock, hasher=FAST_HASHER)  # type: ignore[arg-type]
    try:
        progress = svc.load_draft(restarted.reports, draft_id)
        assert progress.draft.answers["locked"] == "yes"
        assert progress.draft.answers["bicycle"][0]["frame_number"] == "GZ123456"
        assert progress.next_question is not None and progress.next_question.id == "seen"
        assert progress.draft.step == "seen"
    finally:
        restarted.dispose()


def test_a_bad_answer_is_refused_and_nothing_is_saved(world: World) -> None:
    draft_id = start(world)
    with pytest.raises(DomainError) as caught:
        svc.answer(
            world.container.reports, draft_id, "when", {"date": "2027-02-01", "time": "10:00"}
        )
    assert caught.value.code == "answer.in_future"
    assert svc.load_draft(world.container.reports, draft_id).draft.answers == {}


def test_a_double_submit_makes_one_report(world: World) -> None:
    draft_id = start(world)
    fill(world, draft_id, BICYCLE)
    first = svc.submit_draft(world.container.reports, draft_id)
    second = svc.submit_draft(world.container.reports, draft_id)
    assert first.reference == second.reference
    assert first.reference.startswith("AG-")
    assert count(world, t.reports) == 1
    with world.container.engine.connect() as conn:
        actions = conn.execute(select(t.audit_log.c.action, t.audit_log.c.subject_type)).all()
    assert ("create", "report") in [tuple(a) for a in actions]


def test_the_report_keeps_the_answers_and_its_file_and_reads_as_a_statement(world: World) -> None:
    draft_id = start(world)
    fill(world, draft_id, BICYCLE)
    report = svc.submit_draft(world.container.reports, draft_id)
    assert report.answers["details"] == "<b>Stolen</b> at night"
    assert report.answers["photo"]["content_type"] == "image/png"
    with world.container.reports.uow() as uow:
        assert uow.reports.file(draft_id, "photo") == PNG
    with world.container.engine.connect() as conn:
        stored = conn.execute(select(t.report_files.c.content)).scalar_one()
    assert PNG not in stored  # sealed at rest
    text = svc.statement_text(world.container.reports, report, "en")
    assert text.answers[3].label == "Was the bicycle locked?"
    assert text.answers[3].text == "Yes"


def test_an_unfinished_draft_cannot_be_submitted(world: World) -> None:
    draft_id = start(world)
    fill(world, draft_id, BICYCLE[:3])
    with pytest.raises(DomainError, match=r"draft\.incomplete"):
        svc.submit_draft(world.container.reports, draft_id)


def test_a_draft_is_resumed_with_its_code_on_another_device(world: World, clock: FakeClock) -> None:
    draft_id = start(world)
    fill(world, draft_id, BICYCLE[:2])
    code = svc.issue_resume_code(world.container.reports, draft_id)
    with world.container.engine.connect() as conn:
        stored = conn.execute(select(t.report_drafts.c.resume_code_hash)).scalar_one()
    assert code not in stored and code.replace("-", "") not in stored
    resumed = svc.resume_draft(world.container.reports, code.lower().replace("-", " "))
    assert resumed.draft.id == draft_id
    assert resumed.draft.answers["where"]["city"] == "Utrecht"
    clock.advance(hours=73)
    with pytest.raises(DomainError, match=r"resume\.invalid"):
        svc.resume_draft(world.container.reports, code)


def test_a_wrong_resume_code_finds_nothing(world: World) -> None:
    with pytest.raises(DomainError, match=r"resume\.invalid"):
        svc.resume_draft(world.container.reports, "ABCD-EFGH-JKMN")


def test_the_kiosk_reset_wipes_a_draft_without_a_code_and_keeps_one_with_a_code(
    world: World,
) -> None:
    plain = start(world)
    coded = start(world)
    svc.issue_resume_code(world.container.reports, coded)
    assert svc.discard_kiosk_draft(world.container.reports, plain) is True
    assert svc.discard_kiosk_draft(world.container.reports, coded) is False
    with pytest.raises(DomainError, match=r"draft\.unknown"):
        svc.load_draft(world.container.reports, plain)
    assert svc.load_draft(world.container.reports, coded).draft.id == coded


def test_a_report_that_needs_an_officer_cannot_be_started_alone(world: World) -> None:
    with pytest.raises(DomainError, match=r"report\.needs_officer"):
        start(world, "report.burglary")
    with pytest.raises(DomainError, match=r"report\.needs_officer"):
        start(world, "report.threat", slug="peer")


def test_an_answer_can_turn_a_report_to_an_officer(world: World) -> None:
    draft_id = start(world, "report.theft", slug="peer")  # BE: unknown perpetrator only
    progress = svc.answer(world.container.reports, draft_id, "perpetrator_known", "yes")
    assert progress.route is Route.OFFICER
    with pytest.raises(DomainError, match=r"report\.needs_officer"):
        svc.submit_draft(world.container.reports, draft_id)


def test_an_expired_draft_is_gone(world: World, clock: FakeClock) -> None:
    draft_id = start(world)
    clock.advance(days=8)
    with pytest.raises(DomainError, match=r"draft\.expired"):
        svc.load_draft(world.container.reports, draft_id)


def test_a_report_moves_through_its_workflow_and_each_read_is_audited(world: World) -> None:
    draft_id = start(world, "tip.anonymous")
    fill(
        world,
        draft_id,
        [
            ("subject", "drugs"),
            ("description", "Dealing every night"),
            ("where", {}),
            ("person", {}),
        ],
    )
    report = svc.submit_draft(world.container.reports, draft_id)
    svc.move_report(world.container.reports, report.reference, ReportStep.REVIEW, actor="staff:1")
    moved = svc.read_report(world.container.reports, report.reference, actor="staff:1")
    assert moved.state is ReportState.IN_REVIEW
    with world.container.engine.connect() as conn:
        reads = conn.execute(
            select(func.count()).select_from(t.audit_log).where(t.audit_log.c.action == "read")
        ).scalar_one()
    assert reads == 1
    assert timedelta(0) <= moved.changed_at - report.submitted_at  # type: ignore[operator]
