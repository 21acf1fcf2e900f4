"""The live streams end to end in one process: snapshots, live events, resuming, refusals."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import anyio
import pytest
from starlette.testclient import TestClient, WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from loket.adapters.db.event_log import StoredEvent
from loket.adapters.db.uow import SqlUnitOfWorkFactory
from loket.domain.staff import OfficerStatus, Role
from loket.domain.tickets import Ticket
from loket.services import queue
from loket.services import staff as staff_service
from loket.services.queue import QueueContext
from loket.web import ws as ws_module
from loket.web.app import create_app
from tests.conftest import PASSWORD, FakeClock, World, add_officer

HH = "houthalen-helchteren"
SCREEN = f"/ws/locations/{HH}"
# Longer than the hub's 1 s poll, so a slow machine does not fail a test, and short enough
# that a missing event fails it quickly.
WAIT = 5.0


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(container=world.container)) as client:
        yield client


def take(world: World, location: str = HH, ctx: QueueContext | None = None) -> Ticket:
    return queue.take_ticket(
        ctx or world.container.queue,
        location_slug=location,
        service_code="contact.video",
        language="nl",
        channel="kiosk",
    )


def receive(ws: WebSocketTestSession, timeout: float = WAIT) -> dict[str, Any]:
    """The next message, or TimeoutError; the test client itself would wait forever."""

    async def next_message() -> Any:
        with anyio.fail_after(timeout):
            return await ws._send_rx.receive()

    message = ws.portal.call(next_message)
    ws._raise_on_close(message)
    return json.loads(message["text"])  # type: ignore[no-any-return]


def receive_many(ws: WebSocketTestSession, count: int) -> list[dict[str, Any]]:
    return [receive(ws) for _ in range(count)]


def assert_silent(ws: WebSocketTestSession, within: float = 0.3) -> None:
    with pytest.raises(TimeoutError):
        receive(ws, timeout=within)


def closed_with(ws: WebSocketTestSession) -> int:
    with pytest.raises(WebSocketDisconnect) as raised:
        receive(ws)
    return raised.value.code


def logged_after(world: World, seq: int, location: str | None = HH) -> list[StoredEvent]:
    """What the log holds after `seq`, for the location's stream (or all, for staff)."""
    events = world.container.event_log.after(seq, limit=100_000)
    if location is None:
        return events
    with world.container.queue.uow(read_only=True) as uow:
        location_id = uow.locations.by_slug(location).id
    return [event for event in events if event.location_id == location_id]


def all_keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {key for item in value.values() for key in all_keys(item)}
    if isinstance(value, list):
        return {key for item in value for key in all_keys(item)}
    return set()


def staff_token(client: TestClient, world: World, username: str) -> str:
    response = client.post(
        "/api/v1/auth/token",
        json={"username": username, "password": PASSWORD, "code": world.code(username)},
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


# -- the location stream (info screens) -----------------------------------------------------


def test_a_new_screen_gets_its_desk_then_live_events_of_that_desk_only(
    world: World, client: TestClient
) -> None:
    an = add_officer(world, "an")
    take(world)
    take(world)
    take(world, "bree")
    with client.websocket_connect(SCREEN) as ws:
        snapshot = receive(ws)
        assert snapshot["type"] == "snapshot" and snapshot["version"] == 1
        assert snapshot["seq"] == world.container.event_log.last_seq()
        board = snapshot["data"]
        assert [t["number"] for t in board["waiting"]] == ["HH-001", "HH-002"]
        assert board["waiting_elsewhere"] == {"BRE": 1}
        assert not all_keys(board) & {"id", "officer_id", "ticket_id"}

        take(world, "bree")  # another desk: must not show up before the next one of ours
        third = take(world)
        offered = queue.offer_next(world.container.queue, an)
        assert offered is not None
        queue.accept_ticket(world.container.queue, an, offered.id, booth="2")

        messages = receive_many(ws, 3)
        assert [(m["type"], m["data"]["ticket"]["number"]) for m in messages] == [
            ("ticket.taken", third.number),
            ("ticket.offered", "HH-001"),
            ("ticket.called", "HH-001"),
        ]
        assert messages[2]["data"]["booth"] == "2"
        seqs = [snapshot["seq"]] + [m["seq"] for m in messages]
        assert seqs == sorted(set(seqs))
        assert [m["seq"] for m in messages] == [e.seq for e in logged_after(world, seqs[0])]
        for message in messages:
            assert set(message) == {"seq", "type", "version", "data"}
            assert not all_keys(message["data"]) & {"id", "officer_id"}
        assert_silent(ws)


def test_a_screen_that_reconnects_gets_exactly_what_it_missed_then_live_events(
    world: World, client: TestClient
) -> None:
    an = add_officer(world, "an")
    with client.websocket_connect(SCREEN) as ws:
        receive(ws)  # snapshot
        take(world)
        take(world)
        last = receive_many(ws, 2)[-1]["seq"]

    # While the screen is away: events of this desk, of others, and of no desk.
    take(world, "bree")
    take(world)
    offered = queue.offer_next(world.container.queue, an)
    assert offered is not None
    queue.accept_ticket(world.container.queue, an, offered.id)
    take(world, "peer")
    take(world)
    missed = logged_after(world, last)
    assert [e.type for e in missed] == [
        "ticket.taken",
        "ticket.offered",
        "ticket.called",
        "ticket.taken",
    ]

    with client.websocket_connect(f"{SCREEN}?after={last}") as ws:
        replayed = receive_many(ws, len(missed))
        assert [m["seq"] for m in replayed] == [e.seq for e in missed]
        assert [m["type"] for m in replayed] == [e.type for e in missed]
        live = take(world)
        message = receive(ws)
        assert message["type"] == "ticket.taken"
        assert message["data"]["ticket"]["number"] == live.number
        assert message["seq"] > replayed[-1]["seq"]
        assert_silent(ws)


def test_a_reconnect_after_more_than_a_page_of_events_gets_them_all_in_order(
    world: World,
) -> None:
    with (
        TestClient(create_app(container=world.container)) as client,
        client.websocket_connect(SCREEN) as ws,
    ):
        last = receive(ws)["seq"]
    # The service is down meanwhile, as in a restart: 512 commits need no hub to wake.
    for n in range(512):
        take(world, "bree" if n % 64 == 0 else HH)  # a few of another desk in between
    missed = logged_after(world, last)
    assert len(missed) == 504 and len(logged_after(world, last, None)) == 512

    with (
        TestClient(create_app(container=world.container)) as client,
        client.websocket_connect(f"{SCREEN}?after={last}") as ws,
    ):
        replayed = receive_many(ws, len(missed))
        assert [m["seq"] for m in replayed] == [e.seq for e in missed]
        take(world)
        assert receive(ws)["seq"] == world.container.event_log.last_seq()
        assert_silent(ws)


def test_a_client_behind_the_retained_log_gets_the_current_state_instead(
    world: World, client: TestClient, clock: FakeClock
) -> None:
    first, second = take(world), take(world)
    seqs = [e.seq for e in logged_after(world, 0)]
    clock.advance(hours=25)
    third = take(world)  # the next day: its number starts again at 1
    retention = timedelta(hours=world.container.settings.event_retention_hours)
    assert world.container.event_log.prune_before(clock.now() - retention) == 2

    with client.websocket_connect(f"{SCREEN}?after={seqs[0]}") as ws:
        snapshot = receive(ws)
        assert snapshot["type"] == "snapshot"
        numbers = [t["number"] for t in snapshot["data"]["waiting"]]
        assert numbers == [first.number, second.number, third.number]
    with client.websocket_connect(f"{SCREEN}?after={seqs[1]}") as ws:
        message = receive(ws)  # nothing it missed was pruned: a plain resume
        assert message["type"] == "ticket.taken"
        assert message["data"]["ticket"]["number"] == third.number


def test_sequence_numbers_go_on_after_the_whole_log_was_pruned(
    world: World, client: TestClient, clock: FakeClock
) -> None:
    # SQLite hands out the next rowid after the largest present one: an emptied log would
    # start again at 1, below every client's and every hub's last number.
    with client.websocket_connect(SCREEN) as ws:
        receive(ws)  # snapshot
        take(world)
        before = receive(ws)["seq"]
        clock.advance(hours=25)
        world.container.event_log.prune_before(clock.now() - timedelta(hours=24))
        take(world)
        after = receive(ws)
        assert after["type"] == "ticket.taken" and after["seq"] > before
    with client.websocket_connect(f"{SCREEN}?after={before}") as ws:
        assert receive(ws)["seq"] == after["seq"]


def test_a_client_ahead_of_the_log_gets_the_current_state(world: World, client: TestClient) -> None:
    # A number the log has not reached comes from another database (restored, recreated);
    # resuming from it would skip every event until the log caught up.
    take(world)
    with client.websocket_connect(f"{SCREEN}?after=1000000") as ws:
        snapshot = receive(ws)
        assert snapshot["type"] == "snapshot"
        assert [t["number"] for t in snapshot["data"]["waiting"]] == ["HH-001"]
        take(world)
        assert receive(ws)["data"]["ticket"]["number"] == "HH-002"


def test_an_unknown_location_is_closed_with_4404_after_the_handshake(
    world: World, client: TestClient
) -> None:
    # Before the handshake a browser would see only a failed connection (1006) and retry.
    with client.websocket_connect("/ws/locations/nowhere") as ws:
        assert closed_with(ws) == 4404


def test_an_event_no_one_announced_still_reaches_screens_by_the_poll(
    world: World, client: TestClient
) -> None:
    # A node that crashed between its commit and telling the hubs: the event is in the log
    # (the outbox), and every hub finds it at its next look.
    silent = replace(world.container.queue, uow=SqlUnitOfWorkFactory(world.container.engine))
    with client.websocket_connect(SCREEN) as ws:
        receive(ws)  # snapshot
        ticket = take(world, ctx=silent)
        message = receive(ws, timeout=3 * world.container.settings.event_poll_seconds + 1)
        assert message["type"] == "ticket.taken"
        assert message["data"]["ticket"]["number"] == ticket.number


def test_a_heartbeat_on_a_quiet_screen_moves_its_resume_point_past_other_desks_events(
    world: World, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The hub hands a screen only its own desk's events; the heartbeat still tells it how
    # far the log has been read, so a reconnect does not go through the others' events.
    monkeypatch.setattr(ws_module, "HEARTBEAT_SECONDS", 0.2)
    with client.websocket_connect(SCREEN) as ws:
        receive(ws)  # snapshot
        take(world, "bree")
        take(world, "bree")
        last = world.container.event_log.last_seq()
        beats = [receive(ws)]
        while beats[-1]["seq"] < last and len(beats) < 20:
            beats.append(receive(ws))
        assert all(beat["type"] == "heartbeat" for beat in beats)
        assert beats[-1]["seq"] == last
    with client.websocket_connect(f"{SCREEN}?after={last}") as ws:
        ticket = take(world)
        message = receive(ws)
        assert message["data"]["ticket"]["number"] == ticket.number
        assert message["seq"] == last + 1


# -- the staff stream -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "hello",
    [{}, {"token": "not-a-token", "after": None}, {"token": 42}, ["token"], "not json"],
    ids=["no token", "unknown token", "not a string", "not an object", "not json"],
)
def test_the_staff_stream_refuses_a_missing_or_bad_token(
    world: World, client: TestClient, hello: Any
) -> None:
    with client.websocket_connect("/ws/staff") as ws:
        if isinstance(hello, str):
            ws.send_text(hello)
        else:
            ws.send_json(hello)
        assert closed_with(ws) == 4401


def test_the_staff_stream_refuses_a_role_without_queue_access(
    world: World, client: TestClient
) -> None:
    add_officer(world, "lina", roles=frozenset({Role.INTERPRETER}), status=None)
    token = staff_token(client, world, "lina")
    with client.websocket_connect("/ws/staff") as ws:
        ws.send_json({"token": token, "after": None})
        assert closed_with(ws) == 4403


def test_the_staff_stream_sends_the_queue_then_ticket_and_officer_events(
    world: World, client: TestClient
) -> None:
    add_officer(world, "els", roles=frozenset({Role.SUPERVISOR}), status=None)
    an = add_officer(world, "an")
    waiting = take(world, "bree")
    token = staff_token(client, world, "els")
    with client.websocket_connect("/ws/staff") as ws:
        ws.send_json({"token": token, "after": None})
        snapshot = receive(ws)
        assert snapshot["type"] == "snapshot"
        assert [t["id"] for t in snapshot["data"]["tickets"]] == [waiting.id]
        assert "an" in [o["username"] for o in snapshot["data"]["officers"]]

        taken = take(world)  # every desk: the staff see the central queue
        offered = queue.offer_next(world.container.queue, an)
        assert offered is not None and offered.id == waiting.id
        queue.accept_ticket(world.container.queue, an, offered.id)
        messages = receive_many(ws, 4)
        assert [m["seq"] for m in messages] == [e.seq for e in logged_after(world, 0, None)][-4:]
        # One transaction's events come in the order they were logged, whatever that is.
        by_type = {m["type"]: m["data"] for m in messages}
        assert list(by_type)[:2] == ["ticket.taken", "ticket.offered"]
        assert by_type["ticket.taken"]["ticket"]["id"] == taken.id  # staff see ids
        assert by_type["ticket.called"]["ticket"]["officer_id"] == an
        assert by_type["officer.status_changed"]["username"] == "an"
        assert by_type["officer.status_changed"]["status"] == "busy"
        last = messages[-1]["seq"]

    queue.set_officer_status(world.container.queue, an, OfficerStatus.OFFLINE)
    with client.websocket_connect("/ws/staff") as ws:
        ws.send_json({"token": token, "after": last})
        missed = receive_many(ws, 2)
        assert [m["seq"] for m in missed] == [e.seq for e in logged_after(world, last, None)]
        by_type = {m["type"]: m["data"] for m in missed}
        assert by_type["ticket.returned"]["reason"] == "officer_offline"
        assert by_type["officer.status_changed"]["status"] == "offline"
        assert_silent(ws)


def test_the_staff_stream_closes_once_its_sign_in_is_revoked(
    world: World, client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ws_module, "STAFF_RECHECK_SECONDS", 0.2)
    monkeypatch.setattr(ws_module, "HEARTBEAT_SECONDS", 0.1)
    add_officer(world, "els", roles=frozenset({Role.SUPERVISOR}), status=None)
    token = staff_token(client, world, "els")
    with client.websocket_connect("/ws/staff") as ws:
        ws.send_json({"token": token, "after": None})
        assert receive(ws)["type"] == "snapshot"
        # Signed in: several rechecks pass, the stream keeps beating.
        beats = [receive(ws) for _ in range(8)]
        assert {beat["type"] for beat in beats} == {"heartbeat"}

        staff_service.sign_out(world.container.staff, token, everywhere=True)
        for _ in range(20):  # heartbeats until the next recheck, then the close
            try:
                assert receive(ws)["type"] == "heartbeat"
            except WebSocketDisconnect as closed:
                assert closed.code == 4401
                break
        else:
            pytest.fail("the stream went on after its sign-in was revoked")


# -- Origin ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [SCREEN, "/ws/staff"])
def test_a_page_of_another_site_cannot_open_a_stream(
    world: World, client: TestClient, path: str
) -> None:
    headers = {"origin": "https://evil.example"}
    with (
        pytest.raises(WebSocketDisconnect) as raised,
        client.websocket_connect(path, headers=headers),
    ):
        pass
    assert raised.value.code == 4403


def test_the_service_own_pages_and_configured_origins_may_open_a_stream(world: World) -> None:
    container = world.container
    container.settings = replace(container.settings, allowed_origins=("https://screens.example",))
    with TestClient(create_app(container=container)) as client:
        for origin in ("http://testserver", "https://screens.example"):
            with client.websocket_connect(SCREEN, headers={"origin": origin}) as ws:
                assert receive(ws)["type"] == "snapshot"
