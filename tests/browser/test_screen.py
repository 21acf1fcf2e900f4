"""The info screen in a real browser: live tickets, calls with their booth, sound, staleness."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from loket.services import queue
from tests.browser.conftest import LiveServer, assert_accessible, make_officer_available

HH = "houthalen-helchteren"


def open_screen(page: Any, live: LiveServer, query: str = "") -> None:
    page.goto(f"{live.url}/screen/{HH}{query}")
    page.wait_for_selector("body[data-stream=connected]")


def take(live: LiveServer, location: str = HH) -> str:
    ticket = queue.take_ticket(
        live.container.queue,
        location_slug=location,
        service_code="contact.video",
        language="nl",
        channel="kiosk",
    )
    return ticket.number


def test_a_ticket_taken_appears_on_the_screen_within_a_second(
    page: Any, live_server: LiveServer
) -> None:
    open_screen(page, live_server)
    assert page.locator("html").get_attribute("lang") == "nl"  # the desk's first language
    expect(page.locator("#waiting-more")).not_to_be_empty()  # "nobody is waiting"
    number = take(live_server)
    expect(page.locator("#waiting-list")).to_contain_text(number, timeout=1000)
    expect(page.locator("#waiting-count")).to_have_text("1", timeout=1000)
    take(live_server, "bree")  # another desk: counted there, refreshed from the board
    assert_accessible(page)


def test_a_call_shows_the_ticket_and_its_booth_and_is_announced(
    page: Any, live_server: LiveServer
) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    first = take(live_server)
    second = take(live_server)
    open_screen(page, live_server)
    expect(page.locator("#waiting-list li")).to_have_count(2)
    button = page.locator("#enable-sound")
    if button.is_visible():  # a browser started without the kiosk's autoplay flag
        button.click()
    page.wait_for_selector("body[data-sound=on]")
    page.wait_for_selector("body[data-voice=ready]")

    make_officer_available(live_server, "an")
    an = live_server.staff_ids["an"]
    offered = queue.offer_next(live_server.container.queue, an)
    assert offered is not None and offered.number == first
    queue.accept_ticket(live_server.container.queue, an, offered.id, booth="2")

    expect(page.locator("#called-number")).to_have_text(first, timeout=1000)
    expect(page.locator("#called-booth")).to_contain_text("2", timeout=1000)
    expect(page.locator("#waiting-list")).not_to_contain_text(first)
    expect(page.locator("#waiting-list")).to_contain_text(second)
    # "Ticket H H 1, please go to booth 2", from the Dutch audio sprite.
    expect(page.locator("body")).to_have_attribute(
        "data-last-announcement", "ticket letter_h letter_h n1 go_to n2"
    )
    assert errors == []  # the chime and the voice were scheduled without a script error
    assert_accessible(page)


def test_the_screen_says_it_is_stale_when_the_server_goes_away(
    page: Any, live_server: LiveServer
) -> None:
    open_screen(page, live_server, "?lang=en")
    state = page.locator("#live-state")
    expect(state).to_have_attribute("data-state", "live")
    live_server.server.should_exit = True
    expect(state).to_have_attribute("data-state", "stale", timeout=5000)
    expect(state).to_have_text("Not up to date: reconnecting…")
