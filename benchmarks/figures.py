"""Benchmark of the supervisor's figures over a year of history (500,000 contacts).

For SQLite and PostgreSQL: bulk-load a year of closed tickets (and survey answers), build
the roll-up, then time a dashboard load (services.figures.figures: the roll-up plus the
live part, every marginal, satisfaction) next to one bare SQL aggregate over the tickets
table for the same range. Prints p50 and p90 of each; asserts nothing. See docs/benchmarks.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

if Path(sys.path[0]).resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)  # benchmarks/queue.py would shadow the standard library's `queue`

import argparse
import os
import random
import secrets
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy
from sqlalchemy import Connection, Table, case, func, select, text

from loket.adapters.db import schema as t
from loket.adapters.db.migrate import upgrade
from loket.bootstrap import build
from loket.config import Settings
from loket.demo import load_demo_locations
from loket.services import figures as figure_service

ADMIN_URL = os.environ.get(
    "LOKET_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
NOW = datetime(2027, 12, 31, 17, 0, tzinfo=UTC)
FIRST_DAY = date(2027, 1, 1)
SERVICES = [
    ("info.general", ["kiosk", "home", "assistant"], 30),
    ("contact.video", ["kiosk", "home", "assistant"], 25),
    ("contact.callback", ["phone", "home"], 15),
    ("report.burglary", ["kiosk", "home"], 10),
    ("report.threat", ["kiosk", "home"], 5),
    ("tip.nuisance", ["kiosk", "home"], 15),
]
OUTCOMES = ["listened", "informed", "referred", "mediated", "report_taken"]


class FixedClock:
    def now(self) -> datetime:
        return NOW


def generate(location_rows: list[tuple[int, str, str]], count: int, seed: int) -> Iterator[dict]:
    """`count` closed tickets spread over the year, in opening hours of each desk."""
    rng = random.Random(seed)
    days = (NOW.date() - FIRST_DAY).days + 1
    weights = [w for _, _, w in SERVICES]
    zones = {code: ZoneInfo(zone) for _, code, zone in location_rows}
    for index in range(count):
        location_id, code, _ = rng.choice(location_rows)
        service, channels, _ = rng.choices(SERVICES, weights)[0]
        day = FIRST_DAY + timedelta(days=rng.randrange(days))
        local = datetime(day.year, day.month, day.day, rng.randrange(8, 20), rng.randrange(60),
                         rng.randrange(60), tzinfo=zones[code])  # fmt: skip
        taken = local.astimezone(UTC)
        wait = timedelta(seconds=rng.expovariate(1 / 360))
        fate = rng.random()
        accepted = finished = None
        outcome = None
        if fate < 0.1:
            state, finished = "cancelled", taken + wait
        else:
            accepted = taken + wait
            finished = accepted + timedelta(seconds=rng.expovariate(1 / 540))
            if fate < 0.15:
                state, outcome = "no_show", "no_show"
            else:
                state, outcome = "finished", rng.choice(OUTCOMES)
        yield {
            "id": f"{index:016x}{secrets.token_hex(8)}",
            "number": f"{code}-{index % 1000:03d}",
            "location_id": location_id,
            "location_code": code,
            "service_code": service,
            "language": "nl",
            "channel": rng.choice(channels),
            "priority": 0,
            "state": state,
            "taken_at": taken,
            "rank_at": taken,
            "changed_at": finished,
            "officer_id": None,
            "lease_expires_at": None,
            "offered_at": accepted,
            "accepted_at": accepted,
            "finished_at": finished,
            "is_returned": False,
            "return_count": 0,
            "note": None,
            "outcome": outcome,
            "idempotency_key": None,
            "version": 3,
        }


def answers(location_rows: list[tuple[int, str, str]], count: int, seed: int) -> Iterator[dict]:
    rng = random.Random(seed)
    days = (NOW.date() - FIRST_DAY).days + 1
    for _ in range(count):
        location_id = rng.choice(location_rows)[0]
        service = rng.choice(SERVICES)[0]
        yield {
            "id": secrets.token_hex(16),
            "answered_on": FIRST_DAY + timedelta(days=rng.randrange(days)),
            "location_id": location_id,
            "service_code": service,
            "channel": rng.choice(["kiosk", "home", "video", "callback"]),
            "outcome": rng.choice(OUTCOMES),
            "language": "nl",
            "s1": rng.randint(1, 5), "s2": rng.randint(0, 1), "s3": rng.randint(1, 5),
            "s4": rng.randint(0, 1), "s5": None, "s6": None, "comment": None,
        }  # fmt: skip


def chunks(rows: Iterator[dict], size: int) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def bulk_insert(conn: Connection, table: Table, rows: Iterator[dict]) -> None:
    """Rows straight through the driver's executemany: setup, not what is measured."""
    sqlite = conn.dialect.name == "sqlite"
    mark = "?" if sqlite else "%s"
    names = [column.name for column in table.columns]
    statement = (
        f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join([mark] * len(names))})"
    )

    def plain(value: object) -> object:
        if sqlite and isinstance(value, datetime):  # as SQLAlchemy stores it: naive UTC
            return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        if sqlite and isinstance(value, date):
            return value.isoformat()
        return value

    for batch in chunks(rows, 20_000):
        conn.exec_driver_sql(statement, [tuple(plain(row[n]) for n in names) for row in batch])


def timed(action: Callable[[], object], runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.9) - 1)]


def bench(url: str, folder: Path, contacts: int, runs: int) -> dict[str, object]:
    settings = Settings(data_dir=folder, database_url=url, demo=False)
    container = build(settings, clock=FixedClock())
    try:
        upgrade(container.engine)
        with container.queue.uow() as uow:
            for location in load_demo_locations():
                uow.locations.add(location)
            uow.commit()
            rows = [(loc.id, loc.code, loc.time_zone) for loc in uow.locations.list()]
        started = time.perf_counter()
        with container.engine.begin() as conn:
            bulk_insert(conn, t.tickets, generate(rows, contacts, 1))
            bulk_insert(conn, t.survey_answers, answers(rows, contacts // 12, 2))
            if conn.dialect.name == "postgresql":
                conn.execute(text("ANALYZE"))
        load_s = time.perf_counter() - started
        started = time.perf_counter()
        rolled = figure_service.rebuild(container.figures)
        rollup_s = time.perf_counter() - started
        with container.engine.connect() as conn:
            figure_rows = conn.execute(select(func.count()).select_from(t.contact_figures)).scalar()
        ctx = container.figures
        last = NOW.date()
        ranges = {"28 days": (last - timedelta(days=27), last), "year": (FIRST_DAY, last)}
        results: dict[str, object] = {
            "load_s": load_s, "rollup_s": rollup_s, "rolled": rolled, "figure_rows": figure_rows,
        }  # fmt: skip
        c = t.tickets.c
        for name, (first, end) in ranges.items():
            begin = datetime(first.year, first.month, first.day, tzinfo=UTC)
            until = datetime(end.year, end.month, end.day, tzinfo=UTC) + timedelta(days=1)
            bare = (
                select(
                    c.location_id,
                    func.count(),
                    func.sum(case((c.accepted_at.is_not(None), 1), else_=0)),
                    func.sum(case((c.state == "no_show", 1), else_=0)),
                )
                .where(c.taken_at >= begin, c.taken_at < until)
                .group_by(c.location_id)
            )

            def dashboard(first: date = first, end: date = end) -> object:
                return figure_service.figures(ctx, first, end)

            def bare_sql(query: object = bare) -> object:
                with container.engine.connect() as conn:
                    return conn.execute(query).all()  # type: ignore[call-overload]

            dashboard()  # warm caches and the connection pool once
            bare_sql()
            results[name] = (timed(dashboard, runs), timed(bare_sql, runs))
            check = dashboard()
            results[f"{name} contacts"] = check.total.contacts  # type: ignore[attr-defined]
        return results
    finally:
        container.dispose()


@contextmanager
def postgres_database() -> Iterator[str | None]:
    admin = sqlalchemy.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"loket_bench_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except sqlalchemy.exc.OperationalError as error:
        print(f"PostgreSQL is not reachable ({type(error).__name__}): SQLite only", file=sys.stderr)
        admin.dispose()
        yield None
        return
    try:
        yield sqlalchemy.engine.make_url(ADMIN_URL).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--contacts", type=int, default=500_000)
    parser.add_argument("--runs", type=int, default=15, help="dashboard loads timed per range")
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args()
    print(f"Figures over one year: {args.contacts:,} contacts, {args.runs} loads per range")
    print("target: dashboard p50 < 500 ms\n")
    found: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as folder:
        found["SQLite"] = bench(f"sqlite:///{folder}/bench.db", Path(folder), args.contacts,
                                args.runs)  # fmt: skip
    if not args.sqlite_only:
        with postgres_database() as url, tempfile.TemporaryDirectory() as folder:
            if url is not None:
                found["PostgreSQL"] = bench(url, Path(folder), args.contacts, args.runs)
    header = f"{'database':<11} {'range':<8} {'dashboard p50/p90 ms':>22} {'bare SQL p50/p90 ms':>21} {'contacts':>9}"  # noqa: E501
    print(header)
    print("-" * len(header))
    for database, results in found.items():
        for name in ("28 days", "year"):
            (dash50, dash90), (bare50, bare90) = results[name]  # type: ignore[misc]
            count = results[name + " contacts"]
            print(f"{database:<11} {name:<8} {dash50:>11.1f} / {dash90:<8.1f} "
                  f"{bare50:>10.1f} / {bare90:<8.1f} {count:>9,}")  # fmt: skip
    print()
    for database, results in found.items():
        print(f"{database}: bulk load {results['load_s']:.1f} s, roll-up of "
              f"{results['rolled']:,} contacts into {results['figure_rows']:,} rows "
              f"{results['rollup_s']:.1f} s")  # fmt: skip


if __name__ == "__main__":
    main()
