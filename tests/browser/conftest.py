"""Browser tests: a real server per test, driven by headless Debian Chromium via Playwright."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from loket.adapters.db.migrate import upgrade
from loket.bootstrap import Container, build
from loket.config import Settings
from loket.domain.staff import OfficerStatus, Role
from loket.services.queue import set_officer_status
from loket.services.staff import add_staff
from tests.conftest import (
    ALL_SERVICES,
    FAST_HASHER,
    PASSWORD,
    seed_locations,
    unavailable,
    unused_code,
)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    # Calls between two pages of one machine: candidates on loopback, real addresses shown.
    "--allow-loopback-in-peer-connection",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
]
# A Tuesday, 10:00 in Brussels and Utrecht: every demo desk is open.
OPEN_MOMENT = datetime(2027, 1, 12, 9, 0, tzinfo=UTC)
# The same Tuesday at 03:00: only the 24/7 desks (Genk politiehuis, online) are open.
NIGHT_MOMENT = datetime(2027, 1, 12, 2, 0, tzinfo=UTC)

# The back office every browser test starts with: username -> (roles, languages).
STAFF = {
    "an": (frozenset({Role.OFFICER}), frozenset({"nl", "en", "fr", "de"})),
    "els": (frozenset({Role.SUPERVISOR}), frozenset({"nl", "en", "fr", "de"})),
    "tom": (frozenset({Role.HOST}), frozenset({"nl"})),
    "admin": (frozenset({Role.ADMINISTRATOR}), frozenset({"nl", "en"})),
    "lina": (frozenset({Role.INTERPRETER}), frozenset({"nl", "ar"})),
}


class ShiftedClock:
    """Real time that runs from a chosen moment, so leases and timeouts still tick."""

    def __init__(self, start: datetime) -> None:
        self.set(start)

    def set(self, moment: datetime) -> None:
        self._offset = moment - datetime.now(UTC)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def advance(self, **delta: float) -> None:
        self._offset += timedelta(**delta)


@dataclass
class LiveServer:
    url: str
    container: Container
    clock: ShiftedClock
    totp_secrets: dict[str, str] = field(default_factory=dict)
    staff_ids: dict[str, int] = field(default_factory=dict)
    # The uvicorn server itself, so a test can stop it (`server.should_exit = True`).
    server: Any = None

    def code(self, username: str) -> str:
        return unused_code(self.container, self.totp_secrets[username], username)


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A database with the demo desks and the browser-test staff, made once per run."""
    folder = tmp_path_factory.mktemp("browser-template")
    settings = Settings(data_dir=folder, demo=False)
    container = build(settings, clock=ShiftedClock(OPEN_MOMENT), hasher=FAST_HASHER)
    upgrade(container.engine)
    seed_locations(container)
    secrets: dict[str, str] = {}
    for username, (roles, languages) in STAFF.items():
        created = add_staff(
            container.staff,
            username=username,
            display_name=username.title(),
            roles=roles,
            languages=languages,
            services=ALL_SERVICES,
            password=PASSWORD,
            ui_language="nl",
        )
        secrets[username] = created.totp_secret
    container.dispose()
    return folder / "loket.db", secrets


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def live_server(
    tmp_path: Path, seeded_template: tuple[Path, dict[str, str]]
) -> Iterator[LiveServer]:
    """A real uvicorn server on its own copy of the seeded database, in a thread."""
    from loket.web.app import create_app

    template, secrets = seeded_template
    shutil.copy(template, tmp_path / "loket.db")
    port = _free_port()
    settings = Settings(
        data_dir=tmp_path, demo=False, host="127.0.0.1", port=port, sweep_seconds=0.5,
        kiosk_idle_seconds=90, oidc_test_provider=True,
    )  # fmt: skip
    clock = ShiftedClock(OPEN_MOMENT)
    container = build(settings, clock=clock, hasher=FAST_HASHER)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, container), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    live = LiveServer(
        url=f"http://127.0.0.1:{port}", container=container, clock=clock, server=server
    )
    live.totp_secrets.update(secrets)
    with container.queue.uow(read_only=True) as uow:
        for member in uow.staff.list():
            assert member.id is not None
            live.staff_ids[member.username] = member.id
    yield live
    server.should_exit = True
    thread.join(timeout=10)
    container.dispose()


def verify_online(page: Any, person: str = "jansen") -> None:
    """On the identification page: log in at the built-in TEST provider as a fictional person
    and come back to the check page (the reports that need a verified identity)."""
    page.click("#verify-online")
    page.wait_for_url("**/oidc-test/authorize?**")
    page.check(f"#person-{person}")
    page.click("#test-login")
    page.wait_for_url("**/report/check")


def make_officer_available(live: LiveServer, username: str) -> None:
    set_officer_status(live.container.queue, live.staff_ids[username], OfficerStatus.AVAILABLE)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        unavailable(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS
        )
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    created = browser.new_context(locale="nl-BE", viewport={"width": 1280, "height": 900})
    yield created
    created.close()


@pytest.fixture
def page(context: Any) -> Any:
    return context.new_page()


def sign_in(page: Any, live: LiveServer, username: str) -> None:
    """Sign in through the real pages: password, then the authenticator code."""
    page.goto(f"{live.url}/staff/sign-in")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/staff/sign-in/code")
    page.fill("#code", live.code(username))
    page.click("button[type=submit]")
    page.wait_for_load_state("load")


def assert_accessible(page: Any) -> None:
    """axe-core finds no serious or critical WCAG 2.1 A/AA violation on the page."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(
        page,
        options={
            "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}
        },
    )
    violations = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]
    assert violations == [], violations
