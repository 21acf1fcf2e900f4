"""Handing a report over, on SQLite and PostgreSQL: one signed statement per report, the
acknowledgement with the victim's rights, one-time download codes, the e-mail, the officer's
audited download."""

from __future__ import annotations

import threading

import pytest
from pyhanko.sign.validation.status import PdfSignatureStatus
from sqlalchemy import func, select

from loket.adapters.db import schema as t
from loket.adapters.notify.outbox import OutboxNotifier
from loket.adapters.signing.pades import load_signing_identity
from loket.config import Settings
from loket.domain.errors import DomainError
from loket.domain.statements import Confirmation
from loket.services import handover as svc
from loket.services import reports as report_service
from tests.conftest import FakeClock, World
from tests.integration.test_reports import BICYCLE, fill, start
from tests.integration.test_statements import flat, pages_text, validate
from tests.statements import signature_png

TIP = [
    ("subject", "drugs"),
    ("description", "Dealing every night"),
    ("where", {}),
    ("person", {}),
]


def submitted(world: World, language: str = "nl") -> tuple[str, svc.Submission]:
    draft_id = start(world)
    fill(world, draft_id, BICYCLE)
    if language != "nl":
        report_service.answer(
            world.container.reports, draft_id, "details", "Stolen", language=language
        )
    confirmation = Confirmation(signature_png=signature_png())
    return draft_id, svc.submit_report(world.container.handover, draft_id, confirmation)


def count(world: World, table: object) -> int:
    with world.container.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_submitting_a_report_stores_one_signed_statement_even_when_submitted_twice(
    world: World, settings: Settings
) -> None:
    draft_id, first = submitted(world)
    again = svc.submit_report(world.container.handover, draft_id, Confirmation(typed_name="X Y"))
    assert first.statement is not None
    assert again.statement == first.statement
    assert count(world, t.statements) == 1
    pdf = svc.download_statement(world.container.handover, first.report.reference, actor="staff:1")
    status = validate(pdf, load_signing_identity(settings))
    assert isinstance(status, PdfSignatureStatus)
    assert status.bottom_line
    text = flat(" ".join(pages_text(pdf)))
    assert first.report.reference in text
    assert "Gazelle" in text and "GZ123456" in text


def test_concurrent_submits_sign_once(world: World) -> None:
    draft_id = start(world)
    fill(world, draft_id, BICYCLE)
    results: list[svc.Submission] = []

    def submit() -> None:
        confirmation = Confirmation(signature_png=signature_png())
        results.append(svc.submit_report(world.container.handover, draft_id, confirmation))

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({r.statement.id for r in results if r.statement}) == 1
    assert count(world, t.statements) == 1


def test_the_statement_is_sealed_at_rest(world: World) -> None:
    submitted(world)
    with world.container.engine.connect() as conn:
        content = conn.execute(select(t.statements.c.content)).scalar_one()
    assert not content.startswith(b"%PDF") and b"Gazelle" not in content


def test_a_report_without_a_confirmation_is_not_submitted(world: World) -> None:
    draft_id = start(world)
    fill(world, draft_id, BICYCLE)
    with pytest.raises(DomainError) as raised:
        svc.submit_report(world.container.handover, draft_id, None)
    assert raised.value.code == "statement.not_signed"
    assert count(world, t.reports) == 0


def test_a_tip_has_no_statement_and_no_acknowledgement(world: World) -> None:
    draft_id = start(world, "tip.anonymous")
    fill(world, draft_id, TIP)
    result = svc.submit_report(world.container.handover, draft_id, None)
    assert result.statement is None and count(world, t.statements) == 0
    with pytest.raises(DomainError):
        svc.acknowledgement_pdf(world.container.handover, draft_id)


def test_the_keyboard_confirmation_is_recorded_as_a_typed_name(world: World) -> None:
    draft_id = start(world)
    fill(world, draft_id, BICYCLE)
    result = svc.submit_report(
        world.container.handover, draft_id, Confirmation(typed_name="Anna de Vries")
    )
    assert result.report
    pdf = svc.download_statement(world.container.handover, result.report.reference, actor="s")
    assert "Anna de Vries" in flat(" ".join(pages_text(pdf)))
    with world.container.engine.connect() as conn:
        details = conn.execute(
            select(t.audit_log.c.details).where(t.audit_log.c.action == "sign")
        ).scalar_one()
    assert details["confirmation"] == "typed_name"


def test_the_acknowledgement_holds_the_reference_elements_and_rights_in_the_citizens_language(
    world: World,
) -> None:
    draft_id, result = submitted(world, language="en")
    _, pdf = svc.acknowledgement_pdf(world.container.handover, draft_id)
    text = flat(" ".join(pages_text(pdf)))
    assert result.report.reference in text
    assert "Stationsplein" in text and "2027-01-11 18:30" in text
    assert "Directive 2012/29/EU" in text
    assert "Interpretation and translation" in text
    assert "Slachtofferhulp Nederland, telephone 0900-0101" in text


def test_the_acknowledgement_in_dutch_states_the_rights_in_dutch(world: World) -> None:
    draft_id, result = submitted(world)
    _, pdf = svc.acknowledgement_pdf(world.container.handover, draft_id)
    text = flat(" ".join(pages_text(pdf)))
    assert result.report.reference in text
    assert "2012/29/EU" in text and "0900-0101" in text


def test_a_download_code_works_once(world: World) -> None:
    draft_id, result = submitted(world)
    code = svc.issue_download_code(world.container.handover, draft_id)
    report, pdf = svc.redeem_download_code(world.container.handover, code.lower())
    assert report.reference == result.report.reference and pdf.startswith(b"%PDF")
    with pytest.raises(DomainError) as raised:
        svc.redeem_download_code(world.container.handover, code)
    assert raised.value.code == "download.used"
    with world.container.engine.connect() as conn:
        stored = conn.execute(select(t.acknowledgement_codes.c.code_hash)).scalar_one()
    assert code not in stored and code.replace("-", "") not in stored


def test_a_download_code_expires_after_24_hours(world: World, clock: FakeClock) -> None:
    draft_id, _ = submitted(world)
    code = svc.issue_download_code(world.container.handover, draft_id)
    clock.advance(hours=24)
    with pytest.raises(DomainError) as raised:
        svc.redeem_download_code(world.container.handover, code)
    assert raised.value.code == "download.expired"


@pytest.mark.parametrize("typed", ["ABCD-EFGH-JKMN", "not a code", ""])
def test_a_wrong_download_code_is_refused(world: World, typed: str) -> None:
    submitted(world)
    with pytest.raises(DomainError) as raised:
        svc.redeem_download_code(world.container.handover, typed)
    assert raised.value.code == "download.invalid"


def test_the_acknowledgement_email_lands_in_the_outbox_with_a_link_not_the_answers(
    world: World,
) -> None:
    draft_id, result = submitted(world)
    svc.email_acknowledgement(world.container.handover, draft_id, "anna@example.org")
    notifier = world.container.handover.notifier
    assert isinstance(notifier, OutboxNotifier)
    (mail,) = notifier.written()
    assert mail["recipient"] == "anna@example.org"
    assert result.report.reference in str(mail["body"])
    assert "/acknowledgement/" in str(mail["body"]) and "Gazelle" not in str(mail["body"])


def test_a_malformed_email_address_is_refused(world: World) -> None:
    draft_id, _ = submitted(world)
    with pytest.raises(DomainError) as raised:
        svc.email_acknowledgement(world.container.handover, draft_id, "not-an-address")
    assert raised.value.code == "email.invalid"


def test_officers_list_reports_and_the_statement_download_is_audited(world: World) -> None:
    _, result = submitted(world)
    listed = svc.list_reports(world.container.handover, actor="staff:7")
    assert [r.reference for r in listed] == [result.report.reference]
    svc.download_statement(world.container.handover, result.report.reference, actor="staff:7")
    a = t.audit_log.c
    with world.container.engine.connect() as conn:
        rows = conn.execute(select(a.actor, a.action, a.subject_type, a.subject_id)).all()
    assert ("staff:7", "download", "statement", result.report.reference) in rows
    assert ("staff:7", "search", "report", "*") in rows


def test_the_statement_of_an_english_report_holds_the_dutch_text_and_the_english_one(
    world: World,
) -> None:
    _, result = submitted(world, language="en")
    pdf = svc.download_statement(world.container.handover, result.report.reference, actor="s")
    text = flat(" ".join(pages_text(pdf)))
    assert "Wanneer is uw fiets gestolen?" in text
    assert "When was your bicycle stolen?" in text
    assert text.index("Wanneer is uw fiets gestolen?") < text.index("When was your bicycle stolen?")
