"""Messages and documents during a call, in two real browser pages through the real server:
both ways, live, a bad file refused with a message, nothing lost from the message box."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from loket.domain.exchange import Author, AuthorRole
from loket.services import exchange
from tests.browser.conftest import LiveServer, assert_accessible
from tests.browser.test_calls import (
    call_in_progress,
    citizen_page,
)
from tests.unit.test_exchange import JPEG, PDF

__all__ = ["citizen_page"]  # the fixture, shared with the call tests


def test_citizen_and_officer_chat_and_swap_documents_during_the_call(
    page: Any, citizen_page: Any, live_server: LiveServer, tmp_path: Path
) -> None:
    ticket = call_in_progress(page, citizen_page, live_server)

    # Chat, both ways; markup stays text.
    citizen_page.fill("#chat-text", "Mijn fiets is gestolen <b>gisteren</b>")
    citizen_page.click("#chat-send")
    officer_log = page.locator("#chat-log .chat-message")
    expect(officer_log).to_have_count(1)
    expect(officer_log.first.locator(".chat-text")).to_have_text(
        "Mijn fiets is gestolen <b>gisteren</b>"
    )
    expect(officer_log.first).to_have_attribute("data-role", "citizen")
    expect(citizen_page.locator("#chat-text")).to_have_value("")
    page.fill("#chat-text", "Waar stond hij?")
    page.press("#chat-send", "Enter")
    expect(citizen_page.locator("#chat-log .chat-message")).to_have_count(2)
    expect(citizen_page.locator("#chat-log .chat-message").nth(1)).to_have_attribute(
        "data-role", "officer"
    )
    # The console's guard against double submits leaves a script's own forms alone.
    page.fill("#chat-text", "En uw fietsslot?")
    page.click("#chat-send")
    expect(citizen_page.locator("#chat-log .chat-message")).to_have_count(3)

    # Documents, both ways.
    photo = tmp_path / "fiets.jpg"
    photo.write_bytes(JPEG)
    citizen_page.set_input_files("#document-file", str(photo))
    citizen_page.click("#document-send")
    expect(page.locator("#document-list li")).to_have_count(1)
    expect(page.locator("#document-list")).to_contain_text("fiets.jpg")
    form = tmp_path / "formulier.pdf"
    form.write_bytes(PDF)
    page.set_input_files("#document-file", str(form))
    page.click("#document-send")
    expect(citizen_page.locator("#document-list li")).to_have_count(2)
    with citizen_page.expect_download() as downloading:
        citizen_page.locator("#document-list button", has_text="formulier.pdf").click()
    saved = tmp_path / "downloaded.pdf"
    downloading.value.save_as(saved)
    assert saved.read_bytes() == PDF

    # A program dressed up as a PDF is refused, in the page's language.
    fake = tmp_path / "aangifte.pdf"
    fake.write_bytes(b"MZ\x90\x00" * 64)
    citizen_page.set_input_files("#document-file", str(fake))
    citizen_page.click("#document-send")
    expect(citizen_page.locator("#exchange-error")).to_be_visible()
    expect(citizen_page.locator("#exchange-error")).to_contain_text("Dit bestand kan niet")
    expect(page.locator("#document-list li")).to_have_count(2)
    assert_accessible(citizen_page)
    assert_accessible(page)

    # The conversation is kept with the contact, for the officer's record.
    officer = Author(AuthorRole.OFFICER, "An", staff_id=live_server.staff_ids["an"])
    kept = exchange.read_messages(live_server.container.queue, ticket.id, officer)
    assert [m.author.role for m in kept] == [AuthorRole.CITIZEN, *[AuthorRole.OFFICER] * 2]
