"""The report pages under stress, on SQLite and PostgreSQL: a restart of the service in the
middle of a draft loses nothing (a new container and app on the same database and data
folder, the same browser cookie), and two sends at once make one report and one statement."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx2 as httpx
import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from loket.adapters.db import schema as t
from loket.bootstrap import Container, build
from loket.config import Settings
from loket.web.app import create_app
from tests.conftest import FAST_HASHER, FakeClock, World
from tests.identity import verify_online
from tests.integration.test_report_pages import BASE, answer, csrf, start
from tests.report_answers import PNG


def count(container: Container, table: object) -> int:
    with container.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


class Service:
    """The service as a browser sees it: restartable, with the browser's cookies kept."""

    def __init__(self, settings: Settings, clock: FakeClock, first: Container) -> None:
        self.settings = settings
        self.clock = clock
        self.container = first
        self.cookies = httpx.Cookies()

    @contextmanager
    def client(self) -> Iterator[TestClient]:
        app = create_app(container=self.container)
        with TestClient(app, base_url=BASE, headers={"Accept-Language": "en"}) as client:
            client.cookies = self.cookies  # the setter copies: taken back below
            yield client
            self.cookies = client.cookies

    def restart(self) -> None:
        self.container.dispose()
        self.container = build(self.settings, clock=self.clock, hasher=FAST_HASHER)


@pytest.fixture
def service(world: World, settings: Settings, clock: FakeClock) -> Iterator[Service]:
    started = Service(settings, clock, world.container)
    yield started
    if started.container is not world.container:
        started.container.dispose()  # the first one is the world's, disposed by its fixture


def only_draft(container: Container) -> str:
    with container.engine.connect() as conn:
        return str(conn.execute(select(t.report_drafts.c.id)).scalar_one())


def test_a_restart_in_the_middle_of_a_draft_loses_nothing(service: Service) -> None:
    with service.client() as browser:
        start(browser, "", "report.vandalism")
        answer(browser, "/report/q/target", {"value": "car"})
        answer(browser, "/report/q/when", {"value": "2027-01-10"})
        answer(browser, "/report/q/where", {"street": "Markt 1", "city": "Peer"})
    service.restart()
    with service.client() as browser:
        # The draft opens where the citizen was, with every answer given before the restart.
        assert browser.get("/report", follow_redirects=False).headers["location"] == (
            "/report/q/damage"
        )
        assert 'value="Markt 1"' in browser.get("/report/q/where").text
        answer(browser, "/report/q/damage", {"value": "Mirror broken off"})
        answer(browser, "/report/q/cost", {"value": "150"})
        answer(browser, "/report/q/perpetrator_known", {"value": "no"})
        answer(browser, "/report/q/violence", {"value": "no"})
        uploaded = answer(
            browser, "/report/q/photo", {}, files={"file": ("car.png", PNG, "image/png")}
        )
        # Vandalism needs an identity verified online: asked for before the check page.
        assert uploaded.headers["location"] == "/report/identify"
    verify_online(service.container, only_draft(service.container))
    service.restart()
    with service.client() as browser:
        check = browser.get("/report/check")
        assert check.status_code == 200
        for shown in ("Mirror broken off", "€ 150.00", "car.png", "Markt 1"):
            assert shown in check.text
        sent = browser.post(
            "/report/submit",
            data={"csrf_token": csrf(check.text), "confirm": "yes", "full_name": "Anna de Vries"},
            follow_redirects=False,
        )
        assert sent.headers["location"] == "/report/done"
    service.restart()
    with service.client() as browser:
        done = browser.get("/report/done")
        assert re.search(r'id="reference">AG-[2-9A-Z]{8}<', done.text)
    draft_id = only_draft(service.container)
    assert count(service.container, t.reports) == 1
    assert count(service.container, t.statements) == 1
    with service.container.reports.uow() as uow:
        assert uow.reports.file(draft_id, "photo") == PNG  # sealed before, opened after


def test_two_sends_at_once_make_one_report_and_one_statement(world: World) -> None:
    app = create_app(container=world.container)
    with TestClient(app, base_url=BASE, headers={"Accept-Language": "en"}) as browser:
        start(browser, "", "report.vandalism")
        for question, data in [
            ("target", {"value": "car"}),
            ("when", {"value": "2027-01-10"}),
            ("where", {"street": "Markt 1", "city": "Peer"}),
            ("damage", {"value": "Mirror broken off"}),
            ("cost", {}),
            ("perpetrator_known", {"value": "no"}),
            ("violence", {"value": "no"}),
            ("photo", {}),
        ]:
            assert answer(browser, f"/report/q/{question}", data).status_code == 303
        verify_online(world.container, only_draft(world.container))
        check = browser.get("/report/check").text
        form = {"csrf_token": csrf(check), "confirm": "yes", "full_name": "Anna de Vries"}
        together = threading.Barrier(3)
        answers: list[httpx.Response] = []

        def send() -> None:
            together.wait()
            answers.append(browser.post("/report/submit", data=form, follow_redirects=False))

        # Three clicks of an impatient citizen: each request runs in its own worker thread.
        clicks = [threading.Thread(target=send) for _ in range(3)]
        for click in clicks:
            click.start()
        for click in clicks:
            click.join(timeout=30)
        assert [a.headers.get("location") for a in answers] == ["/report/done"] * 3
        reference = re.search(r'id="reference">([^<]+)<', browser.get("/report/done").text)
    assert reference is not None
    assert count(world.container, t.reports) == 1
    assert count(world.container, t.statements) == 1
    a = t.audit_log.c
    with world.container.engine.connect() as conn:
        created = conn.execute(
            select(func.count()).where(a.action == "create", a.subject_type == "report")
        ).scalar_one()
    assert created == 1
