"""The host's tablet in a real browser: a kiosk's call appears live and is answered."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from loket.services import queue
from tests.browser.conftest import LiveServer, assert_accessible, sign_in

BREE = "bree"


def call_the_host(browser: Any, live: LiveServer, kiosk: str = "Kiosk 1") -> None:
    """Press "Call the host" the way a kiosk page does: a form with the visitor's token."""
    kiosk_context = browser.new_context()
    try:
        visitor = kiosk_context.new_page()
        visitor.goto(f"{live.url}/staff/sign-in")  # any page that binds a token to the visitor
        token = visitor.input_value("input[name=csrf_token]")
        answer = visitor.request.post(
            f"{live.url}/kiosk/{BREE}/help",
            form={"csrf_token": token, "kiosk": kiosk},
            max_redirects=0,
        )
        assert answer.status == 303
        assert answer.headers["location"] == f"/kiosk/{BREE}?helped=1"
    finally:
        kiosk_context.close()


def test_a_host_sees_a_call_live_and_acknowledges_it(
    page: Any, browser: Any, live_server: LiveServer
) -> None:
    sign_in(page, live_server, "tom")
    assert page.url.endswith("/host")
    page.click(f"a[href='/host/{BREE}']")
    page.wait_for_selector("body[data-stream=connected]")
    expect(page.locator("#no-help")).to_be_visible()

    call_the_host(browser, live_server)
    card = page.locator(".help-card")
    expect(card).to_have_count(1, timeout=2000)
    expect(card).to_contain_text("Kiosk 1")
    expect(card).to_have_attribute("data-state", "open")
    expect(page.locator("#host-announcer")).not_to_be_empty()

    number = queue.take_ticket(
        live_server.container.queue,
        location_slug=BREE,
        service_code="contact.video",
        language="fr",
        channel="kiosk",
    ).number
    expect(page.locator("#waiting-table")).to_contain_text(number, timeout=2000)
    assert_accessible(page)

    page.locator(".help-card button").first.click()  # "on my way"
    page.wait_for_url(f"**/host/{BREE}")
    expect(page.locator(".help-card")).to_have_attribute("data-state", "acknowledged")
    page.locator(".help-card button").click()  # "helped"
    expect(page.locator(".help-card")).to_have_count(0)
    expect(page.locator("#no-help")).to_be_visible()


def test_an_officer_is_denied_the_host_view(page: Any, live_server: LiveServer) -> None:
    sign_in(page, live_server, "an")
    response = page.goto(f"{live_server.url}/host/{BREE}")
    assert response is not None and response.status == 403


def test_a_supervisor_may_choose_a_desk_in_the_host_view(
    page: Any, live_server: LiveServer
) -> None:
    sign_in(page, live_server, "els")
    response = page.goto(f"{live_server.url}/host")
    assert response is not None and response.status == 200
    expect(page.locator(f"a[href='/host/{BREE}']")).to_be_visible()
    assert_accessible(page)
