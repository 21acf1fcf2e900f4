"""The chat with the virtual agent in a real browser: at the kiosk, its buttons, an emergency."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from loket.services import queue
from tests.browser.conftest import LiveServer, assert_accessible
from tests.browser.test_kiosk import DESK, start


def ask(page: Any, text: str) -> None:
    count = page.locator("#transcript .turn").count()
    page.fill("#question", text)
    page.click("#send")
    expect(page.locator("#transcript .turn")).to_have_count(count + 1)


def test_the_kiosk_tile_opens_the_chat_and_a_suggestion_gets_an_answer(
    page: Any, live_server: LiveServer
) -> None:
    start(page, live_server)
    page.click("#tile-assistant")
    page.wait_for_url(f"**/kiosk/{DESK}/assistant")
    assert_accessible(page)
    page.click("#suggestion-1")
    latest = page.locator("#latest .answer")
    expect(latest).to_have_attribute("data-intent", "report.bicycle_theft")
    # The answer is read out by the live region too.
    expect(page.locator("#chat-live")).to_contain_text("bicycle")
    assert_accessible(page)


def test_the_report_button_starts_the_bicycle_theft_form(
    page: Any, live_server: LiveServer
) -> None:
    start(page, live_server)
    page.goto(f"{live_server.url}/kiosk/{DESK}/assistant")
    ask(page, "someone stole my bike at the station")
    page.click("#latest #action-start_report")
    page.wait_for_url(f"**/kiosk/{DESK}/report/q/**")
    expect(page.locator("h1")).to_be_visible()


def test_an_emergency_reply_comes_first_and_stands_out(page: Any, live_server: LiveServer) -> None:
    start(page, live_server)
    page.goto(f"{live_server.url}/kiosk/{DESK}/assistant")
    ask(page, "help, someone is breaking into my house right now")
    expect(page.locator("#chat-emergency")).to_be_visible()
    expect(page.locator("#latest .emergency-answer")).to_contain_text("112")
    assert_accessible(page)
    # A plain question afterwards takes the banner away again.
    ask(page, "what are your opening hours")
    expect(page.locator("#chat-emergency")).to_be_hidden()


def test_asking_for_a_person_takes_a_ticket_for_a_video_call(
    page: Any, live_server: LiveServer
) -> None:
    start(page, live_server)
    page.goto(f"{live_server.url}/kiosk/{DESK}/assistant")
    ask(page, "I want to talk to an officer")
    page.click("#latest #action-handover")
    page.wait_for_url(f"**/kiosk/{DESK}/ticket")
    [ticket] = queue.queue_view(live_server.container.queue).tickets
    assert (ticket.service_code, ticket.language) == ("contact.video", "en")


def test_the_chat_works_without_javascript(browser: Any, live_server: LiveServer) -> None:
    context = browser.new_context(java_script_enabled=False, locale="en-GB")
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/assistant")
        page.fill("#question", "I lost my Belgian ID card")
        page.click("#send")
        expect(page.locator("#latest .answer")).to_have_attribute("data-intent", "lost.id_document")
        expect(page.locator("#latest #action-referral")).to_have_attribute(
            "href", "/referral/lost.id_document"
        )
        # (axe runs as a script, so it cannot check a page with scripts off; the same page
        # with scripts on is checked above.)
    finally:
        context.close()
