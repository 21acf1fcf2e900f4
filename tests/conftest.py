"""Shared fixtures: a fixed clock, real databases (SQLite, PostgreSQL), the app and staff."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import pytest
import sqlalchemy
from sqlalchemy import select, text

from loket.adapters.db.engine import make_engine
from loket.adapters.db.migrate import upgrade
from loket.adapters.db.schema import metadata
from loket.adapters.db.schema import staff as staff_table
from loket.adapters.security import Argon2Hasher
from loket.bootstrap import Container, build
from loket.config import Settings
from loket.demo import load_demo_locations
from loket.domain.catalogue import CATALOGUE
from loket.domain.staff import OfficerStatus, Role
from loket.services.staff import add_staff

POSTGRES_URL = os.environ.get(
    "LOKET_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("LOKET_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
PASSWORD = "correct horse battery staple"
ALL_SERVICES = frozenset(s.code for s in CATALOGUE)
# A Tuesday in January, 10:00 in Brussels: every demo desk is open.
OPEN_HOURS = datetime(2027, 1, 12, 9, 0, tzinfo=UTC)


@dataclass
class FakeClock:
    """A clock that moves only when a test moves it."""

    current: datetime = OPEN_HOURS

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


def unavailable(reason: str) -> None:
    """Skip with the reason on a laptop without the server; in CI nothing may skip."""
    if IN_CI:
        pytest.fail(f"{reason} (CI must have it)")
    pytest.skip(reason)


# -- databases ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "loket.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of its own for this test run, created and dropped here."""
    admin = sqlalchemy.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"loket_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except sqlalchemy.exc.OperationalError as error:
        admin.dispose()
        unavailable(f"PostgreSQL is not reachable at {POSTGRES_URL}: {error.__class__.__name__}")
    url = sqlalchemy.engine.make_url(POSTGRES_URL).set(database=name).render_as_string(False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate(url: str) -> None:
    engine = sqlalchemy.create_engine(url)
    names = ", ".join(f'"{table.name}"' for table in reversed(metadata.sorted_tables))
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """Each test that asks for it runs twice: on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "loket.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    _truncate(url)
    return url


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


# Cheap hashing in tests; production keeps argon2id's defaults (see adapters/security.py).
FAST_HASHER = Argon2Hasher(time_cost=1, memory_cost=1024)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path, database_url=database_url, demo=False, sweep_seconds=0.2)


@pytest.fixture
def container(settings: Settings, clock: FakeClock) -> Iterator[Container]:
    built = build(settings, clock=clock, hasher=FAST_HASHER)
    yield built
    built.dispose()


# -- data -----------------------------------------------------------------------------------


@dataclass
class World:
    """The demo desks and a back office, stored; staff logins for the API."""

    container: Container
    staff_ids: dict[str, int] = field(default_factory=dict)
    totp_secrets: dict[str, str] = field(default_factory=dict)

    def code(self, username: str) -> str:
        return unused_code(self.container, self.totp_secrets[username], username)


def next_code_step(secret: str, now: datetime, last_step: int | None) -> int:
    """The time step of the code a person would type: the current one or, when that one was
    used already (a code signs in once), the next, which the service accepts as from a phone
    running ahead. Beyond that a test must move its clock on, as a person would wait."""
    current = pyotp.TOTP(secret).timecode(now)
    step = current if last_step is None else max(current, last_step + 1)
    assert step <= current + 1, "a third sign-in within 30 seconds: move the clock on"
    return step


def unused_code(container: Container, secret: str, username: str) -> str:
    """The code for an account's next sign-in (see `next_code_step`), at the container's clock."""
    with container.engine.connect() as conn:
        last_step = conn.execute(
            select(staff_table.c.totp_last_step).where(staff_table.c.username == username)
        ).scalar()
    step = next_code_step(secret, container.queue.clock.now(), last_step)
    return pyotp.TOTP(secret).generate_otp(step)


def seed_locations(container: Container) -> None:
    with container.queue.uow() as uow:
        for location in load_demo_locations():
            uow.locations.add(location)
        uow.commit()


def add_officer(
    world: World,
    username: str,
    *,
    languages: frozenset[str] = frozenset({"nl", "en", "fr", "de"}),
    roles: frozenset[Role] = frozenset({Role.OFFICER}),
    status: OfficerStatus | None = OfficerStatus.AVAILABLE,
) -> int:
    from loket.services.queue import set_officer_status

    created = add_staff(
        world.container.staff,
        username=username,
        display_name=username.title(),
        roles=roles,
        languages=languages,
        services=ALL_SERVICES,
        password=PASSWORD,
    )
    assert created.member.id is not None
    world.staff_ids[username] = created.member.id
    world.totp_secrets[username] = created.totp_secret
    if status is not None and created.member.can_serve:
        set_officer_status(world.container.queue, created.member.id, status)
    return created.member.id


@pytest.fixture
def world(container: Container) -> World:
    seed_locations(container)
    return World(container=container)
