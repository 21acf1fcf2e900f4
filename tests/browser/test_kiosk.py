"""The kiosk at a desk in a real browser: language, services, a ticket followed live, reset."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from loket.adapters.db import schema as t
from loket.domain.tickets import Outcome
from loket.services import queue
from tests.browser.conftest import (
    NIGHT_MOMENT,
    LiveServer,
    assert_accessible,
    make_officer_available,
)

DESK = "bree"
# Test hook of kiosk.js: a short idle time, so the warning and the reset come in seconds.
SHORT_IDLE = "window.LOKET_IDLE_SECONDS = 1; window.LOKET_WARNING_SECONDS = 1;"


def start(page: Any, live: LiveServer, language: str = "en", desk: str = DESK) -> None:
    page.goto(f"{live.url}/kiosk/{desk}")
    page.click(f"[data-language={language}]")
    expect(page.locator("html")).to_have_attribute("lang", language)


def take_ticket(page: Any, live: LiveServer, language: str = "en") -> str:
    """Take a ticket to talk to an officer; returns the ticket's id."""
    start(page, live, language)
    page.click("#tile-officer")
    page.click("#ticket-contact-video")
    page.wait_for_url(f"**/kiosk/{DESK}/ticket")
    url = page.get_attribute("#ticket-status", "data-status-url")
    assert url is not None
    return str(url.split("/")[2])


def tickets_at(live: LiveServer, code: str) -> list[str]:
    view = queue.queue_view(live.container.queue)
    return [t.number for t in view.tickets if t.location_code == code]


def test_the_citizen_chooses_a_language_first_and_then_sees_the_desks_services(
    page: Any, live_server: LiveServer
) -> None:
    page.goto(f"{live_server.url}/kiosk/{DESK}")
    assert_accessible(page)
    # The desk's own languages come first, each named in itself; the others follow.
    spoken = page.locator("#spoken-languages [data-language]")
    expect(spoken).to_have_text(["Nederlands", "Français", "English"])
    expect(page.locator("#other-languages [data-language=ar]")).to_have_attribute("lang", "ar")
    expect(page.locator("#emergency")).to_contain_text("112")
    expect(page.locator("#emergency")).to_contain_text("101")

    page.click("[data-language=en]")
    tiles = page.locator("[data-tile]")
    expect(tiles).to_have_count(7)
    keys = [tiles.nth(i).get_attribute("data-tile") for i in range(7)]
    assert keys == ["report", "tip", "information", "assistant", "officer", "callback", "careers"]
    expect(page.locator("#emergency")).to_contain_text("112")
    expect(page.locator("#call-host")).to_be_visible()
    assert_accessible(page)


def test_a_ticket_shows_its_number_place_and_wait_and_is_called_live(
    page: Any, live_server: LiveServer
) -> None:
    ticket_id = take_ticket(page, live_server)
    expect(page.locator("#ticket-number")).to_have_text("BRE-001")
    expect(page.locator("#position")).to_have_attribute("data-position", "1")
    # Nobody is on duty: the wait is not invented, and the alternatives are given.
    expect(page.locator("#wait")).to_have_attribute("data-wait", "unknown")
    expect(page.locator("#wait-alternatives")).to_be_visible()
    expect(page.locator("#follow-qr svg")).to_be_visible()
    assert_accessible(page)

    an = live_server.staff_ids["an"]
    make_officer_available(live_server, "an")
    offered = queue.offer_next(live_server.container.queue, an)
    assert offered is not None and offered.id == ticket_id
    queue.accept_ticket(live_server.container.queue, an, ticket_id, booth="1")
    # The desk's live stream tells the page, which fetches its status again.
    expect(page.locator(".ticket-status")).to_have_attribute("data-state", "in_service")
    expect(page.locator("#cancel-form")).to_be_hidden()


def test_a_double_tap_on_take_a_ticket_takes_one_ticket(page: Any, live_server: LiveServer) -> None:
    start(page, live_server)
    page.click("#tile-officer")
    page.dblclick("#ticket-contact-video")
    page.wait_for_url(f"**/kiosk/{DESK}/ticket")
    expect(page.locator("#ticket-number")).to_have_text("BRE-001")
    assert tickets_at(live_server, "BRE") == ["BRE-001"]


def test_a_closed_desk_says_when_it_opens_and_where_to_go_instead(
    page: Any, live_server: LiveServer
) -> None:
    live_server.clock.set(NIGHT_MOMENT)
    start(page, live_server)
    expect(page.locator("#closed-heading")).to_be_visible()
    # Bree opens at 07:00 on weekdays, in its own time zone.
    expect(page.locator("#next-opening")).to_contain_text("12 January 2027")
    expect(page.locator("#next-opening")).to_contain_text("07:00")
    expect(page.locator("#open-desks [data-desk=genk-politiehuis]")).to_be_visible()
    expect(page.locator("#online-desk svg")).to_be_visible()
    expect(page.locator("[data-tile]")).to_have_count(0)
    assert_accessible(page)


@pytest.mark.parametrize("key", ["information"])
def test_tiles_of_services_not_built_yet_are_honest_and_offer_an_officer(
    page: Any, live_server: LiveServer, key: str
) -> None:
    start(page, live_server)
    page.click(f"#tile-{key}")
    expect(page.locator("#coming")).to_be_visible()
    assert_accessible(page)
    page.click("#ticket-contact-video")
    page.wait_for_url(f"**/kiosk/{DESK}/ticket")
    assert tickets_at(live_server, "BRE") == ["BRE-001"]


def test_every_kind_of_report_can_also_be_made_with_an_officer(
    page: Any, live_server: LiveServer
) -> None:
    start(page, live_server)
    page.click("#tile-report")
    expect(page.locator("#start-report-theft")).to_be_visible()
    for code in ("report-theft", "report-burglary", "report-threat"):
        expect(page.locator(f"#ticket-{code}")).to_be_visible()
    assert_accessible(page)
    page.click("#ticket-report-burglary")
    page.wait_for_url(f"**/kiosk/{DESK}/ticket")
    ticket = queue.queue_view(live_server.container.queue).tickets[0]
    assert (ticket.number, ticket.service_code) == ("BRE-001", "report.burglary")


def test_working_at_the_police_points_to_the_countrys_job_site(
    page: Any, live_server: LiveServer
) -> None:
    start(page, live_server)
    page.click("#tile-careers")
    expect(page.locator("main")).to_contain_text("jobpol.be")
    expect(page.locator("form.ticket-form")).to_have_count(0)
    assert_accessible(page)


def test_after_inactivity_the_kiosk_warns_then_forgets_everything_of_the_citizen(
    page: Any, live_server: LiveServer
) -> None:
    page.add_init_script(SHORT_IDLE)
    take_ticket(page, live_server)
    page.evaluate("localStorage.setItem('draft', 'x'); sessionStorage.setItem('draft', 'y')")
    expect(page.locator("#idle-dialog")).to_be_visible()
    page.wait_for_url(f"**/kiosk/{DESK}", timeout=5000)
    expect(page.locator("#choose-language")).to_be_visible()
    assert page.context.cookies() == []
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    # The back button shows nothing of the previous citizen: their pages are not stored,
    # and without the session they send a visitor to the language choice.
    page.go_back()
    page.wait_for_load_state()
    expect(page.locator("#ticket-number")).to_have_count(0)
    expect(page.locator("#choose-language")).to_be_visible()


def test_a_citizen_who_is_still_there_keeps_the_page(page: Any, live_server: LiveServer) -> None:
    page.add_init_script("window.LOKET_IDLE_SECONDS = 1; window.LOKET_WARNING_SECONDS = 30;")
    take_ticket(page, live_server)
    expect(page.locator("#idle-dialog")).to_be_visible()
    expect(page.locator("#idle-seconds")).to_contain_text("30")
    expect(page.locator("#idle-stay")).to_be_focused()
    assert_accessible(page)
    page.click("#idle-stay")
    expect(page.locator("#idle-dialog")).to_be_hidden()
    expect(page.locator("#ticket-number")).to_have_text("BRE-001")


def test_form_fields_and_the_back_button_keep_nothing_after_a_reset(
    page: Any, live_server: LiveServer
) -> None:
    page.add_init_script(SHORT_IDLE)
    # German is a screen language at Bree but not spoken there: the kiosk asks which to speak.
    start(page, live_server, "de")
    page.click("#tile-officer")
    expect(page.locator("#officer-languages")).to_be_visible()
    page.click("#ticket-contact-video")
    page.check("#language-fr")
    page.wait_for_url(f"**/kiosk/{DESK}", timeout=5000)
    expect(page.locator("#choose-language")).to_be_visible()
    expect(page.locator("input:checked")).to_have_count(0)
    page.go_back()
    page.wait_for_load_state()
    expect(page.locator("#choose-language")).to_be_visible()
    expect(page.locator("input[type=radio]")).to_have_count(0)
    assert tickets_at(live_server, "BRE") == []


def test_a_citizen_who_does_not_speak_the_desks_languages_chooses_one(
    page: Any, live_server: LiveServer
) -> None:
    start(page, live_server, "de")
    page.click("#tile-officer")
    expect(page.locator("#officer-languages")).to_be_visible()
    assert_accessible(page)
    page.click("#ticket-contact-video")
    page.click("#take-ticket-language")
    # Nothing chosen: the question stays, with a summary that leads to the choices.
    expect(page.locator("#error-summary")).to_be_visible()
    assert_accessible(page)
    page.click("#error-summary a")
    expect(page.locator("#language-nl")).to_be_focused()
    page.check("#language-fr")
    page.click("#take-ticket-language")
    page.wait_for_url(f"**/kiosk/{DESK}/ticket")
    ticket = queue.queue_view(live_server.container.queue).tickets[0]
    assert ticket.language == "fr"
    expect(page.locator("html")).to_have_attribute("lang", "de")


def test_switching_the_language_changes_every_page(page: Any, live_server: LiveServer) -> None:
    start(page, live_server, "nl")
    page.click("#change-language")
    expect(page.locator("#choose-language")).to_be_visible()
    assert_accessible(page)
    page.click("[data-language=en]")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#tile-report strong")).to_have_text("File a report")
    page.click("#tile-officer")
    expect(page.locator("html")).to_have_attribute("lang", "en")


def test_the_host_can_be_called_from_every_page(page: Any, live_server: LiveServer) -> None:
    start(page, live_server)
    form = page.locator("form.call-host")
    expect(form).to_have_attribute("action", f"/kiosk/{DESK}/help")
    assert form.locator("input[name=csrf_token]").get_attribute("value")
    page.click("#call-host")
    page.wait_for_url(f"**/kiosk/{DESK}?helped=1")
    expect(page.locator("#helped")).to_be_visible()
    assert_accessible(page)


def test_the_ticket_can_be_followed_and_cancelled_on_a_phone(
    page: Any, browser: Any, live_server: LiveServer
) -> None:
    ticket_id = take_ticket(page, live_server, "fr")
    phone = browser.new_context(
        locale="en-GB", viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True
    )
    try:
        mobile = phone.new_page()
        mobile.goto(f"{live_server.url}/t/{ticket_id}?lang=fr")
        expect(mobile.locator("html")).to_have_attribute("lang", "fr")
        expect(mobile.locator("#ticket-number")).to_have_text("BRE-001")
        expect(mobile.locator("#position")).to_have_attribute("data-position", "1")
        assert mobile.evaluate("document.documentElement.scrollWidth") <= 360
        assert_accessible(mobile)
        mobile.click("#cancel-ticket")
        expect(mobile.locator(".ticket-status")).to_have_attribute("data-state", "cancelled")
        expect(mobile.locator("#cancel-form")).to_be_hidden()
        # The kiosk, if still showing the ticket, hears of it too.
        expect(page.locator(".ticket-status")).to_have_attribute("data-state", "cancelled")
    finally:
        phone.close()


def test_the_kiosk_pages_stay_under_200_kb(page: Any, live_server: LiveServer) -> None:
    weights = []
    measure = """() => performance.getEntriesByType('navigation')
        .concat(performance.getEntriesByType('resource'))
        .reduce((sum, entry) => sum + (entry.encodedBodySize || entry.transferSize || 0), 0)"""
    page.goto(f"{live_server.url}/kiosk/{DESK}")
    weights.append(page.evaluate(measure))
    take_ticket(page, live_server)
    page.wait_for_load_state("load")
    weights.append(page.evaluate(measure))
    assert all(0 < weight < 200_000 for weight in weights), weights


def test_an_expired_form_says_so_and_leads_back(page: Any, live_server: LiveServer) -> None:
    start(page, live_server)
    page.click("#tile-officer")
    # As if the page had been open since before the last reset: its token no longer fits.
    page.evaluate("document.querySelector('.ticket-form [name=csrf_token]').value = 'old'")
    page.click("#ticket-contact-video")
    expect(page.locator("#error-message")).to_be_visible()
    assert_accessible(page)
    page.click("main a.button")
    expect(page.locator("[data-tile]")).to_have_count(7)
    assert tickets_at(live_server, "BRE") == []


def test_after_the_contact_the_kiosk_offers_the_survey_then_starts_afresh(
    page: Any, live_server: LiveServer
) -> None:
    make_officer_available(live_server, "an")
    ticket_id = take_ticket(page, live_server)
    ctx, officer = live_server.container.queue, live_server.staff_ids["an"]
    queue.offer_next(ctx, officer)
    queue.accept_ticket(ctx, officer, ticket_id)
    queue.finish_ticket(ctx, officer, ticket_id, Outcome.LISTENED)
    # The kiosk's ticket page follows the ticket live: finished, it offers the survey.
    page.click("#survey-link", timeout=15_000)
    expect(page.locator("#survey-form")).to_be_visible()
    assert ticket_id not in page.url
    page.click("label[for=satisfaction-5]")
    page.click("#send-survey")
    expect(page.locator("#survey-done")).to_be_visible()
    assert_accessible(page)
    # Finishing forgets the citizen, as the idle reset would.
    page.click("#finish")
    page.wait_for_url(f"**/kiosk/{DESK}")
    expect(page.locator("#choose-language")).to_be_visible()
    assert page.context.cookies() == []
    with live_server.container.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.survey_answers)).scalar() == 1
