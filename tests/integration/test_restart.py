"""A server killed hard in mid-flight comes back with every ticket, state and number."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
import sqlalchemy
from sqlalchemy import select

from loket.adapters.db import schema as t
from loket.config import Settings
from tests.servers import Server, bearer, postgres_database, prepare_database, sign_in, start_server

pytestmark = pytest.mark.slow

DESK = "online"  # always open, so the test does not depend on the hour it runs at
TICKET = {"location": DESK, "service": "contact.video", "language": "nl"}
OFFER_TIMEOUT_SECONDS = 3


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    base = {
        "LOKET_DATA_DIR": str(tmp_path / "data"),
        "LOKET_DEMO": "false",
        "LOKET_OFFER_TIMEOUT_SECONDS": str(OFFER_TIMEOUT_SECONDS),
        "LOKET_SWEEP_SECONDS": "0.2",
        "LOKET_TICKETS_PER_MINUTE": "10000",
    }
    if request.param == "sqlite":
        yield base  # the default: SQLite in the data folder
        return
    with postgres_database("loket_restart") as url:
        yield {**base, "LOKET_DATABASE_URL": url}


def number_of(ticket: dict[str, object]) -> int:
    return int(str(ticket["number"]).rsplit("-", 1)[1])


def test_a_server_killed_mid_flight_restarts_with_every_ticket(
    env: dict[str, str], tmp_path: Path
) -> None:
    data_dir = Path(env["LOKET_DATA_DIR"])
    settings = Settings(data_dir=data_dir, database_url=env.get("LOKET_DATABASE_URL"))
    url = settings.effective_database_url
    logins = prepare_database(url, data_dir, ["an"])

    server = start_server(env, tmp_path / "first.log")
    try:
        with server.client() as http:
            headers = bearer(sign_in(http, logins["an"]))
            first = [http.post("/api/v1/tickets", json=TICKET).json() for _ in range(3)]
            offer = http.post("/api/v1/officer/next", headers=headers)
            assert offer.status_code == 200, offer.text
            offered = offer.json()
            assert offered["id"] == first[0]["id"]
        acknowledged = take_until_killed(server)
    finally:
        server.kill()

    # What the dead server confirmed is on disk, in the state it last had.
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(t.tickets.c.id, t.tickets.c.number, t.tickets.c.state))
            stored = {row.id: (row.number, row.state) for row in rows}
    finally:
        engine.dispose()
    confirmed = first + acknowledged
    assert {
        str(ticket["id"]): (ticket["number"], "waiting") for ticket in confirmed[1:]
    }.items() <= (stored.items())
    assert stored[offered["id"]] == (offered["number"], "offered")
    numbers = [number for number, _ in stored.values()]
    assert len(set(numbers)) == len(numbers)

    server = start_server(env, tmp_path / "second.log")
    try:
        with server.client() as http:
            # The offer nobody accepted goes back to the head once its time is up.
            back = wait_for_state(http, offered["id"], "waiting")
            assert back["position"] == 1
            # Numbering goes on after the highest number ever handed out: none twice.
            fresh = http.post("/api/v1/tickets", json=TICKET)
            assert fresh.status_code == 201, fresh.text
            assert fresh.json()["number"] not in numbers
            assert number_of(fresh.json()) == max(int(n.rsplit("-", 1)[1]) for n in numbers) + 1
            # The token survived the restart (it is stored), and the head is the returned one.
            again = http.post("/api/v1/officer/next", headers=headers)
            assert again.status_code == 200, again.text
            assert again.json()["id"] == offered["id"] and again.json()["is_returned"]
    finally:
        server.stop()


def take_until_killed(server: Server, before_kill: int = 5) -> list[dict[str, object]]:
    """Take tickets in a loop, SIGKILL the server while requests are in flight; the confirmed."""
    confirmed: list[dict[str, object]] = []
    enough = threading.Event()

    def keep_taking() -> None:
        with server.client(timeout=5.0) as http:
            while True:
                try:
                    response = http.post("/api/v1/tickets", json=TICKET)
                except httpx2.TransportError:
                    return  # the server is gone
                assert response.status_code == 201, response.text
                confirmed.append(response.json())
                if len(confirmed) >= before_kill:
                    enough.set()

    taker = threading.Thread(target=keep_taking)
    taker.start()
    try:
        assert enough.wait(30), server.output()
        server.kill()
    finally:
        taker.join(30)
    assert not taker.is_alive()
    return confirmed


def wait_for_state(http: httpx2.Client, ticket_id: str, state: str) -> dict[str, object]:
    deadline = time.monotonic() + OFFER_TIMEOUT_SECONDS + 10
    while True:
        body: dict[str, object] = http.get(f"/api/v1/tickets/{ticket_id}").json()
        if body["state"] == state or time.monotonic() > deadline:
            assert body["state"] == state, body
            return body
        time.sleep(0.1)
