"""Call signalling across two nodes through the real Redis: the citizen on one node, the
officer on another, one channel per call."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
import redis
from starlette.testclient import TestClient

from loket.adapters.calls.relay import RedisRelay
from loket.bootstrap import Container, build
from loket.config import Settings
from loket.domain.staff import Role
from loket.services import calls as call_service
from loket.web.app import create_app
from tests.conftest import FAST_HASHER, REDIS_URL, FakeClock, World, add_officer, unavailable
from tests.integration.test_assistant import sign_in
from tests.integration.test_call_signalling import (
    BASE,
    SDP,
    join,
    message,
    next_of,
    served,
    state_becomes,
)

pytestmark = pytest.mark.redis


@pytest.fixture
def nodes(world: World, settings: Settings, clock: FakeClock) -> Iterator[list[TestClient]]:
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError as error:
        unavailable(f"Redis is not reachable at {REDIS_URL}: {error.__class__.__name__}")
    shared = replace(settings, redis_url=REDIS_URL)
    containers: list[Container] = [build(shared, clock=clock, hasher=FAST_HASHER) for _ in "ab"]
    assert all(isinstance(c.call_relay, RedisRelay) for c in containers)
    with contextlib.ExitStack() as stack:
        clients = []
        for container in containers:
            client = stack.enter_context(TestClient(create_app(container=container), base_url=BASE))
            client.opened = []  # type: ignore[attr-defined]
            stack.callback(_close_sockets, client)
            clients.append(client)
        yield clients
    for container in containers:
        container.dispose()


def _close_sockets(client: TestClient) -> None:
    for cm in reversed(client.opened):  # type: ignore[attr-defined]
        with contextlib.suppress(Exception):
            cm.__exit__(None, None, None)


def test_a_citizen_and_an_officer_on_different_nodes_reach_each_other(
    world: World, nodes: list[TestClient]
) -> None:
    ticket, officer_id = served(world)
    ctx = world.container.calls
    officer, _ = join(nodes[1], call_service.issue_officer_token(ctx, officer_id, ticket.id).token)
    assert next_of(officer, "call.joined")["data"]["peers"] == []
    citizen, _ = join(nodes[0], call_service.issue_citizen_token(ctx, ticket.id).token)
    next_of(citizen, "call.joined")
    # Presence crosses nodes both ways: each side learns of the other.
    assert next_of(officer, "call.peer")["from"] == "citizen"
    assert next_of(citizen, "call.peer")["from"] == "officer"
    officer.send_text(message("call.offer", sdp=SDP, session="s1"))
    assert next_of(citizen, "call.offer")["data"]["sdp"] == SDP
    citizen.send_text(message("call.answer", sdp=SDP, session="s1"))
    assert next_of(officer, "call.answer")["from"] == "citizen"
    citizen.send_text(message("call.hangup"))
    assert next_of(officer, "call.ended")["data"]["reason"] == "hangup:citizen"


def test_a_supervisor_on_another_node_sees_the_call_and_its_quality(
    world: World, nodes: list[TestClient]
) -> None:
    add_officer(world, "els", roles=frozenset({Role.SUPERVISOR}), status=None)
    sign_in(nodes[1], world, "els")
    ticket, officer_id = served(world)
    ctx = world.container.calls
    # Both sides of the call on node a; the supervisor's board is served by node b.
    officer, _ = join(nodes[0], call_service.issue_officer_token(ctx, officer_id, ticket.id).token)
    citizen, _ = join(nodes[0], call_service.issue_citizen_token(ctx, ticket.id).token)
    next_of(citizen, "call.joined")
    state_becomes(officer, "connecting")  # both present, as the browsers wait for
    citizen.send_text(message("call.state", connection="connected"))
    state_becomes(officer, "active")
    officer.send_text(message("call.quality", rtt_ms=480.0, loss_percent=1.0, bitrate_kbps=900.0))
    officer.send_text(message("call.ping", nonce="n1"))
    next_of(officer, "call.pong")

    row = f'data-call-id="{ticket.id}" data-role="officer" data-state="active" class="poor"'
    assert eventually(lambda: row in nodes[1].get("/supervisor/calls").text)
    board = nodes[1].get("/supervisor/calls").text
    assert ticket.number in board and 'data-metric="rtt">480<' in board

    citizen.send_text(message("call.hangup"))
    next_of(officer, "call.ended")
    assert eventually(lambda: ticket.id not in nodes[1].get("/supervisor/calls").text)


def eventually(check: Callable[[], bool], within: float = 10.0) -> bool:
    """Nodes share their calls every couple of seconds: poll until `check` holds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False
