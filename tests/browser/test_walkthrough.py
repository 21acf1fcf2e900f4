"""The whole desk-to-back-office flow, four browsers at once: kiosk, screen, officer, supervisor."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import LiveServer, make_officer_available, sign_in

DESK = "houthalen-helchteren"


@pytest.fixture
def pages(browser: Any) -> Iterator[dict[str, Any]]:
    contexts = {
        role: browser.new_context(locale="nl-BE", viewport={"width": 1280, "height": 900})
        for role in ("kiosk", "screen", "officer", "supervisor")
    }
    yield {role: context.new_page() for role, context in contexts.items()}
    for context in contexts.values():
        context.close()


def test_a_kiosk_ticket_reaches_screen_and_console_live_and_is_called_to_a_booth(
    pages: dict[str, Any], live_server: LiveServer
) -> None:
    kiosk, screen, officer, supervisor = (
        pages["kiosk"], pages["screen"], pages["officer"], pages["supervisor"]
    )  # fmt: skip
    make_officer_available(live_server, "an")
    screen.goto(f"{live_server.url}/screen/{DESK}")
    screen.wait_for_selector("body[data-stream=connected]")
    sign_in(officer, live_server, "an")
    expect(officer.locator("#live-state")).to_have_attribute("data-state", "live")
    sign_in(supervisor, live_server, "els")
    expect(supervisor.locator("#live-state")).to_have_attribute("data-state", "live")

    # A citizen takes a ticket at the kiosk, by tapping.
    kiosk.goto(f"{live_server.url}/kiosk/{DESK}")
    kiosk.click("[data-language=nl]")
    kiosk.click("#tile-officer")
    kiosk.click("#ticket-contact-video")
    number = kiosk.locator("#ticket-number").inner_text()
    assert number == "HH-001"

    # Within one second it is on the desk's screen and in the officer's central queue.
    expect(screen.locator("#waiting-list")).to_contain_text(number, timeout=1000)
    row = officer.locator("#queue-rows tr[data-state=waiting]", has_text=number)
    expect(row).to_be_visible(timeout=1000)
    expect(supervisor.locator("#desk-table tr[data-desk=HH]")).to_have_attribute(
        "data-waiting", "1"
    )

    # The officer takes it and accepts it at booth 3: the screen calls it, the kiosk knows.
    officer.click("#take-next")
    accept = officer.locator("[id^=accept-]")
    ticket_id = (accept.get_attribute("id") or "").removeprefix("accept-")
    officer.fill(f"#booth-{ticket_id}", "3")
    accept.click()
    expect(screen.locator("#called-number")).to_have_text(number, timeout=1000)
    expect(screen.locator("#called-booth")).to_contain_text("3", timeout=1000)
    expect(kiosk.locator(".ticket-status")).to_have_attribute("data-state", "in_service")

    # The supervisor sees the officer busy with this ticket.
    officer_row = supervisor.locator("tr[data-officer=an]")
    expect(officer_row).to_have_attribute("data-status", "busy")
    expect(officer_row.locator(".contacts")).to_have_text(number)

    # The officer finishes with an outcome; the contact leaves every view.
    officer.check(f"#outcome-{ticket_id}-informed")
    officer.click(f"#finish-{ticket_id}")
    expect(officer.locator(".contact-card")).to_have_count(0)
    expect(officer_row).to_have_attribute("data-status", "wrap_up")
