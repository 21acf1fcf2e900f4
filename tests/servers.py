"""Real `loket serve` processes for integration tests: start on a free port, wait, stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import httpx2
import pyotp
import sqlalchemy
from sqlalchemy import text

from loket.adapters.db.migrate import upgrade
from loket.bootstrap import build
from loket.config import Settings
from loket.domain.staff import Role
from tests.conftest import (
    FAST_HASHER,
    PASSWORD,
    POSTGRES_URL,
    World,
    add_officer,
    next_code_step,
    seed_locations,
    unavailable,
)

# The last code step each login used, across the servers of a run: a code signs in once.
_used_steps: dict[str, int] = {}

# Importing FastAPI, migrating and binding take a second or two; a loaded CI machine more.
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0


def loket_command() -> list[str]:
    """The `loket` console script of the interpreter running the tests (there is no __main__)."""
    script = Path(sys.executable).parent / "loket"
    if not script.exists():
        raise RuntimeError(f"no `loket` script beside {sys.executable}; install the package")
    return [str(script)]


def loket_environ(env: Mapping[str, str]) -> dict[str, str]:
    """This environment without the developer's LOKET_* settings, plus `env`."""
    environ = {key: value for key, value in os.environ.items() if not key.startswith("LOKET_")}
    environ.update(env)
    return environ


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    """One running `loket serve`; its output goes to `log_path` for failure messages."""

    port: int
    log_path: Path
    process: subprocess.Popen[bytes]
    _log: IO[bytes] = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ws_url(self, path: str) -> str:
        return f"ws://127.0.0.1:{self.port}{path}"

    def output(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def client(self, **options: Any) -> httpx2.Client:
        return httpx2.Client(base_url=self.url, timeout=options.pop("timeout", 10.0), **options)

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a power cut of the node."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self._log.close()

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


def start_server(env: Mapping[str, str], log_path: Path, *, attempts: int = 3) -> Server:
    """Start `loket serve` with `env` (LOKET_* settings) and return once /readyz says 200.

    The port is free when chosen but may be taken before the server binds it; then the
    server exits at once and another port is tried.
    """
    for attempt in range(attempts):
        server = _spawn(env, log_path.with_suffix(f".{attempt}{log_path.suffix or '.log'}"))
        if _wait_ready(server):
            return server
        server.stop()
        output = server.output()
        if "address already in use" not in output.lower():
            raise RuntimeError(f"loket serve did not become ready:\n{output}")
    raise RuntimeError(f"loket serve found no free port in {attempts} attempts")


@contextmanager
def running_server(env: Mapping[str, str], log_path: Path) -> Iterator[Server]:
    server = start_server(env, log_path)
    try:
        yield server
    finally:
        server.stop()


def _spawn(env: Mapping[str, str], log_path: Path) -> Server:
    port = free_port()
    environ = loket_environ(
        {"LOKET_HOST": "127.0.0.1", "LOKET_PORT": str(port), "PYTHONUNBUFFERED": "1", **env}
    )
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = log_path.open("wb")
    process = subprocess.Popen(
        [*loket_command(), "serve"],
        env=environ,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return Server(port=port, log_path=log_path, process=process, _log=log)


def _wait_ready(server: Server) -> bool:
    deadline = time.monotonic() + READY_TIMEOUT
    with httpx2.Client(base_url=server.url, timeout=2.0) as client:
        while time.monotonic() < deadline:
            if server.process.poll() is not None:
                return False
            try:
                if client.get("/readyz").status_code == 200:
                    return True
            except httpx2.TransportError:
                pass  # not listening yet
            time.sleep(0.1)
    return False


# -- data and sign-in -----------------------------------------------------------------------


@dataclass(frozen=True)
class Login:
    username: str
    password: str
    totp_secret: str


def prepare_database(
    database_url: str,
    data_dir: Path,
    officers: Iterable[str] = (),
    *,
    staff: Mapping[str, frozenset[Role]] | None = None,
) -> dict[str, Login]:
    """Migrate, store the demo desks, add available officers and other `staff` by role.

    Runs before any server starts, with the real clock as the servers have it. Hashing is
    cheap here; the servers verify these hashes with whatever cost they were made with.
    """
    settings = Settings(data_dir=data_dir, database_url=database_url, demo=False)
    container = build(settings, hasher=FAST_HASHER)
    try:
        upgrade(container.engine)
        seed_locations(container)
        world = World(container=container)
        for username in officers:
            add_officer(world, username)
        for username, roles in (staff or {}).items():
            add_officer(world, username, roles=roles, status=None)
        return {name: Login(name, PASSWORD, secret) for name, secret in world.totp_secrets.items()}
    finally:
        container.dispose()


def sign_in(client: httpx2.Client, login: Login) -> str:
    """Sign in over HTTP with password and the current TOTP code; returns the bearer token."""
    step = next_code_step(login.totp_secret, datetime.now(UTC), _used_steps.get(login.totp_secret))
    _used_steps[login.totp_secret] = step
    code = pyotp.TOTP(login.totp_secret).generate_otp(step)
    response = client.post(
        "/api/v1/auth/token",
        json={"username": login.username, "password": login.password, "code": code},
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


# -- a PostgreSQL database of one's own -----------------------------------------------------


@contextmanager
def postgres_database(prefix: str = "loket_srv") -> Iterator[str]:
    """A fresh, empty PostgreSQL database for a group of server tests; dropped afterwards."""
    admin = sqlalchemy.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except sqlalchemy.exc.OperationalError as error:
        admin.dispose()
        unavailable(f"PostgreSQL is not reachable at {POSTGRES_URL}: {error.__class__.__name__}")
    try:
        yield sqlalchemy.engine.make_url(POSTGRES_URL).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
