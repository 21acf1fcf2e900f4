"""Tips and reports after sending, in a real browser at the kiosk in English: a tip's
passphrase adds information later, a report's code shows its status, and a referral page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from loket.adapters.db import schema as t
from loket.services import follow_up as follow_up_service
from loket.services import reports as report_service
from tests.browser.conftest import LiveServer, assert_accessible
from tests.browser.test_reports import KIOSK, open_desk
from tests.identity import verify_online

BICYCLE: list[tuple[str, object]] = [
    ("when", {"date": "2027-01-11", "time": "18:30"}),
    ("where", {"street": "Stationsplein", "city": "Utrecht"}),
    ("bicycle", [{"brand": "Gazelle", "colour": "black", "frame_number": "GZ123456"}]),
    ("locked", "yes"),
    ("seen", "no"),
    ("perpetrator_known", "no"),
    ("violence", "no"),
    ("value", "850"),
    ("details", "Taken at night"),
    ("photo", None),
]


@pytest.fixture
def citizen(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="en-GB", viewport={"width": 1000, "height": 1000})
    yield context.new_page()
    context.close()


def test_a_tip_at_the_kiosk_gets_a_passphrase_that_adds_information_later(
    citizen: Any, live_server: LiveServer
) -> None:
    base = open_desk(citizen, live_server, "kiosk", "en")
    citizen.click("#tile-tip")
    citizen.click("#start-tip-anonymous")
    citizen.check("#subject-0")
    citizen.click("#continue")
    citizen.fill("#description", "Dealing from a grey van every evening")
    citizen.click("#continue")
    citizen.click("#continue")  # where: optional
    citizen.click("#continue")  # who: optional
    citizen.wait_for_url(f"**{base}/report/check")
    citizen.click("#send")
    citizen.wait_for_url(f"**{base}/report/done")
    reference = citizen.locator("#reference").inner_text()
    passphrase = citizen.locator("#access-secret").inner_text()
    assert re.fullmatch(r"ME-[2-9A-Z]{8}", reference)
    assert re.fullmatch(r"[a-z]{4}(-[a-z]{4}){3}", passphrase)
    assert_accessible(citizen)
    citizen.click("#finish")  # the kiosk starts again for the next person

    open_desk(citizen, live_server, "kiosk", "en")
    citizen.click("#tile-tip")
    citizen.click("#follow-up-link")
    citizen.wait_for_url(f"**{base}/tips/follow-up")
    assert_accessible(citizen)
    citizen.fill("#reference", reference)
    citizen.fill("#passphrase", "baka-baka-baka-baka")
    citizen.fill("#text", "The van has a dent in the left door")
    citizen.click("#follow-up-send")
    expect(citizen.locator("#reference-error")).to_be_visible()
    expect(citizen.locator("#text")).to_have_value("The van has a dent in the left door")
    expect(citizen.locator("#reference")).to_have_value(reference)
    assert_accessible(citizen)
    citizen.fill("#passphrase", passphrase.replace("-", " "))
    citizen.click("#follow-up-send")
    expect(citizen.locator("#reference")).to_have_text(reference)
    expect(citizen.locator("h1")).to_have_text("Your information has been added")
    assert_accessible(citizen)
    with live_server.container.engine.connect() as conn:
        added = conn.execute(select(t.tip_follow_ups.c.text)).scalars().all()
    assert added == ["The van has a dent in the left door"]


def test_a_report_status_is_looked_up_at_the_kiosk(citizen: Any, live_server: LiveServer) -> None:
    ctx = live_server.container.reports
    progress = report_service.start_draft(
        ctx, form_code="report.bicycle_theft", location_slug=KIOSK, language="en", channel="kiosk"
    )
    for question, raw in BICYCLE:
        report_service.answer(ctx, progress.draft.id, question, raw)
    verify_online(live_server.container, progress.draft.id)  # a bicycle theft needs it
    report = report_service.submit_draft(ctx, progress.draft.id)
    code = follow_up_service.renew_access(live_server.container.follow_up, progress.draft.id)
    assert code.secret is not None

    base = open_desk(citizen, live_server, "kiosk", "en")
    citizen.click("#tile-report")
    citizen.click("#status-link")
    citizen.wait_for_url(f"**{base}/status")
    assert_accessible(citizen)
    citizen.fill("#reference", report.reference)
    citizen.fill("#code", "WRON-GCOD-E234")
    citizen.click("#status-look-up")
    expect(citizen.locator("#reference-error")).to_be_visible()
    assert_accessible(citizen)
    citizen.fill("#code", code.secret.lower())
    citizen.click("#status-look-up")
    expect(citizen.locator("#report-state")).to_have_text("Submitted")
    expect(citizen.locator("#state-changed")).to_contain_text("12 January 2027")
    expect(citizen.locator("[aria-current=step]")).to_have_text("Submitted")
    assert_accessible(citizen)


def test_a_referral_page_at_the_kiosk_names_the_nearest_station_and_offers_an_officer(
    citizen: Any, live_server: LiveServer
) -> None:
    citizen.goto(f"{live_server.url}/kiosk/peer")
    citizen.click("[data-language=en]")
    citizen.click("#tile-information")
    citizen.click("#referral-lost-passport_foreign")
    citizen.wait_for_url("**/kiosk/peer/referral/lost.passport_foreign")
    expect(citizen.locator("#referral-title")).to_have_text("You lost a foreign passport")
    expect(citizen.locator("[data-station]").first).to_have_attribute("data-station", "peer")
    expect(citizen.locator("[data-station=peer] .station-hours")).to_contain_text("Open now")
    expect(citizen.locator("#ticket-contact-video")).to_be_visible()
    assert_accessible(citizen)
    citizen.click("#ticket-contact-video")
    citizen.wait_for_url("**/kiosk/peer/ticket")
