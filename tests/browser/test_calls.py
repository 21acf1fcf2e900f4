"""Video calls in two real browser pages (citizen and officer, fake camera and microphone)
through the real server: media flowing, mute and camera, a reload, a stranger refused."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from loket.domain.tickets import Ticket
from loket.services import queue
from tests.browser.conftest import LiveServer, assert_accessible, make_officer_available, sign_in

# Media over loopback starts within a second or two; a loaded CI machine needs more.
MEDIA_TIMEOUT = 20_000

RECEIVED = """async () => {
    const pc = window.loketCall && window.loketCall.pc;
    if (!pc) return null;
    const totals = {bytes: 0, frames: 0, audioBytes: 0};
    (await pc.getStats()).forEach((s) => {
        if (s.type !== "inbound-rtp") return;
        if (s.kind === "video") {
            totals.bytes += s.bytesReceived;
            totals.frames += s.framesDecoded || 0;
        }
        if (s.kind === "audio") totals.audioBytes += s.bytesReceived;
    });
    return totals;
}"""


@pytest.fixture
def citizen_page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(locale="nl-BE", viewport={"width": 1024, "height": 800})
    yield context.new_page()
    context.close()


def video_ticket(live: LiveServer) -> Ticket:
    return queue.take_ticket(
        live.container.queue,
        location_slug="online",
        service_code="contact.video",
        language="nl",
        channel="home",
    )


def wait_for_media(page: Any, more_than: int = 0) -> dict[str, int]:
    """getStats shows video bytes and decoded frames (and audio) received, more than before."""
    page.wait_for_function(
        f"""async () => {{
            const r = await ({RECEIVED})();
            return r && r.bytes > {more_than} && r.frames > 0 && r.audioBytes > 0;
        }}""",
        timeout=MEDIA_TIMEOUT,
        polling=250,
    )
    totals: dict[str, int] = page.evaluate(RECEIVED)
    return totals


def citizen_joins(page: Any, live: LiveServer, ticket: Ticket) -> None:
    page.goto(f"{live.url}/t/{ticket.id}")
    page.click("#prepare-call")
    page.wait_for_url(f"**/t/{ticket.id}/call")
    page.click("#start-devices")
    expect(page.locator("#devices-ready")).to_be_visible()
    expect(page.locator("#camera-select option")).not_to_have_count(0)
    page.click("#devices-ready")
    expect(page.locator("#waiting-room")).to_be_visible()


# Headless Chromium has no screen to pick: a canvas stands in for the shared screen.
FAKE_SCREEN = """
navigator.mediaDevices.getDisplayMedia = async () => {
    const canvas = document.createElement("canvas");
    canvas.width = 320;
    canvas.height = 240;
    const context = canvas.getContext("2d");
    setInterval(() => { context.fillStyle = "#154273"; context.fillRect(0, 0, 320, 240); }, 100);
    return canvas.captureStream(10);
};
"""


def officer_accepts(page: Any, live: LiveServer, ticket: Ticket) -> None:
    page.add_init_script(FAKE_SCREEN)
    make_officer_available(live, "an")
    sign_in(page, live, "an")
    expect(page.locator("#live-state")).to_have_attribute("data-state", "live")
    page.click("#take-next")
    page.click(f"#accept-{ticket.id}")


def call_in_progress(officer_page: Any, citizen_page: Any, live: LiveServer) -> Ticket:
    """A video ticket whose citizen joined and whose officer accepted, both sides connected."""
    ticket = video_ticket(live)
    citizen_joins(citizen_page, live, ticket)
    officer_accepts(officer_page, live, ticket)
    for side in (officer_page, citizen_page):
        expect(side.locator("#call-state")).to_have_attribute(
            "data-state", "active", timeout=MEDIA_TIMEOUT
        )
    return ticket


def test_citizen_and_officer_see_and_hear_each_other_and_recover_from_a_reload(
    page: Any, citizen_page: Any, live_server: LiveServer
) -> None:
    ticket = video_ticket(live_server)
    citizen_joins(citizen_page, live_server, ticket)
    assert_accessible(citizen_page)
    officer_accepts(page, live_server, ticket)

    for side in (page, citizen_page):
        expect(side.locator("#call-state")).to_have_attribute(
            "data-state", "active", timeout=MEDIA_TIMEOUT
        )
    expect(citizen_page.locator("#waiting-room")).to_be_hidden()
    officer_before = wait_for_media(page)
    wait_for_media(citizen_page)
    assert_accessible(page)
    assert_accessible(citizen_page)

    # Mute and camera off: the other side is told.
    citizen_page.click("#toggle-microphone")
    expect(citizen_page.locator("#toggle-microphone")).to_have_attribute("aria-pressed", "true")
    expect(page.locator("#peer-media")).to_have_attribute("data-audio", "false")
    citizen_page.click("#toggle-camera")
    expect(page.locator("#peer-media")).to_have_attribute("data-video", "false")
    expect(page.locator("#peer-media")).to_contain_text("camera")

    # The citizen reloads: the officer sees "reconnecting", the page joins again by itself
    # with a fresh token, and media flows again; the ticket stayed with the officer.
    citizen_page.reload()
    expect(page.locator("#call-state")).to_have_attribute(
        "data-state", "active", timeout=MEDIA_TIMEOUT
    )
    expect(citizen_page.locator("#call-state")).to_have_attribute(
        "data-state", "active", timeout=MEDIA_TIMEOUT
    )
    seen = page.evaluate("window.loketCall.events.map((e) => e[1])")
    assert "state.reconnecting" in seen
    wait_for_media(citizen_page)
    wait_for_media(page, more_than=officer_before["bytes"])
    assert (
        queue.ticket_status(live_server.container.queue, ticket.id).ticket.officer_id
        == (live_server.staff_ids["an"])
    )

    # The browsers report their quality every few seconds; the supervisor's board lists the
    # running call with it.
    page.wait_for_function("() => window.loketCall.events.some((e) => e[1] === 'state.active')")
    supervisor = page.context.browser.new_context(locale="nl-BE").new_page()
    sign_in(supervisor, live_server, "els")
    row = supervisor.locator(f"#running-calls tr[data-call-id='{ticket.id}'][data-role='officer']")
    expect(row).to_be_visible()
    expect(row.locator("[data-metric=rtt]")).not_to_have_text("–", timeout=MEDIA_TIMEOUT)
    expect(row.locator("[data-metric=bitrate]")).not_to_have_text("–", timeout=MEDIA_TIMEOUT)
    assert_accessible(supervisor)
    supervisor.context.close()

    # The officer shares the screen: the camera's track is replaced, the citizen is told.
    page.click("#share-screen")
    expect(page.locator("#share-screen")).to_have_attribute("aria-pressed", "true")
    expect(citizen_page.locator("#peer-media")).to_have_attribute("data-screen", "true")
    assert page.evaluate("window.loketCall.videoSender.track === window.loketCall.screenTrack")
    page.click("#share-screen")
    expect(citizen_page.locator("#peer-media")).to_have_attribute("data-screen", "false")

    # The officer ends the call: both sides say so.
    page.click("#hang-up")
    expect(citizen_page.locator("#call-state")).to_have_attribute("data-state", "ended")
    expect(page.locator("#call-state")).to_have_attribute("data-state", "ended")


def test_a_stranger_gets_no_token_and_no_entry_to_the_room(
    page: Any, citizen_page: Any, live_server: LiveServer
) -> None:
    ticket = video_ticket(live_server)
    citizen_joins(citizen_page, live_server, ticket)
    page.goto(f"{live_server.url}/")
    outcome = page.evaluate(
        """async (ticketId) => {
            const token = await fetch(`/t/${ticketId}/call/token`, {method: "POST"});
            const socket = new WebSocket(`ws://${location.host}/ws/calls`);
            const code = await new Promise((resolve) => {
                socket.onopen = () => socket.send(JSON.stringify(
                    {type: "call.join", version: 1, data: {token: "eyJjYWxsIjoiYSJ9.forged"}}));
                socket.onclose = (event) => resolve(event.code);
            });
            return {tokenStatus: token.status, closeCode: code};
        }""",
        ticket.id,
    )
    assert outcome == {"tokenStatus": 403, "closeCode": 4401}
    # The citizen's own page still waits for its officer, unharmed.
    expect(citizen_page.locator("#call-area")).to_have_attribute("data-state", "waiting")


@pytest.mark.parametrize(
    ("refusal", "problem"),
    [
        # The person (or the browser's policy) refused the camera and microphone.
        ("Promise.reject(new DOMException('denied', 'NotAllowedError'))", "denied"),
        # No camera at all: the microphone alone is fine, the call is sound only.
        (
            "c.video ? Promise.reject(new DOMException('none', 'NotFoundError')) : real(c)",
            "no_camera",
        ),
    ],
)
def test_the_device_check_says_clearly_what_is_missing(
    citizen_page: Any, live_server: LiveServer, refusal: str, problem: str
) -> None:
    citizen_page.add_init_script(
        "const real = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);"
        f"navigator.mediaDevices.getUserMedia = (c) => {refusal};"
    )
    ticket = video_ticket(live_server)
    citizen_page.goto(f"{live_server.url}/t/{ticket.id}/call")
    citizen_page.click("#start-devices")
    message = citizen_page.locator("#device-message")
    expect(message).to_be_visible()
    expect(message).to_have_attribute("data-problem", problem)
    expect(message).not_to_have_text("")
    if problem == "denied":
        expect(citizen_page.locator("#devices-ready")).to_be_hidden()
    else:
        citizen_page.click("#devices-ready")
        expect(citizen_page.locator("#toggle-camera")).to_be_disabled()
        expect(citizen_page.locator("#call-note")).to_be_visible()
    assert_accessible(citizen_page)


def test_a_booth_starts_the_call_by_itself(citizen_page: Any, live_server: LiveServer) -> None:
    ticket = video_ticket(live_server)
    citizen_page.goto(f"{live_server.url}/t/{ticket.id}/call?mode=kiosk")
    expect(citizen_page.locator("#call-area")).to_have_attribute("data-state", "waiting")
    expect(citizen_page.locator("#waiting-room")).to_be_visible()
    citizen_page.wait_for_function(
        "() => window.loketCall?.events.some((e) => e[1] === 'call.joined')"
    )
    assert_accessible(citizen_page)


def test_a_weak_connection_falls_back_to_sound_only_and_the_other_side_is_told(
    page: Any, citizen_page: Any, live_server: LiveServer
) -> None:
    call_in_progress(page, citizen_page, live_server)
    # Loss cannot be staged on loopback: the citizen's page judges two measured-looking
    # samples of a weak line, as its quality timer would every five seconds.
    heard_before = wait_for_media(page)["audioBytes"]
    weak = "{loss_percent: 25, bitrate_kbps: 40, rtt_ms: 400}"
    citizen_page.evaluate(f"window.loketCall.judgeQuality({weak})")
    expect(citizen_page.locator("#toggle-camera")).to_have_attribute("aria-pressed", "false")
    citizen_page.evaluate(f"window.loketCall.judgeQuality({weak})")
    expect(citizen_page.locator("#call-note")).to_be_visible()
    expect(citizen_page.locator("#call-note")).to_contain_text("verder met alleen geluid")
    expect(citizen_page.locator("#toggle-camera")).to_have_attribute("aria-pressed", "true")
    # The officer is told the camera is off; sound goes on and the call stays up.
    expect(page.locator("#peer-media")).to_have_attribute("data-video", "false")
    expect(page.locator("#peer-media")).to_have_attribute("data-audio", "true")
    expect(citizen_page.locator("#call-state")).to_have_attribute("data-state", "active")
    page.wait_for_function(
        f"async () => ((await ({RECEIVED})()) || {{audioBytes: 0}}).audioBytes > {heard_before}",
        timeout=MEDIA_TIMEOUT,
        polling=250,
    )
