"""Benchmark of a location stream: 1,000 screens get a ticket taken, against a bare broadcast.

Run with `make bench` (or `.venv/bin/python benchmarks/fanout.py --help` for the knobs).
It prints figures, it asserts nothing: see docs/benchmarks.md for what each figure means.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import gc
import importlib.util
import itertools
import json
import os
import platform
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

# Python puts the script's folder first on sys.path, and benchmarks/queue.py would then
# shadow the standard library's `queue` (which asyncio's thread pool imports).
if Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import httpx2
import starlette
import uvicorn
import websockets
from uvicorn.protocols.websockets.auto import AutoWebSocketsProtocol
from websockets.asyncio.client import ClientConnection, connect

from loket import __version__ as loket_version

SLUG = "houthalen-helchteren"
STREAM = f"/ws/locations/{SLUG}"
TICKET = {"location": SLUG, "service": "contact.video", "language": "nl"}
# Importing FastAPI, migrating and binding take a few seconds; a loaded machine more.
READY_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
# A ticket whose event has not reached every subscriber by then counts as lost.
DELIVERY_TIMEOUT = 10.0
WARMUP_TICKETS = 3
TARGET_P99_MS = 100.0
TARGET_RATIO = 2.0
TARGET_RSS_MB = 300.0


# -- the baseline server ----------------------------------------------------------------------


def bare_app(template: dict[str, Any]) -> Any:
    """A bare Starlette app: sockets get a snapshot, then every POST is broadcast to all.

    The broadcast is `template` (a real `ticket.taken` message) with a new seq and number,
    encoded once and sent as the same text to every socket with `asyncio.gather`.
    """
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route, WebSocketRoute
    from starlette.websockets import WebSocket, WebSocketDisconnect

    sockets: set[WebSocket] = set()
    numbers = itertools.count(1)
    code = template["data"]["ticket"]["number"].split("-")[0]

    async def stream(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text('{"seq":0,"type":"snapshot","version":1,"data":{}}')
        sockets.add(websocket)
        try:
            while True:
                await websocket.receive_text()
        except WebSocketDisconnect:
            pass
        finally:
            sockets.discard(websocket)

    async def take(request: Request) -> JSONResponse:
        await request.json()
        number = next(numbers)
        message = copy.deepcopy(template)
        message["seq"] = template["seq"] + number
        message["data"]["ticket"]["number"] = f"{code}-{number:03d}"
        text = json.dumps(message, separators=(",", ":"), ensure_ascii=False)
        await asyncio.gather(*(ws.send_text(text) for ws in list(sockets)), return_exceptions=True)
        return JSONResponse({"number": message["data"]["ticket"]["number"]}, status_code=201)

    async def ready(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(
        routes=[
            WebSocketRoute(STREAM, stream),
            Route("/api/v1/tickets", take, methods=["POST"]),
            Route("/readyz", ready),
        ]
    )


def serve_bare(port: int, template_path: Path) -> None:
    """The baseline's subprocess: uvicorn as `loket serve` runs it (same defaults, same log)."""
    template = json.loads(template_path.read_text(encoding="utf-8"))
    # Configured as `loket serve` is (no per-socket compression), so only the code differs.
    uvicorn.run(
        bare_app(template),
        host="127.0.0.1",
        port=port,
        log_level="info",
        ws_per_message_deflate=False,
    )


# -- servers ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    _log: IO[bytes] = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def stream_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}{STREAM}"

    def rss_mb(self) -> float:
        """Resident memory of the server process, from /proc (no psutil needed)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS")

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        with httpx2.Client(base_url=self.url, timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    break
                with contextlib.suppress(httpx2.TransportError):
                    if client.get("/readyz").status_code == 200:
                        return
                time.sleep(0.1)
        self._log.flush()
        tail = self.log_path.read_text(errors="replace")[-3000:]
        raise RuntimeError(f"{self.name} did not become ready:\n{tail}")

    def stop(self) -> None:
        """SIGTERM for a graceful shutdown; SIGKILL if it takes too long."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


def spawn(
    name: str, command: Callable[[int], Sequence[str]], env: dict[str, str], log_path: Path
) -> Server:
    """Start `command(port)` on a free port, with `env` instead of the caller's LOKET_*."""
    port = free_port()
    environ = {key: value for key, value in os.environ.items() if not key.startswith("LOKET_")}
    environ.update(env, LOKET_HOST="127.0.0.1", LOKET_PORT=str(port), PYTHONUNBUFFERED="1")
    log = log_path.open("wb")
    # A session of its own: a Ctrl-C reaches only this script, which stops the server itself.
    process = subprocess.Popen(
        list(command(port)),
        env=environ,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return Server(name=name, port=port, process=process, log_path=log_path, _log=log)


def prepare_database(data_dir: Path) -> None:
    """Migrate and store the demo desks; the benchmarked desk is open around the clock.

    The server runs on the real clock, so with the demo's hours a run at night or at the
    weekend would only be refused tickets.
    """
    from loket.adapters.db.migrate import upgrade
    from loket.bootstrap import build
    from loket.config import Settings
    from loket.demo import load_demo_locations
    from loket.domain.locations import OpeningHours

    container = build(Settings(data_dir=data_dir, demo=False))
    try:
        upgrade(container.engine)
        with container.queue.uow() as uow:
            for location in load_demo_locations():
                if location.slug == SLUG:
                    location = replace(location, hours=OpeningHours(is_always_open=True))
                uow.locations.add(location)
            uow.commit()
    finally:
        container.dispose()


@contextlib.contextmanager
def servers_stopped_at_exit() -> Iterator[list[Server]]:
    started: list[Server] = []
    try:
        yield started
    finally:
        for server in reversed(started):
            server.stop()


# -- the subscribers --------------------------------------------------------------------------


class TimedConnection(ClientConnection):
    """Notes when bytes arrive, before the frame is parsed and a task is woken for it."""

    received_at = 0.0

    def data_received(self, data: bytes) -> None:
        self.received_at = time.perf_counter()
        super().data_received(data)


class Subscribers:
    """Many WebSocket clients of one server; records when each got each ticket's event."""

    def __init__(self, url: str, compression: str | None = "deflate") -> None:
        self.url = url
        self.compression = compression
        self.sockets: list[TimedConnection] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.arrivals: dict[str, list[float]] = defaultdict(list)
        self.complete: dict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self.first_text: str | None = None

    async def connect(self, count: int, batch: int) -> None:
        while len(self.sockets) < count:
            size = min(batch, count - len(self.sockets))
            await asyncio.gather(*(self._connect_one() for _ in range(size)))

    async def _connect_one(self) -> None:
        # No client pings and no size limit: nothing but the stream on the wire.
        ws = await connect(
            self.url,
            compression=self.compression,
            ping_interval=None,
            max_size=None,
            open_timeout=30,
            create_connection=TimedConnection,
        )
        assert isinstance(ws, TimedConnection)
        snapshot = json.loads(await asyncio.wait_for(ws.recv(), 30))
        assert snapshot["type"] == "snapshot", snapshot
        self.sockets.append(ws)
        self.tasks.append(asyncio.create_task(self._listen(ws)))

    async def _listen(self, ws: TimedConnection) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for text in ws:
                # Events are far apart: the last bytes that arrived are this message's.
                at = ws.received_at
                assert isinstance(text, str)
                if '"ticket.taken"' not in text:
                    continue  # a heartbeat
                if self.first_text is None:
                    self.first_text = text
                number = json.loads(text)["data"]["ticket"]["number"]
                arrivals = self.arrivals[number]
                arrivals.append(at)
                if len(arrivals) == len(self.sockets):
                    self.complete[number].set()

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await asyncio.wait_for(
            asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True), 10
        )


@dataclass
class Delivery:
    response_ms: float
    first_ms: float
    all_ms: float | None  # None: not every subscriber got it in time

    @property
    def spread_ms(self) -> float | None:
        return None if self.all_ms is None else self.all_ms - self.first_ms


async def take_and_wait(http: httpx2.AsyncClient, subscribers: Subscribers, url: str) -> Delivery:
    started = time.perf_counter()
    response = await http.post(url, json=TICKET)
    answered = time.perf_counter()
    if response.status_code != 201:
        raise RuntimeError(f"{url}: {response.status_code} {response.text}")
    number = response.json()["number"]
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(subscribers.complete[number].wait(), DELIVERY_TIMEOUT)
    arrivals = subscribers.arrivals.pop(number, [])
    subscribers.complete.pop(number, None)
    first = min(arrivals, default=float("nan"))
    complete = len(arrivals) == len(subscribers.sockets)
    return Delivery(
        response_ms=(answered - started) * 1000,
        first_ms=(first - started) * 1000,
        all_ms=(max(arrivals) - started) * 1000 if complete else None,
    )


# -- the run ----------------------------------------------------------------------------------


@dataclass
class Column:
    deliveries: list[Delivery] = field(default_factory=list)
    rss_idle_mb: float = 0.0
    rss_sockets_mb: float = 0.0
    connect_seconds: float = 0.0
    cpu_seconds: float = 0.0
    client_cpu_seconds: float = 0.0  # the benchmark process's, half each (taking turns)
    message_bytes: int = 0


def percentile(values: Sequence[float], share: float) -> float:
    """Linear interpolation between the closest ranks (numpy's default)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = share * (len(ordered) - 1)
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


async def run(params: argparse.Namespace, folder: Path, started: list[Server]) -> dict[str, Column]:
    columns = {"Loket": Column(), "bare Starlette": Column()}
    loket_script = Path(sys.executable).parent / "loket"
    if not loket_script.exists():
        raise RuntimeError(f"no `loket` script beside {sys.executable}; run `make` first")
    data_dir = folder / "data"
    data_dir.mkdir()
    prepare_database(data_dir)
    loket = spawn(
        "loket serve",
        lambda port: [str(loket_script), "serve"],
        {
            "LOKET_DATA_DIR": str(data_dir),
            "LOKET_DEMO": "false",
            # Every ticket comes from 127.0.0.1; the limit per address is not what is measured.
            "LOKET_TICKETS_PER_MINUTE": "1000000",
        },
        folder / "loket.log",
    )
    started.append(loket)
    await asyncio.to_thread(loket.wait_ready)

    async with httpx2.AsyncClient(timeout=DELIVERY_TIMEOUT) as http:
        # One ticket with one subscriber: a real message to copy for the baseline.
        probe = Subscribers(loket.stream_url)
        await probe.connect(1, 1)
        await take_and_wait(http, probe, f"{loket.url}/api/v1/tickets")
        await probe.close()
        if probe.first_text is None:
            raise RuntimeError("the probe subscriber got no ticket.taken event")
        columns["Loket"].message_bytes = len(probe.first_text.encode())
        template_path = folder / "message.json"
        template_path.write_text(probe.first_text, encoding="utf-8")

        bare = spawn(
            "bare",
            lambda port: [
                sys.executable,
                __file__,
                "--serve-bare",
                str(template_path),
                f"--port={port}",
            ],
            {},
            folder / "bare.log",
        )
        started.append(bare)
        await asyncio.to_thread(bare.wait_ready)
        compression = None if params.no_compression else "deflate"
        pairs = [
            (columns["Loket"], loket, Subscribers(loket.stream_url, compression)),
            (columns["bare Starlette"], bare, Subscribers(bare.stream_url, compression)),
        ]
        await asyncio.sleep(1.0)  # let both settle after start-up before reading memory
        for column, server, subscribers in pairs:
            column.rss_idle_mb = server.rss_mb()
            began = time.perf_counter()
            await subscribers.connect(params.subscribers, params.batch)
            column.connect_seconds = time.perf_counter() - began
        print(
            f"  {params.subscribers} subscribers on each server; "
            f"{params.tickets} tickets each, taking turns",
            file=sys.stderr,
        )
        for _ in range(WARMUP_TICKETS):
            for _column, server, subscribers in pairs:
                await take_and_wait(http, subscribers, f"{server.url}/api/v1/tickets")
                await asyncio.sleep(params.pause)
        # The benchmark's own collector would pause the receiving of whichever server is
        # measured at the time: the servers keep theirs, this process does not.
        gc.collect()
        gc.freeze()
        gc.disable()
        cpu_before = [server.cpu_seconds() for _c, server, _s in pairs]
        client_before = time.process_time()
        for _ in range(params.tickets):
            for column, server, subscribers in pairs:
                delivery = await take_and_wait(http, subscribers, f"{server.url}/api/v1/tickets")
                column.deliveries.append(delivery)
                # No overlap: a ticket is taken once the previous one (the other server's)
                # reached every subscriber and a pause has passed.
                await asyncio.sleep(params.pause)
        client_cpu = time.process_time() - client_before
        gc.enable()
        for (column, server, subscribers), before in zip(pairs, cpu_before, strict=True):
            column.client_cpu_seconds = client_cpu / len(pairs)
            column.cpu_seconds = server.cpu_seconds() - before
            column.rss_sockets_mb = server.rss_mb()
            if column is columns["bare Starlette"] and subscribers.first_text is not None:
                column.message_bytes = len(subscribers.first_text.encode())
        await asyncio.gather(*(subscribers.close() for _c, _s, subscribers in pairs))
    return columns


def report(
    params: argparse.Namespace, columns: dict[str, Column], loads: list[float], seconds: float
) -> str:
    loket, bare = columns["Loket"], columns["bare Starlette"]
    n = params.subscribers

    def times(column: Column, name: str) -> list[float]:
        return [getattr(d, name) for d in column.deliveries if getattr(d, name) is not None]

    def figure(column: Column, name: str, share: float) -> float:
        return percentile(times(column, name), share)

    rows: list[tuple[str, str, str, str]] = []

    def row(label: str, a: float, b: float, target: str = "", digits: int = 1) -> None:
        rows.append((label, f"{a:.{digits}f}", f"{b:.{digits}f}", target))

    p50 = (figure(loket, "all_ms", 0.5), figure(bare, "all_ms", 0.5))
    p99 = (figure(loket, "all_ms", 0.99), figure(bare, "all_ms", 0.99))
    row(f"taken→all {n} p50 ms", *p50)
    row(f"taken→all {n} p99 ms", *p99, f"< {TARGET_P99_MS:.0f}; <= {TARGET_RATIO:.0f}x bare")
    row(f"taken→all {n} max ms", figure(loket, "all_ms", 1), figure(bare, "all_ms", 1))
    row("taken→first p50 ms", figure(loket, "first_ms", 0.5), figure(bare, "first_ms", 0.5))
    row(
        f"first→last of {n} median ms",
        figure(loket, "spread_ms", 0.5),
        figure(bare, "spread_ms", 0.5),
    )
    row("POST answered p50 ms", figure(loket, "response_ms", 0.5), figure(bare, "response_ms", 0.5))
    lost = [sum(d.all_ms is None for d in c.deliveries) for c in (loket, bare)]
    rows.append(("tickets not delivered to all", str(lost[0]), str(lost[1]), "0"))
    per = [c.cpu_seconds * 1000 / max(1, len(c.deliveries)) for c in (loket, bare)]
    row("server CPU ms per ticket", *per)
    row("RSS idle MB", loket.rss_idle_mb, bare.rss_idle_mb, digits=0)
    row(
        f"RSS {n} sockets MB",
        loket.rss_sockets_mb,
        bare.rss_sockets_mb,
        f"< {TARGET_RSS_MB:.0f}",
        digits=0,
    )
    row(f"connect {n} + snapshots s", loket.connect_seconds, bare.connect_seconds)
    rows.append(("message bytes", str(loket.message_bytes), str(bare.message_bytes), ""))

    ratio = p99[0] / p99[1] if p99[1] else float("nan")
    ratio50 = p50[0] / p50[1] if p50[1] else float("nan")
    protocol = getattr(AutoWebSocketsProtocol, "__name__", "none")
    loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    lines = [
        f"fan-out benchmark  (loket {loket_version}, python {platform.python_version()}, "
        f"uvicorn {uvicorn.__version__} [{loop}, {protocol}], starlette "
        f"{starlette.__version__}, websockets {websockets.__version__} client, "
        f"{os.cpu_count()} cores)",
        f"load average (1 min): {loads[0]:.2f} at start, {loads[1]:.2f} at the end",
        f"{'':31}{'Loket':>10}{'bare Starlette':>16}   target",
    ]
    for label, a, b, target in rows:
        lines.append(f"{label:31}{a:>10}{b:>16}   {target}".rstrip())
    lines.append(
        f"{'ratio Loket/bare':31}{'p50 ' + format(ratio50, '.1f') + 'x':>10}"
        f"{'p99 ' + format(ratio, '.1f') + 'x':>16}   p99 <= {TARGET_RATIO:.0f}x"
    )
    verdicts = [
        ("p99 < 100 ms", p99[0] < TARGET_P99_MS),
        ("p99 <= 2x bare", ratio <= TARGET_RATIO),
        ("RSS < 300 MB", loket.rss_sockets_mb < TARGET_RSS_MB),
    ]
    lines.append(
        "targets: " + ", ".join(f"{name} {'met' if ok else 'MISSED'}" for name, ok in verdicts)
    )
    lines += [
        "",
        f"parameters: {n} WebSocket subscribers per server to {STREAM} (connected "
        f"{params.batch} at a time, one client process, "
        f"{'without compression' if params.no_compression else 'permessage-deflate as browsers'}"
        f"); {params.tickets} tickets per server "
        f"through POST /api/v1/tickets, taking turns, each after the previous one's delivery and "
        f"a {params.pause * 1000:.0f} ms pause, after {WARMUP_TICKETS} warm-up per server; timed "
        f"from just before the POST to the "
        f"last subscriber's receipt; benchmark process CPU "
        f"{loket.client_cpu_seconds * 1000 / max(1, len(loket.deliveries)):.0f} ms per ticket "
        f"(its collector off while timing); total {seconds:.0f} s",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=1000, help="sockets per server")
    parser.add_argument("--tickets", type=int, default=100, help="timed tickets per server")
    parser.add_argument(
        "--pause", type=float, default=0.1, help="seconds after each delivery, before the next"
    )
    parser.add_argument("--batch", type=int, default=50, help="sockets opened at once")
    parser.add_argument(
        "--no-compression",
        action="store_true",
        help="subscribers refuse permessage-deflate (browsers ask for it)",
    )
    parser.add_argument("--serve-bare", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_bare is not None:
        serve_bare(args.port, args.serve_bare)
        return 0

    # Two sockets per subscriber (one per server), plus slack for the rest of the process.
    needed = 2 * args.subscribers + 256
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        limit = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
    # A SIGTERM ends the run like a Ctrl-C: through the `finally` blocks that stop the servers.
    signal.signal(signal.SIGTERM, signal.default_int_handler)

    began = time.perf_counter()
    loads = [os.getloadavg()[0]]
    try:
        with (
            tempfile.TemporaryDirectory(prefix="loket-fanout-") as folder,
            servers_stopped_at_exit() as started,
        ):
            columns = asyncio.run(run(args, Path(folder), started))
    except KeyboardInterrupt:
        print("interrupted: servers stopped, temporary folder removed", file=sys.stderr)
        return 130
    loads.append(os.getloadavg()[0])
    print(report(args, columns, loads, time.perf_counter() - began))
    return 0


if __name__ == "__main__":
    sys.exit(main())
