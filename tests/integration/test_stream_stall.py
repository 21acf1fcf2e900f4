"""A screen that stops reading, against a real `loket serve`: dropped, the others unharmed.

Only a real server has the transport buffers that fill up when a client does not read, so
this starts one; the stalled client is a raw socket with a small receive buffer.
"""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import httpx2
import pytest
import sqlalchemy
from sqlalchemy import Engine, select
from websockets.client import ClientProtocol
from websockets.frames import Close, Frame, Opcode
from websockets.sync.client import ClientConnection, connect
from websockets.uri import parse_uri

from loket.adapters.db import schema as t
from tests.servers import Server, prepare_database, running_server

pytestmark = pytest.mark.slow

DESK = "online"  # always open, so the test does not depend on the hour it runs at
STREAM = f"/ws/locations/{DESK}"
TICKET = {"location": DESK, "service": "contact.video", "language": "nl"}
# Far more than the server's and the kernel's buffers for one socket hold (a few MB at most
# on loopback), so a client that does not read blocks the server's send.
FILLERS = 24
FILLER_BYTES = 256 * 1024
WAIT = 15.0


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Engine]]:
    root = tmp_path_factory.mktemp("stall")
    url = f"sqlite:///{root / 'loket.db'}"
    prepare_database(url, root / "seed")
    env = {
        "LOKET_DATABASE_URL": url,
        "LOKET_DATA_DIR": str(root / "data"),
        "LOKET_DEMO": "false",
        "LOKET_TICKETS_PER_MINUTE": "10000",
        # The fillers are written behind the server's back: its poll finds them.
        "LOKET_EVENT_POLL_SECONDS": "0.2",
    }
    engine = sqlalchemy.create_engine(url)
    try:
        with running_server(env, root / "server.log") as server:
            yield server, engine
    finally:
        engine.dispose()


class StalledScreen:
    """A WebSocket client on a raw socket that reads only when told to."""

    def __init__(self, url: str) -> None:
        self.protocol = ClientProtocol(parse_uri(url))
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Set before connecting, so the window the server sees stays small.
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        uri = parse_uri(url)
        self.sock.connect((uri.host, uri.port))
        self.sock.settimeout(WAIT)
        self.protocol.send_request(self.protocol.connect())
        self.sock.sendall(b"".join(self.protocol.data_to_send()))
        self.frames: list[Frame] = []

    def read_until(self, done: Any) -> None:
        while not done():
            data = self.sock.recv(65536)
            if not data:
                self.protocol.receive_eof()
                return
            self.protocol.receive_data(data)
            self.frames += [e for e in self.protocol.events_received() if isinstance(e, Frame)]

    def messages(self) -> list[dict[str, Any]]:
        return [json.loads(f.data) for f in self.frames if f.opcode is Opcode.TEXT]

    def close_code(self) -> int | None:
        closes = [Close.parse(f.data) for f in self.frames if f.opcode is Opcode.CLOSE]
        return closes[0].code if closes else None


def take(server: Server) -> str:
    response = httpx2.post(f"{server.url}/api/v1/tickets", json=TICKET, timeout=WAIT)
    assert response.status_code == 201, response.text
    number: str = response.json()["number"]
    return number


def read_until_number(screen: ClientConnection, number: str) -> list[dict[str, Any]]:
    """Every message up to and including the `ticket.taken` of ticket `number`."""
    messages = []
    while True:
        message = json.loads(screen.recv(timeout=WAIT))
        messages.append(message)
        ticket = message["data"].get("ticket") if message["type"] != "heartbeat" else None
        if ticket is not None and ticket["number"] == number:
            return messages


def write_fillers(engine: Engine) -> None:
    """Large events of the desk, straight into the log (as another node would)."""
    with engine.begin() as conn:
        location_id = conn.execute(
            select(t.locations.c.id).where(t.locations.c.slug == DESK)
        ).scalar_one()
        for n in range(FILLERS):
            conn.execute(
                t.events.insert().values(
                    type="test.filler",
                    version=1,
                    location_id=location_id,
                    at=datetime.now(UTC),
                    payload={"n": n, "text": "x" * FILLER_BYTES},
                )
            )


def desk_seqs_after(engine: Engine, seq: int) -> list[int]:
    with engine.connect() as conn:
        location_id = conn.execute(
            select(t.locations.c.id).where(t.locations.c.slug == DESK)
        ).scalar_one()
        query = (
            select(t.events.c.id)
            .where(t.events.c.id > seq, t.events.c.location_id == location_id)
            .order_by(t.events.c.id)
        )
        return list(conn.execute(query).scalars())


def test_a_screen_that_stops_reading_is_dropped_and_resumes_while_the_others_get_everything(
    node: tuple[Server, Engine],
) -> None:
    server, engine = node
    with contextlib.ExitStack() as stack:
        screens = [
            stack.enter_context(
                connect(server.ws_url(STREAM), compression=None, ping_interval=None, max_queue=None)
            )
            for _ in range(4)
        ]
        stalled = StalledScreen(server.ws_url(STREAM))
        stack.callback(stalled.sock.close)
        snapshots = [json.loads(screen.recv(timeout=WAIT)) for screen in screens]
        first = take(server)
        for screen in screens:
            read_until_number(screen, first)
        # The stalled screen has caught up and gets events straight from the hub, like the
        # others; from here on it reads nothing.
        stalled.read_until(lambda: any(m["type"] == "ticket.taken" for m in stalled.messages()))
        start = stalled.messages()[0]["seq"]
        assert stalled.messages()[0]["type"] == "snapshot"

        write_fillers(engine)
        last = take(server)
        began = time.monotonic()
        with ThreadPoolExecutor(len(screens)) as pool:
            received = list(pool.map(lambda s: read_until_number(s, last), screens))
        waited = time.monotonic() - began

        expected = desk_seqs_after(engine, start)
        assert len(expected) == 1 + FILLERS + 1
        for snapshot, messages in zip(snapshots, received, strict=True):
            # Each event once, in order (a heartbeat may come in between on a slow machine).
            seqs = [m["seq"] for m in messages if m["type"] != "heartbeat"]
            assert seqs == expected[1:]
            assert snapshot["seq"] <= start
        # The others waited for the stalled one once (the hub's 0.5 s budget), not per event
        # (that would be 12 s); the rest is reading 6 MB each, well under a second.
        assert waited < 3.0
        assert "dropped a stream whose client stopped reading" in server.output()

        # Reading again, the stalled screen finds what was sent before it was dropped, then
        # the close that tells it to resume.
        stalled.read_until(lambda: stalled.close_code() is not None)
        assert stalled.close_code() == 1013
        got = [m["seq"] for m in stalled.messages()[1:]]
        assert got == expected[: len(got)] and len(got) < len(expected)
        with connect(
            server.ws_url(f"{STREAM}?after={got[-1]}"), compression=None, ping_interval=None
        ) as again:
            resumed = [m["seq"] for m in read_until_number(again, last)]
        assert got + resumed == expected
