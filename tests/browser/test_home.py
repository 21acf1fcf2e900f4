"""The online desk at home, on a phone-sized screen in a real browser."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from loket.services import queue
from tests.browser.conftest import LiveServer, assert_accessible

PHONE = {"width": 360, "height": 740}


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="en-GB", viewport=PHONE, is_mobile=True, has_touch=True)
    yield context.new_page()
    context.close()


def fits_the_screen(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"])


def test_the_online_desk_offers_its_services_on_a_phone(
    phone: Any, live_server: LiveServer
) -> None:
    phone.goto(f"{live_server.url}/")
    expect(phone.locator("html")).to_have_attribute("lang", "en")  # from the browser
    expect(phone.locator("[data-tile]")).to_have_count(7)
    # On a phone the emergency number can be dialled.
    expect(phone.locator("#emergency a[href='tel:112']")).to_be_visible()
    assert fits_the_screen(phone)
    assert_accessible(phone)


def test_joining_the_online_queue_leads_to_a_page_that_follows_the_ticket(
    phone: Any, live_server: LiveServer
) -> None:
    phone.goto(f"{live_server.url}/")
    phone.click("#tile-officer")
    assert_accessible(phone)
    phone.click("#ticket-contact-video")
    phone.wait_for_url("**/t/*")
    expect(phone.locator("#ticket-number")).to_have_text("WEB-001")
    expect(phone.locator("#position")).to_have_attribute("data-position", "1")
    assert fits_the_screen(phone)
    assert_accessible(phone)
    ticket = queue.queue_view(live_server.container.queue).tickets[0]
    assert (ticket.number, ticket.channel, ticket.language) == ("WEB-001", "home", "en")
    # Back on the start page, the open ticket is one tap away.
    phone.goto(f"{live_server.url}/")
    expect(phone.locator("#your-ticket")).to_contain_text("WEB-001")


def test_the_language_links_set_the_language_for_the_next_pages(
    phone: Any, live_server: LiveServer
) -> None:
    phone.goto(f"{live_server.url}/")
    phone.click(".language-nav [lang=fr]")
    expect(phone.locator("html")).to_have_attribute("lang", "fr")
    expect(phone.locator(".language-nav [aria-current=true]")).to_have_attribute("lang", "fr")
    phone.click("#tile-officer")
    expect(phone.locator("html")).to_have_attribute("lang", "fr")
    phone.click(".language-nav [lang=ar]")
    expect(phone.locator("html")).to_have_attribute("dir", "rtl")
    assert fits_the_screen(phone)


@pytest.mark.parametrize("key", ["information"])
def test_service_pages_at_home_say_what_comes_and_offer_an_officer(
    phone: Any, live_server: LiveServer, key: str
) -> None:
    phone.goto(f"{live_server.url}/services/{key}")
    expect(phone.locator("#coming")).to_be_visible()
    expect(phone.locator("form.ticket-form").first).to_be_visible()
    assert fits_the_screen(phone)
    assert_accessible(phone)


def test_working_at_the_police_at_home(phone: Any, live_server: LiveServer) -> None:
    phone.goto(f"{live_server.url}/services/careers")
    expect(phone.locator("main")).to_contain_text("jobpol.be")
    assert fits_the_screen(phone)
    assert_accessible(phone)
