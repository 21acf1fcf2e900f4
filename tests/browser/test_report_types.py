"""Every report and tip type in a real browser, in Dutch and English, at a kiosk and at home.

The questions are answered by their type, as the form in content/forms/ defines them (read
through the same loader as the service), so the tests follow the forms: a new question, a
reordered one or a condition needs no change here. Types the law sends to an officer end at
the offer of a video call instead.
"""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from loket.adapters.db import schema as t
from loket.adapters.forms import load_forms
from loket.domain.catalogue import IdentificationLevel, service_by_code
from loket.domain.forms import AnswerContext, Form, Question, QuestionType, Upload, answer_text
from loket.domain.forms import validate_answer as checked
from loket.domain.reports import Route, route
from loket.services import locations as location_service
from loket.services import queue as queue_service
from loket.services import reports as report_service
from loket.web.pages.citizen import ONLINE_DESK
from tests.browser.conftest import (
    OPEN_MOMENT,
    LiveServer,
    assert_accessible,
    sign_in,
    verify_online,
)
from tests.browser.test_handover import downloaded
from tests.browser.test_reports import (
    KIOSK,
    citizen,
    confirm_by_keyboard,
    draw_signature,
    open_desk,
)
from tests.report_answers import MARKUP, PNG, valid_raw

LANGUAGES = ("nl", "en")
MAX_QUESTIONS = 30  # a guard: a flow that never reaches the check page fails, not hangs

__all__ = ["citizen"]  # the citizen's browser page, a fixture shared with test_reports


def runs() -> list[Any]:
    """Each type in each language, the desk alternating so both desks see every type."""
    found = []
    for index, code in enumerate(sorted(load_forms())):
        for offset, language in enumerate(LANGUAGES):
            where = ("kiosk", "home")[(index + offset) % 2]
            found.append(pytest.param(code, language, where, id=f"{code}-{language}-{where}"))
    return found


# axe runs once per kind of page in the session, to keep the file within its time budget.
_audited: set[str] = set()


def audit_once(page: Any, kind: str) -> None:
    if kind not in _audited:
        _audited.add(kind)
        assert_accessible(page)


def current_question(page: Any) -> str | None:
    found = re.search(r"/report/q/([a-z][a-z0-9_]*)$", page.url.split("?")[0])
    return found.group(1) if found else None


def answer_question(page: Any, question: Question, raw: Any, tmp: Any) -> None:
    """Fill in the question's inputs from `raw`, the answer in the shape the pages post."""
    q = question.id
    if question.type is QuestionType.CHOICE:
        page.check(f"#{q}-{[o.value for o in question.options].index(raw)}")
    elif question.type is QuestionType.MULTI_CHOICE:
        for value in raw:
            page.check(f"#{q}-{[o.value for o in question.options].index(value)}")
    elif question.type is QuestionType.ITEMS:
        for row, item in enumerate(raw):
            for name, value in item.items():
                page.fill(f"#{q}-{row}-{name}", value)
    elif isinstance(raw, dict):  # a place, a person, a moment
        for name, value in raw.items():
            page.fill(f"#{q}-{name}", value)
    elif isinstance(raw, Upload):
        path = tmp / (raw.filename or "upload")
        path.write_bytes(raw.content)
        page.set_input_files(f"#{q}", str(path))
    else:
        page.fill(f"#{q}", raw)


def fill_in(
    page: Any, form: Form, language: str, tmp: Any, stop_at: str | None = None
) -> dict[str, Any]:
    """Answer every question the pages ask until the check page (or the question `stop_at`);
    the answers as stored."""
    context = AnswerContext(OPEN_MOMENT, ZoneInfo("Europe/Brussels"))
    stored: dict[str, Any] = {}
    for _ in range(MAX_QUESTIONS):
        question_id = current_question(page)
        if question_id is None or question_id == stop_at:
            break
        question = form.question(question_id)
        # The question's own text, from the form file, in the citizen's language.
        expect(page.locator("h1")).to_have_text(question.label.in_language(language))
        audit_once(page, f"question:{question.type.value}")
        raw = valid_raw(form, question, free_text=MARKUP)
        answer_question(page, question, raw, tmp)
        stored[question_id] = checked(question, raw, context)
        asked = page.url
        page.click("#continue")
        # A refused answer stays on its page: fail fast, with the page's message in view.
        page.wait_for_url(lambda url, asked=asked: url != asked, timeout=5000)
    else:
        pytest.fail(f"{form.code}: still asking after {MAX_QUESTIONS} questions")
    return stored


def count_reports(live: LiveServer) -> int:
    with live.container.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(t.reports)).scalar_one())


@pytest.mark.parametrize(("code", "language", "where"), runs())
def test_every_report_and_tip_type_from_the_start_to_its_end(
    browser: Any,
    citizen: Any,
    live_server: LiveServer,
    code: str,
    language: str,
    where: str,
    tmp_path: Any,
) -> None:
    form = live_server.container.reports.forms[code]
    base = open_desk(citizen, live_server, where, language)
    citizen.click(f"#tile-{form.kind}")
    code_id = code.replace(".", "-")
    # The desk's country decides the route (domain.reports.RULES): the kiosk at Utrecht is
    # Dutch, the online desk that serves citizens at home is Belgian.
    desk = location_service.get_location(
        live_server.container.queue, KIOSK if where == "kiosk" else ONLINE_DESK
    )
    if route(form, desk.country) is Route.OFFICER:
        # The law wants an officer (a threat, a burglary): no form to fill in alone, but a
        # video call with an officer, one click away.
        expect(citizen.locator(f"#start-{code_id}")).to_have_count(0)
        expect(citizen.locator(f"#officer-only-{code_id}")).to_be_visible()
        citizen.click(f"#ticket-{code_id}")
        citizen.wait_for_url(re.compile(r"/(t/[^/]+|kiosk/[a-z0-9-]+/ticket)$"))
        expect(citizen.locator("html")).to_have_attribute("lang", language)
        (ticket,) = queue_service.queue_view(live_server.container.queue).tickets
        assert ticket.service_code == code
        audit_once(citizen, f"ticket:{where}")
        return

    citizen.click(f"#start-{code_id}")
    citizen.wait_for_url(re.compile(rf"{re.escape(base)}/report/q/"))
    stored = fill_in(citizen, form, language, tmp_path)

    # Reports whose type needs an identity verified online ask for it before the check page;
    # the citizen logs in at the built-in TEST provider and comes back to check and sign.
    citizen.wait_for_url(re.compile(rf"{re.escape(base)}/report/(check|identify)$"))
    needs_identity = service_by_code(code).identification >= IdentificationLevel.VERIFIED_ONLINE
    assert citizen.url.endswith("/report/identify") == needs_identity
    if needs_identity:
        verify_online(citizen)
    citizen.wait_for_url(f"**{base}/report/check")
    for question_id, value in stored.items():
        shown = answer_text(form.question(question_id), value, language)
        expect(citizen.locator(f"#answer-{question_id} .answer-text")).to_have_text(shown)
    assert citizen.evaluate("window.hacked") is None  # the script typed in stayed text
    audit_once(citizen, f"check:{form.kind}")
    if form.kind == "report":
        if where == "home":
            draw_signature(citizen)
        else:
            confirm_by_keyboard(citizen, "Anna de Vries")
    # An impatient double click sends the form twice: one report all the same.
    citizen.dblclick("#send")
    citizen.wait_for_url(f"**{base}/report/done")
    prefix = "AG" if form.kind == "report" else "ME"
    expect(citizen.locator("#reference")).to_have_text(re.compile(rf"^{prefix}-[2-9A-Z]{{8}}$"))
    audit_once(citizen, f"done:{form.kind}:{where}")

    reference = citizen.locator("#reference").inner_text()
    assert count_reports(live_server) == 1
    report = report_service.read_report(live_server.container.reports, reference, actor="test")
    assert report.answers == stored
    assert (report.form_code, report.language, report.channel) == (code, language, where)
    if form.kind == "report" and (where, language) == ("home", "en"):
        officer_reads_it(browser, live_server, form, reference, tmp_path)


def officer_reads_it(
    browser: Any, live: LiveServer, form: Form, reference: str, tmp_path: Any
) -> None:
    """The officer's page shows the typed markup as text; attached files download."""
    context = browser.new_context(locale="en-GB")
    try:
        page = context.new_page()
        sign_in(page, live, "an")
        page.goto(f"{live.url}/officer/reports/{reference}")
        expect(page.locator("#answers")).to_contain_text(MARKUP)
        assert page.evaluate("window.hacked") is None
        audit_once(page, "officer-report")
        for question in form.questions:
            if question.type is QuestionType.FILE:
                assert downloaded(page, f"#file-{question.id}", tmp_path) == PNG
    finally:
        context.close()


def test_a_wrong_or_oversized_upload_is_refused_next_to_the_field_in_the_browser(
    citizen: Any, live_server: LiveServer, tmp_path: Any
) -> None:
    form = live_server.container.reports.forms["report.vandalism"]
    open_desk(citizen, live_server, "home", "en")
    citizen.click("#tile-report")
    citizen.click("#start-report-vandalism")
    fill_in(citizen, form, "en", tmp_path, stop_at="photo")
    # A program renamed to a photo: the content decides, not the name.
    program = tmp_path / "holiday.jpg"
    program.write_bytes(b"MZ\x90\x00" + b"\0" * 4096)
    citizen.set_input_files("#photo", str(program))
    citizen.click("#continue")
    expect(citizen.locator("#photo-error")).to_contain_text("Send a PDF, or a photo")
    expect(citizen.locator("#photo")).to_have_attribute("aria-describedby", "photo-error")
    audit_once(citizen, "question:file-error")
    # A photo larger than the service takes is stopped before it is read, and the page
    # says so next to the field (not a bare error page).
    huge = tmp_path / "huge.png"
    huge.write_bytes(PNG + b"\0" * (12 * 1024 * 1024))
    citizen.set_input_files("#photo", str(huge))
    citizen.click("#continue")
    citizen.wait_for_url("**/report/q/photo?too_large=1")
    expect(citizen.locator("#photo-error")).to_contain_text("at most 10 MB")
    expect(citizen.locator("#error-summary a")).to_have_attribute("href", "#photo")
    # A good photo then goes through, and the earlier answers are all still there.
    photo = tmp_path / "car.png"
    photo.write_bytes(PNG)
    citizen.set_input_files("#photo", str(photo))
    citizen.click("#continue")
    citizen.wait_for_url("**/report/identify")  # vandalism needs a verified identity
    verify_online(citizen)
    expect(citizen.locator("#answer-photo .answer-text")).to_have_text("car.png")
    expect(citizen.locator("#answer-damage .answer-text")).to_have_text(MARKUP)
