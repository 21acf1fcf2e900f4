"""Scale-out: two `loket serve` nodes on one PostgreSQL database and one Redis."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest
import redis
import sqlalchemy
from sqlalchemy import Engine, select
from websockets.sync.client import connect

from loket.adapters.db import schema as t
from loket.adapters.db.event_log import EventLog
from tests.conftest import REDIS_URL, unavailable
from tests.servers import (
    Login,
    Server,
    bearer,
    loket_command,
    loket_environ,
    postgres_database,
    prepare_database,
    sign_in,
    start_server,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

OFFICERS = [f"officer{n}" for n in range(6)]
TICKETS = 30
# Far longer than any wait below: an event that arrives in time was carried by Redis,
# not found by a node's poll of the log.
POLL_SECONDS = 60
DESK = "online"  # always open, so the test does not depend on the hour it runs at
TICKET = {"location": DESK, "service": "contact.video", "language": "nl"}


@dataclass
class Cluster:
    nodes: list[Server]
    logins: dict[str, Login]
    engine: Engine


def require_redis() -> None:
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        unavailable(f"Redis is not reachable at {REDIS_URL}: {error.__class__.__name__}")
    finally:
        client.close()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    require_redis()
    root = tmp_path_factory.mktemp("two-nodes")
    with postgres_database("loket_nodes") as url:
        env = {
            "LOKET_DATABASE_URL": url,
            "LOKET_REDIS_URL": REDIS_URL,
            "LOKET_DEMO": "false",
            "LOKET_EVENT_POLL_SECONDS": str(POLL_SECONDS),
            "LOKET_TICKETS_PER_MINUTE": "10000",
            "LOKET_SECRET_KEY": "two-nodes-share-one-secret-key-for-their-cookies",
        }
        # Both nodes start at once on an empty database, as after a deploy: both migrate.
        with ThreadPoolExecutor(2) as pool:
            starting = [
                pool.submit(
                    start_server,
                    {**env, "LOKET_DATA_DIR": str(root / f"node{n}")},
                    root / f"node{n}.log",
                )
                for n in (1, 2)
            ]
        nodes = [future.result() for future in starting if future.exception() is None]
        try:
            for future in starting:
                future.result()  # re-raise a failed start, with the server's output
            logins = prepare_database(url, root / "seed", OFFICERS)
            engine = sqlalchemy.create_engine(url)
            try:
                yield Cluster(nodes=nodes, logins=logins, engine=engine)
            finally:
                engine.dispose()
        finally:
            for node in nodes:
                node.stop()


def take(client: httpx2.Client) -> dict[str, object]:
    response = client.post("/api/v1/tickets", json=TICKET)
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def test_a_ticket_taken_on_one_node_reaches_a_screen_on_the_other_through_redis(
    cluster: Cluster,
) -> None:
    node1, node2 = cluster.nodes
    latencies = []
    taken = []
    with node1.client() as http, connect(node2.ws_url(f"/ws/locations/{DESK}")) as screen:
        snapshot = json.loads(screen.recv(timeout=5))
        assert snapshot["type"] == "snapshot"
        try:
            for _ in range(5):
                started = time.monotonic()
                ticket = take(http)
                taken.append(ticket)
                message = json.loads(screen.recv(timeout=5))
                latencies.append(time.monotonic() - started)
                assert message["type"] == "ticket.taken"
                assert message["data"]["ticket"]["number"] == ticket["number"]
                assert message["seq"] > snapshot["seq"]
        finally:
            for ticket in taken:  # leave the queue empty for the race below
                http.post(f"/api/v1/tickets/{ticket['id']}/cancel")
    # A wake-up hint crosses Redis in milliseconds; the poll would have taken a minute.
    assert max(latencies) < 2.0, latencies


def test_officers_on_both_nodes_racing_get_each_ticket_exactly_once(cluster: Cluster) -> None:
    with cluster.engine.connect() as conn:
        waiting = conn.execute(select(t.tickets.c.id).where(t.tickets.c.state == "waiting"))
        assert waiting.all() == []
    last_seq = EventLog(cluster.engine).last_seq()

    taken: list[dict[str, object]] = []
    served: list[tuple[str, str]] = []  # (officer, ticket id) per accepted contact
    takers_done = threading.Event()
    lock = threading.Lock()

    def take_tickets(node: Server, count: int) -> None:
        with node.client() as http:
            for _ in range(count):
                ticket = take(http)
                with lock:
                    taken.append(ticket)

    def serve(username: str, node: Server) -> None:
        with node.client() as http:
            headers = bearer(sign_in(http, cluster.logins[username]))
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                offer = http.post("/api/v1/officer/next", headers=headers)
                if offer.status_code == 204:
                    if takers_done.is_set():
                        return
                    time.sleep(0.02)  # nothing waits yet; the takers are still at it
                    continue
                assert offer.status_code == 200, offer.text
                ticket_id = offer.json()["id"]
                accepted = http.post(f"/api/v1/officer/tickets/{ticket_id}/accept", headers=headers)
                assert accepted.status_code == 200, accepted.text
                with lock:
                    served.append((username, ticket_id))
                finished = http.post(
                    f"/api/v1/officer/tickets/{ticket_id}/finish",
                    json={"outcome": "informed"},
                    headers=headers,
                )
                assert finished.status_code == 200, finished.text
            raise AssertionError(f"{username} was still serving after a minute")

    node1, node2 = cluster.nodes
    with ThreadPoolExecutor(len(OFFICERS) + 2) as pool:
        officers = [
            pool.submit(serve, name, node1 if n % 2 == 0 else node2)
            for n, name in enumerate(OFFICERS)
        ]
        takers = [pool.submit(take_tickets, node, TICKETS // 2) for node in cluster.nodes]
        for future in takers:
            future.result()
        takers_done.set()
        for future in officers:
            future.result()

    taken_ids = {str(ticket["id"]) for ticket in taken}
    served_ids = [ticket_id for _, ticket_id in served]
    assert len(taken_ids) == TICKETS
    assert len({str(ticket["number"]) for ticket in taken}) == TICKETS  # numbers are unique
    assert sorted(served_ids) == sorted(taken_ids)  # each ticket served once, none lost
    assert len({officer for officer, _ in served}) > 1  # it was a race, not a queue

    with cluster.engine.connect() as conn:
        staff_ids = {
            name: id_ for name, id_ in conn.execute(select(t.staff.c.username, t.staff.c.id))
        }
        rows = conn.execute(
            select(t.tickets.c.id, t.tickets.c.state, t.tickets.c.officer_id).where(
                t.tickets.c.id.in_(taken_ids)
            )
        ).all()
    assert {row.id: (row.state, row.officer_id) for row in rows} == {
        ticket_id: ("finished", staff_ids[officer]) for officer, ticket_id in served
    }
    events = EventLog(cluster.engine).after(last_seq, limit=10_000)
    for kind in ("ticket.taken", "ticket.offered", "ticket.called", "ticket.finished"):
        per_ticket = Counter(e.payload["ticket"]["id"] for e in events if e.type == kind)
        assert per_ticket == dict.fromkeys(taken_ids, 1), kind


def test_nodes_that_migrate_at_the_same_time_all_succeed(tmp_path: Path) -> None:
    # `loket serve` migrates on every start; without a lock, the second of two nodes
    # deployed together died on "relation already exists".
    with postgres_database("loket_migrate") as url:
        env = loket_environ({"LOKET_DATABASE_URL": url, "LOKET_DATA_DIR": str(tmp_path)})
        runs = [
            subprocess.Popen(
                [*loket_command(), "db", "upgrade"],
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            for _ in range(3)
        ]
        outputs = [run.communicate(timeout=60)[0].decode() for run in runs]
        assert [run.returncode for run in runs] == [0, 0, 0], "\n".join(outputs)
