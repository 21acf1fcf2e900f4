"""The supervisor board in a real browser: desks, officers, service level, reassigning, live."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import update

from loket.adapters.db.schema import staff_tokens
from loket.domain.staff import OfficerStatus
from loket.domain.tickets import TicketState
from loket.services import queue
from loket.web import ws as ws_module
from tests.browser.conftest import LiveServer, assert_accessible, make_officer_available, sign_in
from tests.browser.test_officer import take


@pytest.fixture
def officer_page(browser: Any) -> Iterator[Any]:
    """A second browser, signed in apart from the supervisor's."""
    context = browser.new_context(locale="nl-BE", viewport={"width": 1280, "height": 900})
    yield context.new_page()
    context.close()


def test_the_supervisor_reassigns_a_waiting_ticket_and_the_officer_sees_the_offer_live(
    page: Any, officer_page: Any, live_server: LiveServer
) -> None:
    make_officer_available(live_server, "an")
    ticket = take(live_server, desk="bree")
    sign_in(officer_page, live_server, "an")
    expect(officer_page.locator("#live-state")).to_have_attribute("data-state", "live")

    sign_in(page, live_server, "els")
    assert page.url.endswith("/supervisor")
    expect(page.locator("#live-state")).to_have_attribute("data-state", "live")
    expect(page.locator("tr[data-officer=an]")).to_have_attribute("data-status", "available")
    expect(page.locator("#desk-table tr[data-desk=BRE]")).to_have_attribute("data-waiting", "1")
    row = page.locator(f"#ticket-table tr[data-ticket-id='{ticket.id}']")
    expect(row).to_have_attribute("data-state", "waiting")
    assert_accessible(page)

    page.select_option(f"#reassign-to-{ticket.id}", "an")
    page.click(f"#reassign-{ticket.id}")
    expect(row).to_have_attribute("data-state", "offered")

    # The officer's console shows the offer without a reload, and they take it up.
    officer_page.fill(f"#booth-{ticket.id}", "2")
    officer_page.click(f"#accept-{ticket.id}")
    expect(officer_page.locator(f"#contact-{ticket.id}")).to_have_attribute(
        "data-state", "in_service"
    )

    # …and the board follows, live: the officer is busy with that ticket.
    officer_row = page.locator("tr[data-officer=an]")
    expect(officer_row).to_have_attribute("data-status", "busy")
    expect(officer_row.locator(".contacts")).to_have_text(ticket.number)
    expect(row).to_have_attribute("data-state", "in_service")
    expect(page.locator("#service-level")).to_have_attribute("data-percent", "100")


def test_the_supervisor_changes_an_officers_status(page: Any, live_server: LiveServer) -> None:
    make_officer_available(live_server, "an")
    sign_in(page, live_server, "els")
    page.select_option("#status-of-an", "break")
    page.click("#set-status-an")
    expect(page.locator("tr[data-officer=an]")).to_have_attribute("data-status", "break")
    with live_server.container.queue.uow(read_only=True) as uow:
        assert uow.staff.get(live_server.staff_ids["an"]).status is OfficerStatus.BREAK


def test_the_target_wait_is_chosen_in_the_address_and_a_bad_one_is_explained(
    page: Any, live_server: LiveServer
) -> None:
    sign_in(page, live_server, "els")
    page.fill("#target", "5")
    page.click("#apply-target")
    expect(page.locator("#service-level-explained")).to_be_visible()
    assert "target=5" in page.url
    response = page.goto(f"{live_server.url}/supervisor?target=0")
    assert response is not None and response.status == 422
    expect(page.locator("#error-summary a[href='#target']")).to_be_visible()


def test_a_returned_offer_goes_back_to_the_queue_from_the_board(
    page: Any, live_server: LiveServer
) -> None:
    make_officer_available(live_server, "an")
    ticket = take(live_server)
    queue.offer_next(live_server.container.queue, live_server.staff_ids["an"])
    sign_in(page, live_server, "els")
    page.select_option(f"#reassign-to-{ticket.id}", "")
    page.click(f"#reassign-{ticket.id}")
    row = page.locator(f"#ticket-table tr[data-ticket-id='{ticket.id}']")
    expect(row).to_have_attribute("data-state", "waiting")
    back = queue.ticket_status(live_server.container.queue, ticket.id).ticket
    assert back.state is TicketState.WAITING and back.is_returned


def test_an_officer_is_denied_the_supervisor_board(page: Any, live_server: LiveServer) -> None:
    sign_in(page, live_server, "an")
    response = page.goto(f"{live_server.url}/supervisor")
    assert response is not None and response.status == 403
    assert page.locator("h1").inner_text()


def test_a_board_whose_sign_in_ends_leaves_for_the_sign_in_page(
    page: Any, live_server: LiveServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The board itself polls only every 30 s, and a sign-in that runs out makes no event:
    # its live stream, rechecked here every half second, is what tells it.
    monkeypatch.setattr(ws_module, "STAFF_RECHECK_SECONDS", 0.5)
    sign_in(page, live_server, "els")
    expect(page.locator("#live-state")).to_have_attribute("data-state", "live")
    page.wait_for_load_state("networkidle")  # the refresh after the stream's first snapshot
    with live_server.container.engine.begin() as conn:  # the 12 hours are up
        conn.execute(update(staff_tokens).values(expires_at=live_server.clock.now()))
    page.wait_for_url("**/staff/sign-in", timeout=10_000)
    expect(page.locator("#username")).to_be_visible()
