"""Call signalling end to end in one process: joining with a token, relaying between the
two participants, refusing strangers, bad messages and floods, hanging up, leaving."""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient, WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from loket.domain.calls import MAX_MESSAGE_BYTES, CallRole
from loket.domain.tickets import Ticket, TicketState
from loket.services import calls as call_service
from loket.services import queue
from loket.web.app import create_app
from tests.conftest import World, add_officer
from tests.integration.test_streams import assert_silent, closed_with, receive

SDP = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
BASE = "https://testserver"


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(container=world.container), base_url=BASE) as client:
        client.opened = []  # type: ignore[attr-defined]
        yield client
        # A failed test leaves sockets open; the client would wait for them for ever.
        for cm in reversed(client.opened):  # type: ignore[attr-defined]
            with contextlib.suppress(Exception):
                cm.__exit__(None, None, None)


def video_ticket(world: World, service: str = "contact.video") -> Ticket:
    return queue.take_ticket(
        world.container.queue,
        location_slug="online",
        service_code=service,
        language="nl",
        channel="home",
    )


def served(world: World, officer: str = "an") -> tuple[Ticket, int]:
    """A video ticket accepted by the officer."""
    officer_id = world.staff_ids.get(officer) or add_officer(world, officer)
    ticket = video_ticket(world)
    offered = queue.offer_next(world.container.queue, officer_id)
    assert offered is not None and offered.id == ticket.id
    queue.accept_ticket(world.container.queue, officer_id, ticket.id)
    return ticket, officer_id


def message(kind: str, **data: Any) -> str:
    return json.dumps({"type": kind, "version": 1, "data": data})


def join(client: TestClient, token: str, **extra: Any) -> tuple[WebSocketTestSession, Any]:
    """Open /ws/calls and join; the socket and the server's `call.joined`."""
    context = client.websocket_connect("/ws/calls")
    ws = context.__enter__()
    client.opened.append(context)  # type: ignore[attr-defined]
    ws.send_text(message("call.join", token=token, **extra))
    return ws, context


def next_of(ws: WebSocketTestSession, kind: str) -> dict[str, Any]:
    """The next message of `kind`, skipping the state and presence news in between."""
    for _ in range(20):
        received = receive(ws)
        if received["type"] == kind:
            return received
    raise AssertionError(f"no {kind}")


def drain(ws: WebSocketTestSession) -> None:
    """Read what is on its way until the socket is quiet."""
    while True:
        try:
            receive(ws, timeout=0.3)
        except TimeoutError:
            return


def state_becomes(ws: WebSocketTestSession, state: str) -> None:
    """Read the call's state news until it says `state`."""
    for _ in range(20):
        if next_of(ws, "call.status")["data"]["state"] == state:
            return
    raise AssertionError(f"never {state}")


@pytest.fixture
def call(world: World, client: TestClient) -> Iterator[dict[str, Any]]:
    """A served video contact with both participants in the room."""
    ticket, officer_id = served(world)
    ctx = world.container.calls
    officer, officer_cm = join(
        client, call_service.issue_officer_token(ctx, officer_id, ticket.id).token
    )
    joined = next_of(officer, "call.joined")
    citizen, citizen_cm = join(client, call_service.issue_citizen_token(ctx, ticket.id).token)
    yield {
        "ticket": ticket,
        "officer_id": officer_id,
        "officer": officer,
        "citizen": citizen,
        "officer_joined": joined,
        "citizen_joined": next_of(citizen, "call.joined"),
    }
    for cm in (citizen_cm, officer_cm):
        with contextlib.suppress(Exception):  # already closed by the test
            cm.__exit__(None, None, None)


# -- joining ----------------------------------------------------------------------------------


def test_both_sides_join_see_each_other_and_get_no_ice_servers_on_loopback(
    call: dict[str, Any],
) -> None:
    assert call["officer_joined"]["data"]["role"] == "officer"
    assert call["officer_joined"]["data"]["peers"] == []
    assert call["officer_joined"]["data"]["ice_servers"] == []
    assert call["citizen_joined"]["data"]["peers"] == ["officer"]
    peer = next_of(call["officer"], "call.peer")
    assert peer["from"] == "citizen" and peer["data"]["present"] is True
    state_becomes(call["officer"], "connecting")


def test_offers_answers_and_candidates_reach_the_other_side_only(call: dict[str, Any]) -> None:
    officer, citizen = call["officer"], call["citizen"]
    officer.send_text(message("call.offer", sdp=SDP, session="s1"))
    offer = next_of(citizen, "call.offer")
    assert offer == {
        "type": "call.offer",
        "version": 1,
        "data": {"sdp": SDP, "session": "s1", "is_restart": False},
        "from": "officer",
    }
    citizen.send_text(message("call.answer", sdp=SDP, session="s1"))
    assert next_of(officer, "call.answer")["data"]["session"] == "s1"
    citizen.send_text(
        message("call.ice", session="s1", candidate="candidate:1 1 udp 1 ::1 9 typ host")
    )
    assert next_of(officer, "call.ice")["from"] == "citizen"
    citizen.send_text(message("call.media", audio=False, video=True))
    assert next_of(officer, "call.media")["data"] == {
        "audio": False,
        "video": True,
        "screen": False,
    }


def test_a_connected_report_makes_the_call_active_for_both_and_quality_is_kept(
    world: World, call: dict[str, Any]
) -> None:
    call["citizen"].send_text(message("call.state", connection="connected"))
    state_becomes(call["officer"], "active")
    call["officer"].send_text(
        message("call.quality", rtt_ms=21.0, loss_percent=0.0, bitrate_kbps=1200.0)
    )
    call["officer"].send_text(message("call.ping", nonce="n1"))
    assert next_of(call["officer"], "call.pong")["data"] == {"nonce": "n1"}
    [record] = world.container.call_board.running()
    assert record.call.state.value == "active"
    assert record.quality[CallRole.OFFICER].rtt_ms == 21.0


def test_a_citizen_token_for_a_ticket_that_is_not_a_video_contact_is_refused(
    world: World,
) -> None:
    ticket = video_ticket(world, service="info.general")
    with pytest.raises(Exception) as refused:
        call_service.issue_citizen_token(world.container.calls, ticket.id)
    assert getattr(refused.value, "code", None) == "call.not_video"


# -- strangers --------------------------------------------------------------------------------


def test_a_socket_without_a_join_or_with_a_forged_token_is_closed_as_unauthorised(
    world: World, client: TestClient, call: dict[str, Any]
) -> None:
    state_becomes(call["officer"], "connecting")
    drain(call["officer"])
    with client.websocket_connect("/ws/calls") as ws:
        ws.send_text(message("call.offer", sdp=SDP, session="s1"))
        assert closed_with(ws) == 4401
    with client.websocket_connect("/ws/calls") as ws:
        ws.send_text(message("call.join", token="eyJjYWxsIjoiYSJ9.forged"))
        assert closed_with(ws) == 4401
    with client.websocket_connect("/ws/calls") as ws:
        ws.send_text("{not json")
        assert closed_with(ws) == 4401
    # Nothing of the strangers reached the call.
    assert_silent(call["officer"])


def test_an_expired_token_is_refused(world: World, client: TestClient) -> None:
    ticket, _ = served(world)
    token = call_service.issue_citizen_token(world.container.calls, ticket.id).token
    world.container.queue.clock.advance(minutes=3)  # type: ignore[attr-defined]
    ws, cm = join(client, token)
    assert closed_with(ws) == 4401
    cm.__exit__(None, None, None)


def test_an_officer_who_no_longer_holds_the_contact_is_refused(
    world: World, client: TestClient
) -> None:
    ticket, officer_id = served(world)
    token = call_service.issue_officer_token(world.container.calls, officer_id, ticket.id).token
    other = add_officer(world, "bo")
    queue.transfer_ticket(world.container.queue, officer_id, ticket.id, to_officer_id=other)
    queue.accept_ticket(world.container.queue, other, ticket.id)
    ws, cm = join(client, token)
    assert closed_with(ws) == 4403
    cm.__exit__(None, None, None)
    with pytest.raises(Exception) as refused:
        call_service.issue_officer_token(world.container.calls, officer_id, ticket.id)
    assert getattr(refused.value, "code", None) == "call.not_participant"


def test_a_token_for_a_finished_contact_is_refused_as_ended(
    world: World, client: TestClient
) -> None:
    from loket.domain.tickets import Outcome

    ticket, officer_id = served(world)
    token = call_service.issue_citizen_token(world.container.calls, ticket.id).token
    queue.finish_ticket(world.container.queue, officer_id, ticket.id, Outcome.INFORMED)
    ws, cm = join(client, token)
    assert closed_with(ws) == 4410
    cm.__exit__(None, None, None)


def test_a_socket_from_another_site_is_refused(client: TestClient) -> None:
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        client.websocket_connect("/ws/calls", headers={"origin": "https://evil.example"}) as ws,
    ):
        receive(ws)
    assert refused.value.code == 4403


# -- bad messages and floods ------------------------------------------------------------------


def test_a_malformed_message_gets_an_error_reply_and_the_call_goes_on(
    call: dict[str, Any],
) -> None:
    citizen = call["citizen"]
    citizen.send_text(message("call.offer", sdp="no sdp", session="s1"))
    error = next_of(citizen, "call.error")
    assert error["data"]["code"] == "call.bad_field" and error["data"]["field"] == "sdp"
    assert error["data"]["message"]
    citizen.send_text("[1, 2")
    assert next_of(citizen, "call.error")["data"]["code"] == "call.bad_message"
    citizen.send_text(message("call.media", audio=True, video=False))
    assert next_of(call["officer"], "call.media")["data"]["video"] is False


def test_a_flood_closes_that_socket_only_and_other_calls_go_on(
    world: World, client: TestClient, call: dict[str, Any]
) -> None:
    # The default: 20 a second, a burst of 100.
    citizen = call["citizen"]
    for index in range(150):
        citizen.send_text(message("call.ping", nonce=str(index)))
    assert closed_with_skipping(citizen) == 1008
    # The officer sees the citizen drop (reconnecting), and is itself still connected.
    state_becomes(call["officer"], "reconnecting")
    call["officer"].send_text(message("call.ping", nonce="still here"))
    assert next_of(call["officer"], "call.pong")["data"]["nonce"] == "still here"


def test_a_message_over_the_size_limit_closes_the_socket(call: dict[str, Any]) -> None:
    call["citizen"].send_text("x" * (MAX_MESSAGE_BYTES + 1))
    assert closed_with_skipping(call["citizen"]) == 1009


def closed_with_skipping(ws: WebSocketTestSession) -> int:
    """The close code, after whatever was still on its way."""
    for _ in range(500):
        try:
            receive(ws)
        except WebSocketDisconnect as closed:
            return closed.code
    raise AssertionError("not closed")


# -- leaving ----------------------------------------------------------------------------------


def test_a_hangup_ends_the_call_for_both(call: dict[str, Any]) -> None:
    call["officer"].send_text(message("call.hangup"))
    ended = next_of(call["citizen"], "call.ended")
    assert ended["data"]["reason"] == "hangup:officer"
    assert closed_with_skipping(call["citizen"]) == 4410
    assert closed_with_skipping(call["officer"]) == 4410


def test_a_transferred_contact_keeps_the_citizen_waiting_for_the_next_officer(
    world: World, client: TestClient, call: dict[str, Any]
) -> None:
    other = add_officer(world, "bo")
    ticket = call["ticket"]
    queue.transfer_ticket(world.container.queue, call["officer_id"], ticket.id, to_officer_id=other)
    call["officer"].close()
    state_becomes(call["citizen"], "reconnecting")
    queue.accept_ticket(world.container.queue, other, ticket.id)
    token = call_service.issue_officer_token(world.container.calls, other, ticket.id).token
    newcomer, _ = join(client, token)
    assert next_of(newcomer, "call.joined")["data"]["peers"] == ["citizen"]
    peer = next_of(call["citizen"], "call.peer")
    assert peer["data"]["present"] is True and peer["data"]["participant"] == f"staff:{other}"


def test_a_newer_socket_of_the_same_participant_replaces_the_older(
    world: World, client: TestClient, call: dict[str, Any]
) -> None:
    token = call_service.issue_citizen_token(world.container.calls, call["ticket"].id).token
    newer, cm = join(client, token)
    assert next_of(newer, "call.joined")["data"]["peers"] == ["officer"]
    assert closed_with_skipping(call["citizen"]) == 4409
    newer.send_text(message("call.media", audio=True, video=True))
    assert next_of(call["officer"], "call.media")["from"] == "citizen"
    cm.__exit__(None, None, None)


def citizen_left(
    world: World, client: TestClient, grace: float
) -> tuple[Ticket, WebSocketTestSession, Any]:
    """A served call whose citizen joined and then dropped; the officer stays."""
    world.container.calls = replace(world.container.calls, grace=timedelta(seconds=grace))
    ticket, officer_id = served(world)
    ctx = world.container.calls
    officer, officer_cm = join(
        client, call_service.issue_officer_token(ctx, officer_id, ticket.id).token
    )
    next_of(officer, "call.joined")
    citizen, citizen_cm = join(client, call_service.issue_citizen_token(ctx, ticket.id).token)
    next_of(citizen, "call.joined")
    citizen_cm.__exit__(None, None, None)
    return ticket, officer, officer_cm


def test_a_citizen_gone_past_the_grace_period_returns_the_ticket_to_the_head_of_the_queue(
    world: World, client: TestClient
) -> None:
    ticket, officer, officer_cm = citizen_left(world, client, grace=0.3)
    ended = next_of(officer, "call.ended")
    assert ended["data"]["reason"] == "citizen_gone"
    returned = queue.ticket_status(world.container.queue, ticket.id).ticket
    assert returned.state is TicketState.WAITING and returned.is_returned
    officer_cm.__exit__(None, None, None)


def test_a_citizen_who_left_before_the_officer_joined_is_timed_from_when_they_left(
    world: World, client: TestClient
) -> None:
    world.container.calls = replace(world.container.calls, grace=timedelta(seconds=0.5))
    ticket, officer_id = served(world)
    ctx = world.container.calls
    citizen, citizen_cm = join(client, call_service.issue_citizen_token(ctx, ticket.id).token)
    next_of(citizen, "call.joined")
    # The officer's socket keeps the call known on this node while the citizen drops.
    officer, _ = join(client, call_service.issue_officer_token(ctx, officer_id, ticket.id).token)
    assert next_of(officer, "call.joined")["data"]["peers"] == ["citizen"]
    citizen_cm.__exit__(None, None, None)
    assert next_of(officer, "call.ended")["data"]["reason"] == "citizen_gone"


def test_a_citizen_back_within_the_grace_period_keeps_the_ticket(
    world: World, client: TestClient
) -> None:
    ticket, officer, officer_cm = citizen_left(world, client, grace=2.0)
    ctx = world.container.calls
    again, again_cm = join(client, call_service.issue_citizen_token(ctx, ticket.id).token)
    assert next_of(again, "call.joined")["data"]["peers"] == ["officer"]
    with pytest.raises(TimeoutError):
        next_of_within(officer, "call.ended", 3.0)
    assert (
        queue.ticket_status(world.container.queue, ticket.id).ticket.state is TicketState.IN_SERVICE
    )
    again_cm.__exit__(None, None, None)
    officer_cm.__exit__(None, None, None)


def next_of_within(ws: WebSocketTestSession, kind: str, seconds: float) -> dict[str, Any]:
    while True:
        received = receive(ws, timeout=seconds)
        if received["type"] == kind:
            return received


# -- the citizen's token over HTTP ------------------------------------------------------------


def test_the_citizen_page_hands_out_a_token_only_with_its_form_token(
    world: World, client: TestClient
) -> None:
    ticket = video_ticket(world)
    page = client.get(f"/t/{ticket.id}/call")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    refused = client.post(f"/t/{ticket.id}/call/token", data={"csrf_token": "forged"})
    assert refused.status_code == 403
    issued = client.post(f"/t/{ticket.id}/call/token", data={"csrf_token": csrf[1]})
    assert issued.status_code == 200 and issued.headers["cache-control"] == "no-store"
    grant = call_service.check_token(world.container.calls, issued.json()["token"])
    assert grant.call_id == ticket.id and grant.role.value == "citizen"
    unknown = client.post(f"/t/{'0' * 32}/call/token", data={"csrf_token": csrf[1]})
    assert unknown.status_code == 404
