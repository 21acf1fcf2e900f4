"""Callbacks in real browsers: a citizen books one, and at its time an officer calls back."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from loket.domain.callbacks import CallbackState
from loket.domain.tickets import TicketState
from loket.services import callbacks as callback_service
from loket.services import queue
from tests.browser.conftest import LiveServer, assert_accessible, make_officer_available, sign_in


@pytest.fixture
def citizen(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="en-GB", viewport={"width": 800, "height": 900})
    yield context.new_page()
    context.close()


def book_by_phone(citizen: Any, live: LiveServer) -> str:
    citizen.goto(f"{live.url}/")
    citizen.click("#tile-callback")
    expect(citizen.locator("h1")).to_have_text("Ask for a callback")
    assert_accessible(citizen)
    # Nothing chosen: the errors name what is missing, next to the times.
    citizen.click("#book-callback")
    expect(citizen.locator("#error-summary a[href='#slot-list']")).to_be_visible()
    citizen.check("#slot-1")
    citizen.check("#mode-phone")
    citizen.fill("#phone", "0470 12 34 56")
    citizen.select_option("#callback-language", "nl")
    citizen.click("#book-callback")
    citizen.wait_for_url("**/callbacks/*")
    expect(citizen.locator("#callback-reference")).to_have_text(re.compile(r"^TB-[2-9A-Z]{6}$"))
    assert_accessible(citizen)
    return str(citizen.url.rsplit("/", 1)[1])


def wait_for_queued(page: Any, live: LiveServer, callback_id: str) -> str:
    """The sweeper releases the callback at its time; its ticket appears live in the queue."""
    callback = callback_service.get_callback(live.container.callbacks, callback_id)
    live.clock.set(callback.due_at)
    row = page.locator("#queue-rows tr[data-ticket-id]")
    expect(row).to_have_count(1, timeout=5000)
    ticket_id = str(row.get_attribute("data-ticket-id"))
    queued = callback_service.get_callback(live.container.callbacks, callback_id)
    assert (queued.state, queued.ticket_id) == (CallbackState.QUEUED, ticket_id)
    return ticket_id


def take_and_accept(page: Any, ticket_id: str) -> None:
    page.click("#take-next")
    page.click(f"#accept-{ticket_id}")
    expect(page.locator(f"#contact-{ticket_id}")).to_have_attribute("data-state", "in_service")


def test_a_citizen_books_a_callback_and_the_officer_calls_back_until_reached(
    citizen: Any, page: Any, live_server: LiveServer
) -> None:
    callback_id = book_by_phone(citizen, live_server)

    make_officer_available(live_server, "an")
    sign_in(page, live_server, "an")
    expect(page.locator("#live-state")).to_have_attribute("data-state", "live")

    first = wait_for_queued(page, live_server, callback_id)
    take_and_accept(page, first)
    expect(page.locator(f"#callback-phone-{first}")).to_have_text("+32470123456")
    expect(page.locator(f"#callback-{first} [data-mode=phone]")).to_be_visible()
    assert_accessible(page)
    page.click(f"#callback-no-answer-{first}")
    expect(page.locator(f"#contact-{first}")).to_have_count(0)
    retried = callback_service.get_callback(live_server.container.callbacks, callback_id)
    assert retried.state is CallbackState.SCHEDULED and retried.attempts == 1

    second = wait_for_queued(page, live_server, callback_id)
    assert second != first
    take_and_accept(page, second)
    # The attempt is closed with Reached or No answer before the contact can be finished.
    expect(page.locator(f"#finish-{second}")).to_have_count(0)
    page.click(f"#callback-reached-{second}")
    expect(page.locator(f"#callback-reached-note-{second}")).to_be_visible()
    page.check(f"#outcome-{second}-informed")
    page.click(f"#finish-{second}")
    expect(page.locator(f"#contact-{second}")).to_have_count(0)

    done = callback_service.get_callback(live_server.container.callbacks, callback_id)
    assert done.state is CallbackState.REACHED and done.attempts == 2
    ticket = queue.ticket_status(live_server.container.queue, second).ticket
    assert ticket.state is TicketState.FINISHED

    citizen.reload()
    expect(citizen.locator("#callback-state")).to_contain_text("Done")
    expect(citizen.locator("#cancel-callback")).to_have_count(0)
