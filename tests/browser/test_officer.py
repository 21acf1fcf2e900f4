"""The officer console in a real browser: the live queue, taking, accepting and finishing."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from loket.domain.staff import OfficerStatus
from loket.domain.tickets import Outcome, Ticket, TicketState
from loket.services import queue
from tests.browser.conftest import LiveServer, assert_accessible, make_officer_available, sign_in


def take(live: LiveServer, desk: str = "bree", language: str = "nl") -> Ticket:
    return queue.take_ticket(
        live.container.queue,
        location_slug=desk,
        service_code="contact.video",
        language=language,
        channel="kiosk",
    )


def open_console(page: Any, live: LiveServer, username: str = "an") -> None:
    sign_in(page, live, username)
    assert page.url.endswith("/officer")
    expect(page.locator("#live-state")).to_have_attribute("data-state", "live")


def test_a_ticket_taken_at_a_desk_appears_live_and_the_officer_serves_it_to_the_end(
    page: Any, live_server: LiveServer
) -> None:
    make_officer_available(live_server, "an")
    open_console(page, live_server)

    ticket = take(live_server)
    row = page.locator(f"#queue-rows tr[data-ticket-id='{ticket.id}']")
    expect(row).to_be_visible(timeout=1000)  # live, without a reload
    expect(row).to_contain_text(ticket.number)
    expect(row.locator(".ticking")).not_to_have_text("")

    page.click("#take-next")
    expect(page.locator(f"#accept-{ticket.id}")).to_be_visible()
    expect(page.locator(f"#contact-{ticket.id}")).to_contain_text("Bree")
    page.fill(f"#booth-{ticket.id}", "Booth 3")
    page.click(f"#accept-{ticket.id}")

    card = page.locator(f"#contact-{ticket.id}")
    expect(card).to_have_attribute("data-state", "in_service")
    expect(row).to_have_attribute("data-state", "in_service")
    # Hold and resume: the citizen waits a moment, the contact stays with this officer.
    page.click(f"#hold-{ticket.id}")
    expect(card).to_have_attribute("data-state", "on_hold")
    page.click(f"#resume-{ticket.id}")
    expect(card).to_have_attribute("data-state", "in_service")
    # The console keeps the lease: its heartbeat renews the contact it serves.
    renewed = page.evaluate(
        """async () => {
            const body = new FormData();
            body.append("csrf_token", document.querySelector("input[name=csrf_token]").value);
            const response = await fetch("/officer/heartbeat", {method: "POST", body});
            return (await response.json()).renewed;
        }"""
    )
    assert renewed == 1
    assert page.evaluate("localStorage.getItem('loket.officer.booth')") == "Booth 3"
    assert_accessible(page)

    # The outcome is required; the server says so too (here without the browser's check),
    # and keeps the note that was typed.
    page.fill(f"#note-{ticket.id}", "Explained how to file a report online.")
    page.eval_on_selector(f"#finish-{ticket.id}", "button => (button.form.noValidate = true)")
    page.click(f"#finish-{ticket.id}")
    expect(page.locator(f"#error-summary a[href='#outcome-{ticket.id}-listened']")).to_be_visible()
    expect(page.locator(f"#note-{ticket.id}")).to_have_value(
        "Explained how to file a report online."
    )
    page.check(f"#outcome-{ticket.id}-informed")
    page.click(f"#finish-{ticket.id}")
    expect(page.locator(".contact-card")).to_have_count(0)
    expect(page.locator("#take-next")).to_be_visible()
    expect(row).to_have_count(0)

    done = queue.ticket_status(live_server.container.queue, ticket.id).ticket
    assert done.state is TicketState.FINISHED and done.outcome is Outcome.INFORMED
    assert done.note == "Explained how to file a report online."


def test_a_double_click_on_take_next_takes_one_ticket(page: Any, live_server: LiveServer) -> None:
    make_officer_available(live_server, "an")
    first = take(live_server)
    second = take(live_server)
    open_console(page, live_server)

    page.dblclick("#take-next")
    expect(page.locator(f"#accept-{first.id}")).to_be_visible()
    held = queue.contacts_of(live_server.container.queue, live_server.staff_ids["an"])
    assert [t.id for t in held] == [first.id]
    assert queue.ticket_status(live_server.container.queue, second.id).position == 1


def test_an_offer_can_be_declined_and_goes_back_to_the_head_of_the_queue(
    page: Any, live_server: LiveServer
) -> None:
    make_officer_available(live_server, "an")
    ticket = take(live_server)
    open_console(page, live_server)
    page.click("#take-next")
    page.click(f"#decline-{ticket.id}")
    expect(page.locator(".contact-card")).to_have_count(0)
    back = queue.ticket_status(live_server.container.queue, ticket.id)
    assert back.ticket.state is TicketState.WAITING and back.ticket.is_returned


def test_the_officer_sets_their_own_status_and_the_language_follows_the_address(
    page: Any, live_server: LiveServer
) -> None:
    sign_in(page, live_server, "an")
    page.goto(f"{live_server.url}/officer?lang=en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#my-status [data-status]")).to_have_attribute("data-status", "offline")

    page.click("#take-next")  # offline: refused, with the reason linked to the status field
    expect(page.locator("#error-summary a[href='#status']")).to_be_visible()

    page.select_option("#status", "available")
    page.click("#change-status")
    expect(page.locator("#my-status [data-status]")).to_have_attribute("data-status", "available")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert page.url.endswith("/officer?lang=en")
    with live_server.container.queue.uow(read_only=True) as uow:
        member = uow.staff.get(live_server.staff_ids["an"])
    assert member.status is OfficerStatus.AVAILABLE
    assert_accessible(page)
