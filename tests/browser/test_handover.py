"""A report's handover in a real browser: the one-time acknowledgement link, and the officer's
report pages with the signed statement."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from playwright.sync_api import expect
from sqlalchemy import select

from loket.adapters.db import schema as t
from loket.domain.statements import Confirmation
from loket.services import handover as handover_service
from loket.services import reports as report_service
from tests.browser.conftest import LiveServer, assert_accessible, sign_in
from tests.identity import verify_online
from tests.integration.test_reports import BICYCLE
from tests.statements import signature_png


def submit(live: LiveServer) -> tuple[str, str]:
    """A bicycle theft submitted and signed in English; its draft id and reference."""
    # Signing runs pyHanko's asyncio.run: not in this thread, where Playwright's loop runs.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(_submit, live).result()


def _submit(live: LiveServer) -> tuple[str, str]:
    reports = live.container.reports
    progress = report_service.start_draft(
        reports,
        form_code="report.bicycle_theft",
        location_slug="utrecht-stationsplein",
        language="en",
        channel="kiosk",
    )
    draft_id = progress.draft.id
    for question, raw in BICYCLE:
        report_service.answer(reports, draft_id, question, raw)
    verify_online(live.container, draft_id)
    confirmation = Confirmation(signature_png=signature_png())
    done = handover_service.submit_report(live.container.handover, draft_id, confirmation)
    return draft_id, done.report.reference


def downloaded(page: Any, selector: str, folder: Path) -> bytes:
    """What clicking `selector` downloads."""
    with page.expect_download() as download:
        page.click(selector)
    saved = folder / download.value.suggested_filename
    download.value.save_as(saved)
    return saved.read_bytes()


def test_the_code_from_a_kiosk_downloads_the_acknowledgement_once(
    page: Any, live_server: LiveServer, tmp_path: Path
) -> None:
    draft_id, _ = submit(live_server)
    code = handover_service.issue_download_code(live_server.container.handover, draft_id)
    page.goto(f"{live_server.url}/acknowledgement/{code}?lang=en")
    expect(page.locator("#code")).to_have_value(code)
    assert_accessible(page)
    assert downloaded(page, "#download", tmp_path).startswith(b"%PDF-")
    page.goto(f"{live_server.url}/acknowledgement?lang=en")
    page.fill("#code", code)
    page.click("#download")
    expect(page.locator("#code-error")).to_contain_text("already been used")
    assert_accessible(page)


def test_an_officer_opens_a_report_and_downloads_its_signed_statement(
    page: Any, live_server: LiveServer, tmp_path: Path
) -> None:
    _, reference = submit(live_server)
    sign_in(page, live_server, "an")
    page.goto(f"{live_server.url}/officer/reports")
    expect(page.locator(f"#report-{reference}")).to_be_visible()
    assert_accessible(page)
    page.click(f"#report-{reference} a")
    expect(page.locator("#answers")).to_contain_text("Gazelle")
    assert_accessible(page)
    assert downloaded(page, "#statement-download", tmp_path).startswith(b"%PDF-")
    a = t.audit_log.c
    with live_server.container.engine.connect() as conn:
        actions = (
            conn.execute(
                select(a.action).where(a.subject_type == "statement", a.subject_id == reference)
            )
            .scalars()
            .all()
        )
    assert "download" in actions
