"""An interpreter in a video call, in three real browser pages (citizen, officer,
interpreter; fake camera and microphone) through the real server: invited by a one-time link
or to their account, media flowing both ways with each of the others, the chat, leaving
without ending the call, a used link refused in another browser."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from loket.domain.tickets import Ticket
from tests.browser.conftest import LiveServer, assert_accessible, sign_in
from tests.browser.test_calls import (
    MEDIA_TIMEOUT,
    RECEIVED,
    citizen_joins,
    citizen_page,
    officer_accepts,
    video_ticket,
)

__all__ = ["citizen_page"]  # the fixture, shared with the two-party tests

# Video and audio received from one peer, over that peer's own connection: the two-party
# count, asked of the connection with `role`.
RECEIVED_FROM = RECEIVED.replace("async () =>", "async (role) =>").replace(
    "window.loketCall.pc", "window.loketCall.links.get(role)?.pc"
)
assert RECEIVED_FROM != RECEIVED


@pytest.fixture
def interpreter_page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="nl-BE", viewport={"width": 1024, "height": 800})
    yield context.new_page()
    context.close()


def media_from(page: Any, role: str) -> dict[str, int]:
    page.wait_for_function(
        f"""async () => {{
            const r = await ({RECEIVED_FROM})("{role}");
            return r && r.bytes > 0 && r.frames > 0 && r.audioBytes > 0;
        }}""",
        timeout=MEDIA_TIMEOUT,
        polling=250,
    )
    totals: dict[str, int] = page.evaluate(f"({RECEIVED_FROM})('{role}')")
    return totals


def call_running(page: Any, citizen: Any, live: LiveServer, ticket: Ticket) -> None:
    citizen_joins(citizen, live, ticket)
    officer_accepts(page, live, ticket)
    for side in (page, citizen):
        expect(side.locator("#call-state")).to_have_attribute(
            "data-state", "active", timeout=MEDIA_TIMEOUT
        )


def invite(page: Any, choice: str) -> str:
    page.click("#invite-open")
    page.check(f"#interpreter-{choice}")
    page.click("#invite-send")
    expect(page.locator("#interpreter-remove")).to_be_visible()
    link: str = page.locator("#invite-link-text").input_value()
    return link


def interpreter_joins(page: Any) -> None:
    page.click("#start-devices")
    page.click("#devices-ready")
    expect(page.locator("#call-state")).to_have_attribute(
        "data-state", "active", timeout=MEDIA_TIMEOUT
    )


def test_an_interpreter_with_a_link_joins_both_and_leaves_without_ending_the_call(
    page: Any, citizen_page: Any, interpreter_page: Any, live_server: LiveServer, browser: Any
) -> None:
    ticket = video_ticket(live_server)
    call_running(page, citizen_page, live_server, ticket)
    link = invite(page, "link")
    assert "/interpret/" in link
    assert_accessible(page)

    interpreter_page.goto(link)
    assert_accessible(interpreter_page)
    interpreter_joins(interpreter_page)
    # Media flows from the interpreter to both others and from both to the interpreter.
    for role in ("officer", "citizen"):
        media_from(interpreter_page, role)
    for side in (page, citizen_page):
        media_from(side, "interpreter")
        expect(side.locator("#third-figure")).to_be_visible()
        expect(side.locator("#third-caption")).not_to_have_text("")
    expect(interpreter_page.locator("#third-figure")).to_be_visible()
    assert_accessible(interpreter_page)

    # The interpreter writes in the chat: both others see it, as the interpreter's.
    interpreter_page.fill("#chat-text", "Ik vertaal voor u.")
    interpreter_page.click("#chat-send")
    for side in (page, citizen_page):
        expect(side.locator("#chat-log li[data-role='interpreter']")).to_contain_text(
            "Ik vertaal voor u."
        )

    # A reload rejoins by itself with the same link (bound to this browser).
    interpreter_page.reload()
    expect(interpreter_page.locator("#call-state")).to_have_attribute(
        "data-state", "active", timeout=MEDIA_TIMEOUT
    )
    media_from(interpreter_page, "citizen")

    # The link works once: another browser is refused, clearly.
    stranger = browser.new_context(locale="nl-BE").new_page()
    answer = stranger.goto(link)
    assert answer is not None and answer.status == 409
    expect(stranger.locator("#refusal")).not_to_have_text("")
    assert_accessible(stranger)
    stranger.context.close()

    # The interpreter leaves; the citizen and the officer go on.
    citizen_before = page.evaluate(f"({RECEIVED_FROM})('citizen')")
    interpreter_page.click("#hang-up")
    expect(interpreter_page.locator("#call-state")).to_have_attribute("data-state", "ended")
    for side in (page, citizen_page):
        expect(side.locator("#call-peers")).to_have_attribute("data-last", "interpreter.left")
        expect(side.locator("#third-figure")).to_be_hidden()
        expect(side.locator("#call-state")).to_have_attribute("data-state", "active")
    page.wait_for_function(
        f"""async () => {{
            const r = await ({RECEIVED_FROM})("citizen");
            return r && r.bytes > {citizen_before["bytes"]};
        }}""",
        timeout=MEDIA_TIMEOUT,
        polling=250,
    )


def test_an_interpreter_with_an_account_joins_from_their_list_and_can_be_removed(
    page: Any, citizen_page: Any, interpreter_page: Any, live_server: LiveServer
) -> None:
    ticket = video_ticket(live_server)
    call_running(page, citizen_page, live_server, ticket)
    sign_in(interpreter_page, live_server, "lina")
    interpreter_page.wait_for_url("**/interpreter")
    expect(interpreter_page.locator("#no-invitations")).to_be_visible()
    lina = live_server.staff_ids["lina"]
    assert invite(page, str(lina)) == ""
    # The list refreshes by itself.
    join = interpreter_page.locator("a[id^='join-']")
    expect(join).to_be_visible(timeout=MEDIA_TIMEOUT)
    assert_accessible(interpreter_page)
    join.click()
    interpreter_joins(interpreter_page)
    media_from(citizen_page, "interpreter")

    # The officer removes the interpreter: out of the call, which goes on.
    page.click("#interpreter-remove")
    expect(interpreter_page.locator("#call-state")).to_have_attribute("data-state", "ended")
    expect(citizen_page.locator("#call-peers")).to_have_attribute("data-last", "interpreter.left")
    expect(citizen_page.locator("#call-state")).to_have_attribute("data-state", "active")
