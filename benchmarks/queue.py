"""Benchmark of the central queue: cycle throughput against bare SQL, and hand-out latency.

Run with `make bench` (or `.venv/bin/python benchmarks/queue.py --help` for the knobs).
It prints figures, it asserts nothing: see docs/benchmarks.md for what each figure means.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This script shares its name with the standard library's `queue`, and Python puts the
# script's folder first on sys.path: psycopg's and threading's `import queue` would load it.
if Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse
import hashlib
import itertools
import json
import os
import platform
import random
import sqlite3
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy
from sqlalchemy import Connection, Engine, bindparam, event, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from loket.adapters.db import schema as t
from loket.adapters.db.migrate import upgrade
from loket.adapters.db.uow import APPEND_LOCK
from loket.adapters.security import Argon2Hasher
from loket.bootstrap import Container, build
from loket.config import Settings
from loket.demo import load_demo_locations
from loket.domain.catalogue import CATALOGUE, ServiceKind
from loket.domain.locations import Location
from loket.domain.staff import OfficerStatus, Role
from loket.domain.tickets import Outcome, new_ticket_id, ticket_number
from loket.services import queue
from loket.services.staff import add_staff

ADMIN_URL = os.environ.get(
    "LOKET_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
# A Tuesday in January, 10:00 in Brussels and Utrecht: every demo desk is open, and stays
# open for the whole run because the clock moves only STEP per operation.
START_AT = datetime(2027, 1, 12, 9, 0, tzinfo=UTC)
STEP = timedelta(milliseconds=100)
# Password hashing is setup cost, not what is measured: argon2 at its cheapest.
FAST_HASHER = Argon2Hasher(time_cost=1, memory_cost=1024)
PASSWORD = "bench horse battery staple"
# Every service that puts a ticket in the queue (the virtual agent is a conversation).
ALL_SERVICES = tuple(sorted(s.code for s in CATALOGUE if s.kind is not ServiceKind.ASSISTANT))
LANGUAGES = ("nl", "fr", "de", "en")
# Rough mix of a Limburg back office: mostly Dutch, some French and English, little German.
LANGUAGE_WEIGHTS = {"nl": 60, "fr": 20, "en": 15, "de": 5}
# Share of hand-outs in the latency run that the officer hands back instead of serving.
HAND_BACK_SHARE = 0.25


@dataclass(frozen=True)
class Parameters:
    cycles: int
    threads: int
    threaded_cycles: int
    waiting: int
    officers: int
    decisions: int
    warmup: int
    seed: int


class BenchClock:
    """A fixed clock that the driver moves a little before each operation."""

    def __init__(self) -> None:
        self._current = START_AT
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return self._current

    def tick(self) -> datetime:
        with self._lock:
            self._current += STEP
            return self._current


# The paths whose cycles are timed, in the order of the table.
PATHS = ("service", "bare", "every_row")
# Cycles a path runs before the next path takes its turn.
ROUND = 50


@dataclass
class Results:
    rates: dict[str, float] = field(default_factory=dict)
    statements: dict[str, float] = field(default_factory=dict)
    cpu_ms: dict[str, float] = field(default_factory=dict)
    threaded_rates: dict[str, float] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    empty_decisions: int = 0
    hand_backs: int = 0
    seconds: float = 0.0


class StatementCounter:
    """Counts the SQL statements sent to the server, to explain the gap with bare SQL."""

    def __init__(self, engine: Engine) -> None:
        self.count = 0
        self._engine = engine
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: Any) -> None:
        self.count += 1

    def close(self) -> None:
        event.remove(self._engine, "before_cursor_execute", self._seen)


# -- databases ------------------------------------------------------------------------------


@contextmanager
def sqlite_database(folder: Path) -> Iterator[str]:
    yield f"sqlite:///{folder / 'bench.db'}"


@contextmanager
def postgres_database() -> Iterator[str]:
    """A database of its own for this run, created here and dropped afterwards."""
    admin = sqlalchemy.create_engine(
        ADMIN_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )
    name = f"loket_bench_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield sqlalchemy.engine.make_url(ADMIN_URL).set(database=name).render_as_string(False)
    finally:
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        except sqlalchemy.exc.OperationalError:
            pass  # never created: the server was not reachable
        admin.dispose()


def postgres_problem() -> str | None:
    """Why PostgreSQL cannot be benchmarked, or None when it can."""
    admin = sqlalchemy.create_engine(ADMIN_URL, connect_args={"connect_timeout": 3})
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except sqlalchemy.exc.OperationalError as error:
        return f"{error.__class__.__name__}: {str(error.orig).strip().splitlines()[0]}"
    finally:
        admin.dispose()
    return None


def postgres_version() -> str:
    admin = sqlalchemy.create_engine(ADMIN_URL)
    try:
        with admin.connect() as conn:
            return str(conn.execute(text("SHOW server_version")).scalar_one()).split()[0]
    finally:
        admin.dispose()


def prepare(url: str, data_dir: Path) -> tuple[Container, BenchClock, list[Location]]:
    """Migrate, seed the demo desks; the container runs on the fixed clock."""
    clock = BenchClock()
    container = build(
        Settings(data_dir=data_dir, database_url=url, demo=False),
        clock=clock,
        hasher=FAST_HASHER,
    )
    upgrade(container.engine)
    with container.queue.uow() as uow:
        for location in load_demo_locations():
            uow.locations.add(location)
        uow.commit()
        locations = uow.locations.list()
    return container, clock, locations


def add_officer(
    container: Container, username: str, languages: frozenset[str], services: frozenset[str]
) -> int:
    created = add_staff(
        container.staff,
        username=username,
        display_name=username.title(),
        roles=frozenset({Role.OFFICER}),
        languages=languages,
        services=services,
        password=PASSWORD,
    )
    assert created.member.id is not None
    queue.set_officer_status(container.queue, created.member.id, OfficerStatus.AVAILABLE)
    return created.member.id


# -- (a) throughput -------------------------------------------------------------------------


def service_cycle(container: Container, clock: BenchClock, officer_id: int) -> bool:
    """take → next → accept → finish through the real services; False if another took it."""
    ctx = container.queue
    clock.tick()
    queue.take_ticket(
        ctx,
        location_slug="houthalen-helchteren",
        service_code="contact.video",
        language="nl",
        channel="kiosk",
    )
    clock.tick()
    offered = queue.offer_next(ctx, officer_id)
    if offered is None:
        return False
    clock.tick()
    queue.accept_ticket(ctx, officer_id, offered.id)
    clock.tick()
    queue.finish_ticket(ctx, officer_id, offered.id, Outcome.INFORMED)
    return True


# The baselines' statements are built once: bare Core, as a hand-written data layer would.
BARE_INSERT = insert(t.tickets)
BARE_UPDATE = update(t.tickets).where(
    t.tickets.c.id == bindparam("ticket_id"), t.tickets.c.version == bindparam("old_version")
)
BARE_STAFF = update(t.staff).where(t.staff.c.id == bindparam("staff_id"))
BARE_EVENTS = insert(t.events)
BARE_AUDIT_HEAD = (
    select(t.audit_log.c.sequence, t.audit_log.c.entry_hash)
    .order_by(t.audit_log.c.sequence.desc())
    .limit(1)
)
BARE_AUDIT = insert(t.audit_log)
BARE_APPEND_LOCK = text("SELECT pg_advisory_xact_lock(:key)")
# Ticket numbers of the minimal path, apart from the service's (next() on it is atomic).
BARE_NUMBERS = itertools.count(100_001)


def counter_upsert(dialect: str) -> Any:
    insert_for = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert_for(t.ticket_counters)
    return statement.on_conflict_do_update(
        index_elements=["location_id", "day"],
        set_={"last_number": t.ticket_counters.c.last_number + 1},
    ).returning(t.ticket_counters.c.last_number)


class BareCycle:
    """The cycle's row work without the domain, one transaction per step like the service.

    Minimal (the issue's baseline): the ticket row only, inserted, then updated to offered,
    in_service and finished. With `every_row`, also the other rows the service writes: the
    desk's daily counter, the events (the outbox), the officer's status and the audit chain
    (read the head, append an entry), under the same PostgreSQL append lock; still no reads
    to load objects, no locks on rows, no domain.
    """

    def __init__(
        self,
        engine: Engine,
        clock: BenchClock,
        location: Location,
        officer_id: int,
        *,
        every_row: bool = False,
    ) -> None:
        assert location.id is not None
        self._engine = engine
        self._clock = clock
        self._location = location
        self._location_id = location.id
        self._officer_id = officer_id
        self._every_row = every_row
        self._is_postgres = engine.dialect.name == "postgresql"
        self._counter = counter_upsert(engine.dialect.name)

    def __call__(self) -> bool:
        ticket_id = new_ticket_id()
        at = self._clock.tick()
        with self._engine.begin() as conn:
            sequence = self._next_number(conn, at)
            row = self._new_row(ticket_id, sequence, at)
            conn.execute(BARE_INSERT, row)
            self._write_around(conn, row, at, "ticket.taken", status=None)
        steps: list[tuple[str, dict[str, Any], str | None]] = [
            ("ticket.offered", {"state": "offered", "officer_id": self._officer_id}, None),
            ("ticket.called", {"state": "in_service"}, "busy"),
            ("ticket.finished", {"state": "finished", "outcome": "informed"}, "wrap_up"),
        ]
        stamps = {"offered": "offered_at", "in_service": "accepted_at", "finished": "finished_at"}
        for version, (event_type, values, status) in enumerate(steps):
            at = self._clock.tick()
            values[stamps[values["state"]]] = at
            values.update(
                ticket_id=ticket_id,
                old_version=version,
                version=version + 1,
                changed_at=at,
                lease_expires_at=None if values["state"] == "finished" else at + STEP,
            )
            row.update(values)
            with self._engine.begin() as conn:
                conn.execute(BARE_UPDATE, values)
                self._write_around(conn, row, at, event_type, status=status)
        return True

    def _next_number(self, conn: Connection, at: datetime) -> int:
        if self._every_row:
            day = at.astimezone(ZoneInfo(self._location.time_zone)).date()
            return int(
                conn.execute(
                    self._counter,
                    {"location_id": self._location_id, "day": day, "last_number": 1},
                ).scalar_one()
            )
        return next(BARE_NUMBERS)

    def _new_row(self, ticket_id: str, sequence: int, at: datetime) -> dict[str, Any]:
        return {
            "id": ticket_id,
            "number": ticket_number(self._location.code, sequence),
            "location_id": self._location_id,
            "location_code": self._location.code,
            "service_code": "contact.video",
            "language": "nl",
            "channel": "kiosk",
            "priority": 0,
            "state": "waiting",
            "taken_at": at,
            "rank_at": at,
            "changed_at": at,
            "officer_id": None,
            "lease_expires_at": None,
            "offered_at": None,
            "accepted_at": None,
            "finished_at": None,
            "is_returned": False,
            "return_count": 0,
            "note": None,
            "outcome": None,
            "idempotency_key": None,
            "version": 0,
        }

    def _write_around(
        self, conn: Connection, row: dict[str, Any], at: datetime, event: str, status: str | None
    ) -> None:
        """The rows besides the ticket's: officer status, events, audit entry."""
        if not self._every_row:
            return
        if status is not None:
            conn.execute(
                BARE_STAFF,
                {"staff_id": self._officer_id, "status": status, "status_since_at": at},
            )
        if self._is_postgres:
            conn.execute(BARE_APPEND_LOCK, {"key": APPEND_LOCK})
        snapshot = {
            key: value.isoformat() if isinstance(value, datetime) else value
            for key, value in row.items()
            if key in SNAPSHOT_KEYS
        }
        events = [
            {
                "type": event,
                "version": 1,
                "location_id": self._location_id,
                "at": at,
                "payload": {"at": at.isoformat(), "ticket": snapshot},
            }
        ]
        if status is not None:
            events.append(
                {
                    "type": "officer.status_changed",
                    "version": 1,
                    "location_id": None,
                    "at": at,
                    "payload": {"staff_id": self._officer_id, "status": status},
                }
            )
        conn.execute(BARE_EVENTS, events)
        if status is not None:
            head = conn.execute(BARE_AUDIT_HEAD).first()
            sequence, previous = (0, "0" * 64) if head is None else (head[0], head[1])
            details = {"number": row["number"], "step": event}
            entry = json.dumps([sequence + 1, previous, row["id"], details], sort_keys=True)
            conn.execute(
                BARE_AUDIT,
                {
                    "sequence": sequence + 1,
                    "actor": f"staff:{self._officer_id}",
                    "action": "assign" if status == "busy" else "update",
                    "subject_type": "ticket",
                    "subject_id": row["id"],
                    "at": at,
                    "details": details,
                    "personal_data": False,
                    "previous_hash": previous,
                    "entry_hash": hashlib.sha256(entry.encode()).hexdigest(),
                },
            )


SNAPSHOT_KEYS = frozenset(
    {
        "id",
        "number",
        "location_id",
        "location_code",
        "service_code",
        "language",
        "priority",
        "state",
        "officer_id",
        "is_returned",
        "taken_at",
        "changed_at",
    }
)


def rate(cycle: Callable[[], bool], count: int, threads: int) -> float:
    """Completed cycles per second, `count` cycles shared by `threads` threads."""
    done = [0] * threads
    failures: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            for _ in range(count // threads):
                done[index] += cycle()
        except BaseException as error:  # a failed cycle must fail the run, not shrink it
            failures.append(error)

    started = time.perf_counter()
    if threads == 1:
        worker(0)  # in this thread, so that its CPU time can be read
    else:
        pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise failures[0]
    return sum(done) / elapsed


def measure_throughput(
    container: Container,
    clock: BenchClock,
    locations: list[Location],
    params: Parameters,
    results: Results,
) -> None:
    everything = frozenset(ALL_SERVICES)
    location = next(loc for loc in locations if loc.slug == "houthalen-helchteren")

    def paths(officer: int) -> dict[str, Callable[[], bool]]:
        return {
            "service": lambda: service_cycle(container, clock, officer),
            "bare": BareCycle(container.engine, clock, location, officer),
            "every_row": BareCycle(container.engine, clock, location, officer, every_row=True),
        }

    solo = paths(add_officer(container, "bench.solo", frozenset(LANGUAGES), everything))
    counter = StatementCounter(container.engine)
    for name, cycle in solo.items():
        rate(cycle, params.warmup, 1)
        counter.count = 0
        rate(cycle, 10, 1)
        results.statements[name] = counter.count / 10
    counter.close()

    # The paths take turns in rounds of ROUND cycles, so that a burst of other work on the
    # machine, and the tables growing, weigh on each path alike.
    rounds = max(1, params.cycles // ROUND)
    seconds = dict.fromkeys(solo, 0.0)
    cpu = dict.fromkeys(solo, 0.0)
    for _ in range(rounds):
        for name, cycle in solo.items():
            # SQLite folds its write-ahead log back into the database when the log passes
            # 1,000 pages, in whichever commit crosses the line: untimed here, each path's
            # turn starts from an empty log, so no path pays for the writes of another.
            checkpoint(container.engine)
            cpu_started = time.thread_time()
            seconds[name] += ROUND / rate(cycle, ROUND, 1)
            cpu[name] += time.thread_time() - cpu_started
    results.rates = {name: rounds * ROUND / spent for name, spent in seconds.items()}
    results.cpu_ms = {name: 1000 * spent / (rounds * ROUND) for name, spent in cpu.items()}

    if params.threads > 1:
        # Each thread is one officer; a ticket taken by one may be handed to another.
        crew = [
            add_officer(container, f"bench.crew{i}", frozenset(LANGUAGES), everything)
            for i in range(params.threads)
        ]
        crew_paths = [paths(officer) for officer in crew]
        for name in PATHS:
            results.threaded_rates[name] = rate(
                per_thread([p[name] for p in crew_paths]), params.threaded_cycles, params.threads
            )
            drain(container, clock, crew[0])


def checkpoint(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        # Outside any transaction (the engine's connections begin one at once).
        raw = engine.raw_connection()
        try:
            raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()


def per_thread(cycles: list[Callable[[], bool]]) -> Callable[[], bool]:
    """One cycle that runs, in each thread, a path of its own (its own officer)."""
    assigned: dict[int, Callable[[], bool]] = {}
    lock = threading.Lock()

    def cycle() -> bool:
        me = threading.get_ident()
        with lock:
            if me not in assigned:
                assigned[me] = cycles[len(assigned)]
        return assigned[me]()

    return cycle


def drain(container: Container, clock: BenchClock, officer_id: int) -> None:
    """Serve whatever the racing threads left waiting, so the next phase starts clean."""
    ctx = container.queue
    while (offered := queue.offer_next(ctx, officer_id)) is not None:
        clock.tick()
        queue.accept_ticket(ctx, officer_id, offered.id)
        queue.finish_ticket(ctx, officer_id, offered.id, Outcome.INFORMED)


# -- (b) hand-out latency -------------------------------------------------------------------


def random_skills(rng: random.Random) -> tuple[frozenset[str], frozenset[str]]:
    """Every officer speaks Dutch plus some of the others, and covers half or more services."""
    languages = {"nl"} | {lang for lang in ("fr", "de", "en") if rng.random() < 0.5}
    services = rng.sample(ALL_SERVICES, rng.randint(len(ALL_SERVICES) // 2, len(ALL_SERVICES)))
    return frozenset(languages), frozenset(services)


def take_random_ticket(
    container: Container, clock: BenchClock, locations: list[Location], rng: random.Random
) -> None:
    location = rng.choice(locations)
    languages = [lang for lang in location.languages if lang in LANGUAGE_WEIGHTS]
    language = rng.choices(languages, [LANGUAGE_WEIGHTS[lang] for lang in languages])[0]
    clock.tick()
    queue.take_ticket(
        container.queue,
        location_slug=location.slug,
        service_code=rng.choice(sorted(location.service_codes & set(ALL_SERVICES))),
        language=language,
        channel="kiosk",
        priority=rng.choices((0, 1, 2), (90, 8, 2))[0],
    )


def measure_latency(
    container: Container,
    clock: BenchClock,
    locations: list[Location],
    params: Parameters,
    results: Results,
) -> None:
    rng = random.Random(params.seed)
    officers = [
        add_officer(container, f"bench.officer{i:02d}", *random_skills(rng))
        for i in range(params.officers)
    ]
    open_now = [loc for loc in locations if loc.is_open_at(clock.now())]
    for _ in range(params.waiting):
        take_random_ticket(container, clock, open_now, rng)

    ctx = container.queue
    latencies: list[float] = []
    for index in range(params.warmup + params.decisions):
        officer = officers[index % len(officers)]
        clock.tick()
        started = time.perf_counter()
        offered = queue.offer_next(ctx, officer)
        elapsed = time.perf_counter() - started
        if index >= params.warmup:
            latencies.append(elapsed * 1000)
        if offered is None:
            results.empty_decisions += index >= params.warmup
            continue
        clock.tick()
        if rng.random() < HAND_BACK_SHARE:
            results.hand_backs += index >= params.warmup
            queue.transfer_ticket(ctx, officer, offered.id, to_officer_id=None)
            continue
        queue.accept_ticket(ctx, officer, offered.id)
        clock.tick()
        queue.finish_ticket(ctx, officer, offered.id, Outcome.INFORMED)
        take_random_ticket(container, clock, open_now, rng)
    results.latencies_ms = latencies


# -- driver ---------------------------------------------------------------------------------


def bench(url: str, data_dir: Path, params: Parameters) -> Results:
    results = Results()
    started = time.perf_counter()
    container, clock, locations = prepare(url, data_dir)
    try:
        measure_throughput(container, clock, locations, params, results)
        measure_latency(container, clock, locations, params, results)
    finally:
        container.dispose()
    results.seconds = time.perf_counter() - started
    return results


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


LABELS = {"service": "service", "bare": "bare SQL", "every_row": "bare SQL, every row"}


def report(
    params: Parameters, columns: dict[str, Results | str], elapsed: float, loads: list[float]
) -> str:
    pg = postgres_version() if isinstance(columns.get("PostgreSQL"), Results) else "-"
    lines = [
        f"queue benchmark  (python {platform.python_version()}, sqlalchemy "
        f"{sqlalchemy.__version__}, sqlite {sqlite3.sqlite_version}, postgresql {pg}, "
        f"{os.cpu_count()} cores)",
        # Other work on the machine moves every figure; the load says how quiet it was.
        f"load average (1 min): {loads[0]:.2f} at start, {loads[1]:.2f} at the end",
        f"{'':50}" + "".join(f"{name:>14}" for name in columns),
    ]

    def row(label: str, cell: Callable[[Results], str]) -> None:
        cells = [cell(r) if isinstance(r, Results) else "-" for r in columns.values()]
        lines.append(f"{label:50}" + "".join(f"{c:>14}" for c in cells))

    def ratio(values: dict[str, float], of: str) -> str:
        if "service" not in values or of not in values:
            return "-"
        return f"{100 * values['service'] / values[of]:.0f}%"

    for threads, key in ((1, "rates"), (params.threads, "threaded_rates")):
        if threads == 1 or params.threads > 1:
            heading = f"cycles/s, {threads} thread{'s' if threads > 1 else ''}"
            for name in PATHS:
                row(
                    f"{heading:22}{LABELS[name]}",
                    lambda r, n=name, k=key: f"{getattr(r, k).get(n, 0):.0f}",  # type: ignore[misc]
                )
                heading = ""
            row(
                f"{'':22}ratio service/bare (>= 50%)",
                lambda r, k=key: ratio(getattr(r, k), "bare"),  # type: ignore[misc]
            )
            row(
                f"{'':22}ratio service/every row",
                lambda r, k=key: ratio(getattr(r, k), "every_row"),  # type: ignore[misc]
            )
    row(
        f"{'client CPU ms/cycle':22}service/bare/every row",
        lambda r: "/".join(f"{r.cpu_ms[n]:.1f}" for n in PATHS),
    )
    row(
        f"{'SQL statements/cycle':22}service/bare/every row",
        lambda r: "/".join(f"{r.statements[n]:.0f}" for n in PATHS),
    )
    heading = "offer_next ms"
    for label, share in (("p50", 0.5), ("p95", 0.95), ("p99 (< 20)", 0.99), ("max", 1.0)):
        row(
            f"{heading:22}{label}",
            lambda r, s=share: f"{percentile(r.latencies_ms, s):.1f}",  # type: ignore[misc]
        )
        heading = ""
    row(f"{'':22}none to offer/handed back", lambda r: f"{r.empty_decisions}/{r.hand_backs}")
    row(f"{'run time s':22}setup and both parts", lambda r: f"{r.seconds:.0f}")
    for name, column in columns.items():
        if isinstance(column, str):
            lines.append(f"{name}: {column}")
    lines += [
        "",
        f"parameters: cycles take -> next -> accept -> finish, one transaction per step: "
        f"{params.cycles} per path on 1 thread (taking turns every {ROUND}, after "
        f"{params.warmup} warm-up), {params.threaded_cycles} per path on {params.threads} threads; "
        f"offer_next: {params.decisions} decisions timed (after {params.warmup} warm-up) "
        f"with {params.waiting} waiting tickets kept waiting and {params.officers} officers, "
        f"{HAND_BACK_SHARE:.0%} handed back, the rest accepted, finished and replaced; "
        f"seed {params.seed}; clock {START_AT:%Y-%m-%d %H:%M} UTC + "
        f"{STEP.total_seconds() * 1000:.0f} ms per step; total {elapsed:.0f} s",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # The defaults keep a run under about two minutes on the 2-core CI machine when it is
    # otherwise idle; PostgreSQL's share is most of it (one fsync per transaction).
    parser.add_argument("--cycles", type=int, default=300, help="cycles per path, 1 thread")
    parser.add_argument("--threads", type=int, default=4, help="threads of the racing variant")
    parser.add_argument("--threaded-cycles", type=int, default=200, help="cycles per path")
    parser.add_argument("--waiting", type=int, default=1000, help="queue depth for hand-outs")
    parser.add_argument("--officers", type=int, default=50)
    parser.add_argument("--decisions", type=int, default=1000, help="timed offer_next calls")
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--seed", type=int, default=2027)
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args(argv)
    params = Parameters(
        cycles=args.cycles,
        threads=args.threads,
        threaded_cycles=args.threaded_cycles,
        waiting=args.waiting,
        officers=args.officers,
        decisions=args.decisions,
        warmup=args.warmup,
        seed=args.seed,
    )
    started = time.perf_counter()
    loads = [os.getloadavg()[0]]
    columns: dict[str, Results | str] = {}
    with tempfile.TemporaryDirectory(prefix="loket-bench-") as folder:
        data_dir = Path(folder)
        with sqlite_database(data_dir) as url:
            columns["SQLite"] = bench(url, data_dir, params)
        problem = None if args.sqlite_only else postgres_problem()
        if args.sqlite_only:
            columns["PostgreSQL"] = "not benchmarked (--sqlite-only)"
        elif problem is not None:
            columns["PostgreSQL"] = f"NOT BENCHMARKED, unreachable at {ADMIN_URL}: {problem}"
            print(f"PostgreSQL: {columns['PostgreSQL']}; SQLite only.", file=sys.stderr)
        else:
            with postgres_database() as url:
                columns["PostgreSQL"] = bench(url, data_dir, params)
    loads.append(os.getloadavg()[0])
    print(report(params, columns, time.perf_counter() - started, loads))
    return 0


if __name__ == "__main__":
    sys.exit(main())
