"""Identification in a real browser: a report that needs a verified identity is completed by
logging in at the built-in TEST provider, and the officer-on-camera route is offered and works."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from loket.adapters.db import schema as t
from loket.services import reports as report_service
from tests.browser.conftest import (
    LiveServer,
    assert_accessible,
    make_officer_available,
    sign_in,
)

KIOSK = "utrecht-stationsplein"
VANDALISM = [
    ("target", "car"),
    ("when", "2027-01-10"),
    ("where", {"street": "Markt 1", "city": "Utrecht"}),
    ("damage", "Mirror broken off"),
    ("cost", "150"),
    ("perpetrator_known", "no"),
    ("violence", "no"),
    ("photo", None),
]


@pytest.fixture
def citizen(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="en-GB", viewport={"width": 1000, "height": 1000})
    yield context.new_page()
    context.close()


def answered_vandalism(page: Any, live: LiveServer, base: str) -> str:
    """A vandalism report started in the browser and answered in full; its draft id."""
    page.click("#tile-report")
    page.click("#start-report-vandalism")
    page.wait_for_url(f"**{base}/report/q/target")
    with live.container.engine.connect() as conn:
        draft_id = str(conn.execute(select(t.report_drafts.c.id)).scalar_one())
    for question, raw in VANDALISM:
        report_service.answer(live.container.reports, draft_id, question, raw)
    return draft_id


def level_of(live: LiveServer, draft_id: str) -> str:
    c = t.report_drafts.c
    with live.container.engine.connect() as conn:
        return str(conn.execute(select(c.identification).where(c.id == draft_id)).scalar_one())


def test_a_vandalism_report_is_verified_online_at_the_test_provider_and_sent(
    citizen: Any, live_server: LiveServer
) -> None:
    citizen.goto(f"{live_server.url}/?lang=en")
    draft_id = answered_vandalism(citizen, live_server, "")
    citizen.goto(f"{live_server.url}/report/check")
    citizen.wait_for_url("**/report/identify")
    expect(citizen.locator("h1")).to_have_text("Confirm who you are")
    expect(citizen.locator("#verify-officer")).to_be_visible()  # never a dead end
    assert_accessible(citizen)

    citizen.click("#verify-online")
    citizen.wait_for_url("**/oidc-test/authorize?**")
    expect(citizen.locator("#test-warning")).to_contain_text("TEST")
    assert_accessible(citizen)
    citizen.check("#person-peeters")
    citizen.click("#test-login")
    citizen.wait_for_url("**/report/check")
    assert level_of(live_server, draft_id) == "verified_online"

    # The verified name confirms the statement: no drawing needed.
    expect(citizen.locator("#signature-verified")).to_contain_text("Marie Peeters (TEST)")
    assert_accessible(citizen)
    citizen.click("#send-verified")
    citizen.wait_for_url("**/report/done")
    reference = citizen.locator("#reference").inner_text()
    report = report_service.read_report(live_server.container.reports, reference, actor="test")
    assert report.identification.value == "verified_online"


def test_cancelling_the_login_comes_back_to_both_choices(
    citizen: Any, live_server: LiveServer
) -> None:
    citizen.goto(f"{live_server.url}/?lang=en")
    draft_id = answered_vandalism(citizen, live_server, "")
    citizen.goto(f"{live_server.url}/report/identify")
    citizen.click("#verify-online")
    citizen.click("#test-cancel")
    citizen.wait_for_url("**/report/identify?failed=1")
    expect(citizen.locator("#error-summary")).to_contain_text("could not verify your identity")
    expect(citizen.locator("#verify-officer")).to_be_visible()
    assert level_of(live_server, draft_id) == "self_declared"


def test_without_digid_an_officer_checks_the_document_on_camera_and_the_draft_is_kept(
    citizen: Any, browser: Any, live_server: LiveServer
) -> None:
    base = f"/kiosk/{KIOSK}"
    citizen.goto(f"{live_server.url}{base}")
    citizen.click("[data-language=en]")
    draft_id = answered_vandalism(citizen, live_server, base)
    citizen.goto(f"{live_server.url}{base}/report/identify")
    expect(citizen.locator("#officer-hint")).to_contain_text("No picture of your document")
    citizen.click("#verify-officer")
    # The kiosk starts again while the citizen is in the booth: a code keeps the answers.
    expect(citizen.locator("h1")).to_have_text("Your ticket for the identity check")
    expect(citizen.locator("#resume-code")).to_have_text(re.compile(r"\S{6,}"))
    assert_accessible(citizen)
    citizen.click("#follow-ticket")
    citizen.wait_for_url(f"**{base}/ticket")
    expect(citizen.locator("#ticket-number")).to_be_visible()
    with live_server.container.engine.connect() as conn:
        ticket_id = conn.execute(
            select(t.identity_call_requests.c.ticket_id).where(
                t.identity_call_requests.c.draft_id == draft_id
            )
        ).scalar_one()

    make_officer_available(live_server, "an")
    officer = browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    console = officer.new_page()
    sign_in(console, live_server, "an")
    console.click("#take-next")
    console.click(f"#accept-{ticket_id}")
    form = console.locator(f"#identity-check-{ticket_id}")
    expect(form).to_contain_text("geen afbeelding van het document gemaakt of bewaard")
    console.select_option(f"#identity-document-type-{ticket_id}", "foreign_passport")
    console.fill(f"#identity-document-suffix-{ticket_id}", "K7Q2")
    console.check(f"#identity-face-matches-{ticket_id}")
    assert_accessible(console)
    # The call is on: confirming must not load the console again (that would cut the call).
    expect(console.locator("#officer-call")).to_be_visible()
    console.evaluate("window.sameConsole = true")
    console.fill(f"#identity-document-suffix-{ticket_id}", "K7Q!")
    console.click(f"#identity-confirm-{ticket_id}")
    expect(console.locator("#error-summary")).to_contain_text("laatste vier tekens")
    expect(console.locator("#error-summary")).to_be_focused()
    console.select_option(f"#identity-document-type-{ticket_id}", "foreign_passport")
    console.fill(f"#identity-document-suffix-{ticket_id}", "K7Q2")
    console.check(f"#identity-face-matches-{ticket_id}")
    console.click(f"#identity-confirm-{ticket_id}")
    expect(console.locator("#error-summary")).to_have_count(0)
    expect(console.locator(f"#identity-done-{ticket_id}")).to_be_visible()
    assert console.evaluate("window.sameConsole === true")
    expect(console.locator("#officer-call")).to_be_visible()
    assert level_of(live_server, draft_id) == "verified_by_officer"

    # The citizen's ticket page says so and leads back to the kept draft, to check and sign.
    expect(citizen.locator("#identity-checked")).to_contain_text("confirmed your identity")
    citizen.click("#continue-report")
    officer.close()
    citizen.wait_for_url(f"**{base}/report/check")
    expect(citizen.locator("#answer-damage .answer-text")).to_have_text("Mirror broken off")
