"""Benchmark of call set-up: from the officer's "Accept" to both browsers' peer connections
`connected`, over calls on loopback in headless Chromium; and the signalling round trip
between the two participants, beside a bare Starlette relay measured in the same run.

Run with `make bench` (or `.venv/bin/python benchmarks/call_setup.py --help`). It prints
figures, it asserts nothing: see docs/benchmarks.md for what each figure means.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

# Python puts the script's folder first on sys.path, and benchmarks/queue.py would then
# shadow the standard library's `queue` (which asyncio's thread pool imports).
if Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import uvicorn
import websockets

from loket.adapters.db.migrate import upgrade
from loket.adapters.security import Argon2Hasher
from loket.bootstrap import Container, build
from loket.config import Settings
from loket.demo import load_demo_locations
from loket.domain.catalogue import CATALOGUE
from loket.domain.staff import OfficerStatus, Role
from loket.domain.tickets import Outcome, Ticket
from loket.services import calls as call_service
from loket.services import queue
from loket.services.staff import add_staff

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--allow-loopback-in-peer-connection",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
]
PASSWORD = "correct horse battery staple"
TARGET_MEDIAN_MS = 1000.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(app: Any) -> tuple[uvicorn.Server, str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.02)
    return server, f"127.0.0.1:{port}"


def loket_server(folder: Path) -> tuple[uvicorn.Server, str, Container, str]:
    from loket.web.app import create_app

    settings = Settings(data_dir=folder, demo=False)
    container = build(settings, hasher=Argon2Hasher(time_cost=1, memory_cost=1024))
    upgrade(container.engine)
    with container.queue.uow() as uow:
        for location in load_demo_locations():
            uow.locations.add(location)
        uow.commit()
    created = add_staff(
        container.staff,
        username="bench",
        display_name="Bench",
        roles=frozenset({Role.OFFICER}),
        languages=frozenset({"nl"}),
        services=frozenset(s.code for s in CATALOGUE),
        password=PASSWORD,
    )
    server, address = serve(create_app(settings, container))
    return server, address, container, created.totp_secret


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


# -- set-up in the browser --------------------------------------------------------------------


def call_setup(address: str, container: Container, secret: str, calls: int) -> list[float]:
    from playwright.sync_api import sync_playwright

    base = f"http://{address}"
    officer_id = container.staff_ids_bench  # type: ignore[attr-defined]
    timings = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        officer = browser.new_context(locale="nl-BE").new_page()
        officer.goto(f"{base}/staff/sign-in")
        officer.fill("#username", "bench")
        officer.fill("#password", PASSWORD)
        officer.click("button[type=submit]")
        officer.wait_for_url("**/staff/sign-in/code")
        officer.fill("#code", container.totp.current_code(secret, container.queue.clock.now()))
        officer.click("button[type=submit]")
        officer.wait_for_url("**/officer")
        for index in range(calls + 1):  # the first warms up both pages' caches
            ticket = take(container)
            citizen_context = browser.new_context(locale="nl-BE")
            citizen = citizen_context.new_page()
            citizen.goto(f"{base}/t/{ticket.id}/call")
            citizen.click("#start-devices")
            citizen.click("#devices-ready")
            citizen.wait_for_function(
                "() => window.loketCall?.events.some((e) => e[1] === 'call.joined')"
            )
            officer.goto(f"{base}/officer")
            officer.click("#take-next")
            officer.wait_for_selector(f"#accept-{ticket.id}")
            started = time.time() * 1000
            officer.click(f"#accept-{ticket.id}")
            connected = []
            for page in (officer, citizen):
                page.wait_for_function(
                    "() => window.loketCall?.events.some((e) => e[1] === 'pc.connected')",
                    timeout=30_000,
                )
                connected.append(
                    page.evaluate("window.loketCall.events.find((e) => e[1] === 'pc.connected')[0]")
                )
            if index > 0:
                timings.append(max(connected) - started)
            officer.click("#hang-up")
            queue.finish_ticket(container.queue, officer_id, ticket.id, Outcome.INFORMED)
            citizen_context.close()
        browser.close()
    return timings


def take(container: Container) -> Ticket:
    return queue.take_ticket(
        container.queue,
        location_slug="online",
        service_code="contact.video",
        language="nl",
        channel="home",
    )


# -- the signalling round trip ----------------------------------------------------------------


async def loket_round_trips(address: str, container: Container, count: int) -> list[float]:
    """citizen → server → officer → server → citizen, with a call.media each way."""
    officer_id = container.staff_ids_bench  # type: ignore[attr-defined]
    ticket = take(container)
    queue.offer_next(container.queue, officer_id)
    queue.accept_ticket(container.queue, officer_id, ticket.id)
    ctx = container.calls
    url = f"ws://{address}/ws/calls"

    async def open_side(token: str) -> Any:
        socket = await websockets.connect(url)
        await socket.send(json.dumps({"type": "call.join", "version": 1, "data": {"token": token}}))
        while json.loads(await socket.recv())["type"] != "call.joined":
            pass
        return socket

    officer = await open_side(call_service.issue_officer_token(ctx, officer_id, ticket.id).token)
    citizen = await open_side(call_service.issue_citizen_token(ctx, ticket.id).token)
    media = json.dumps({"type": "call.media", "version": 1, "data": {"audio": True, "video": True}})

    async def echo() -> None:
        async for raw in officer:
            if json.loads(raw)["type"] == "call.media":
                await officer.send(media)

    echoing = asyncio.create_task(echo())
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        await citizen.send(media)
        while json.loads(await citizen.recv())["type"] != "call.media":
            pass
        timings.append((time.perf_counter() - started) * 1000)
        # Under the per-socket flood limit (20 a second), as a browser's signalling is.
        await asyncio.sleep(0.06)
    echoing.cancel()
    await citizen.close()
    await officer.close()
    queue.finish_ticket(container.queue, officer_id, ticket.id, Outcome.INFORMED)
    return timings


def bare_relay_app() -> Any:
    """A bare Starlette relay: every text from one socket goes to the other sockets."""
    from starlette.applications import Starlette
    from starlette.routing import WebSocketRoute
    from starlette.websockets import WebSocket, WebSocketDisconnect

    sockets: set[WebSocket] = set()

    async def relay(websocket: WebSocket) -> None:
        await websocket.accept()
        sockets.add(websocket)
        try:
            while True:
                text = await websocket.receive_text()
                for other in list(sockets):
                    if other is not websocket:
                        await other.send_text(text)
        except WebSocketDisconnect:
            sockets.discard(websocket)

    return Starlette(routes=[WebSocketRoute("/relay", relay)])


async def bare_round_trips(address: str, count: int) -> list[float]:
    url = f"ws://{address}/relay"
    officer = await websockets.connect(url)
    citizen = await websockets.connect(url)
    media = json.dumps({"type": "call.media", "version": 1, "data": {"audio": True, "video": True}})

    async def echo() -> None:
        async for _ in officer:
            await officer.send(media)

    echoing = asyncio.create_task(echo())
    timings = []
    for _ in range(count):
        started = time.perf_counter()
        await citizen.send(media)
        await citizen.recv()
        timings.append((time.perf_counter() - started) * 1000)
        await asyncio.sleep(0.06)
    echoing.cancel()
    await citizen.close()
    await officer.close()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10)
    parser.add_argument("--round-trips", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="loket-bench-calls-") as folder:
        server, address, container, secret = loket_server(Path(folder))
        with container.queue.uow(read_only=True) as uow:
            member = uow.staff.by_username("bench")
        assert member is not None and member.id is not None
        container.staff_ids_bench = member.id  # type: ignore[attr-defined]
        queue.set_officer_status(container.queue, member.id, OfficerStatus.AVAILABLE)
        bare_server, bare_address = serve(bare_relay_app())

        loket_rtt = asyncio.run(loket_round_trips(address, container, args.round_trips))
        bare_rtt = asyncio.run(bare_round_trips(bare_address, args.round_trips))
        setup = call_setup(address, container, secret, args.calls)

        report(args, setup, loket_rtt, bare_rtt)
        server.should_exit = True
        bare_server.should_exit = True
        time.sleep(0.5)
        container.dispose()


def report(
    args: argparse.Namespace, setup: list[float], loket_rtt: list[float], bare_rtt: list[float]
) -> None:
    print(
        "Call set-up, officer's Accept -> both peers connected "
        f"({args.calls} calls, loopback, headless Chromium)"
    )
    print(
        f"  median {statistics.median(setup):7.0f} ms   p90 {percentile(setup, 0.9):7.0f} ms   "
        f"min {min(setup):5.0f} ms   max {max(setup):5.0f} ms   "
        f"(target: median < {TARGET_MEDIAN_MS:.0f} ms)"
    )
    print(f"Signalling round trip citizen -> officer -> citizen ({args.round_trips} round trips)")
    for name, values in (("loket /ws/calls", loket_rtt), ("bare Starlette relay", bare_rtt)):
        print(
            f"  {name:22s} median {statistics.median(values):6.2f} ms   "
            f"p99 {percentile(values, 0.99):6.2f} ms"
        )


if __name__ == "__main__":
    main()
