"""The service monitor's pages over HTTP, on SQLite and PostgreSQL: the survey after a contact,
the supervisor's figures, the exports and /metrics."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import pyarrow.parquet as pq
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select
from starlette.testclient import TestClient

from loket.adapters.db import schema as t
from loket.domain.staff import Role
from loket.domain.tickets import Outcome
from loket.services import figures as figure_service
from loket.services import queue
from loket.web.app import create_app
from loket.web.pages.figures import EXPORT_COLUMNS
from tests.conftest import FakeClock, World, add_officer
from tests.integration.test_help import csrf_of, sign_in
from tests.integration.test_service_monitor import play_a_morning

METRICS_TOKEN = "metrics-secret-for-tests"


@contextmanager
def serving(world: World) -> Iterator[TestClient]:
    world.container.settings = replace(world.container.settings, metrics_token=METRICS_TOKEN)
    app = create_app(container=world.container)
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        yield client


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with serving(world) as client:
        yield client


@pytest.fixture
def history(world: World, clock: FakeClock) -> World:
    """A morning of contacts, played before the app (and its lease sweeper) runs."""
    play_a_morning(world, clock)
    return world


def finished_ticket(world: World) -> str:
    officer = add_officer(world, "an")
    ctx = world.container.queue
    ticket = queue.take_ticket(
        ctx, location_slug="bree", service_code="info.general", language="nl", channel="kiosk"
    )
    queue.offer_next(ctx, officer)
    queue.accept_ticket(ctx, officer, ticket.id)
    queue.finish_ticket(ctx, officer, ticket.id, Outcome.INFORMED)
    return ticket.id


def test_a_finished_contact_offers_the_survey_which_takes_one_answer(
    client: TestClient, world: World
) -> None:
    ticket_id = finished_ticket(world)
    page = client.get(f"/t/{ticket_id}")
    assert f'href="/t/{ticket_id}/survey"' in page.text
    offered = client.get(f"/t/{ticket_id}/survey")
    assert offered.status_code == 303
    survey_url = offered.headers["location"]
    assert re.fullmatch(r"/survey/[0-9a-f]{32}", survey_url)
    assert ticket_id not in survey_url
    form = client.get(survey_url)
    assert form.status_code == 200 and 'name="satisfaction"' in form.text
    csrf = csrf_of(form.text)
    bad = client.post(survey_url, data={"csrf_token": csrf, "satisfaction": "9"})
    assert bad.status_code == 422 and 'id="satisfaction-error"' in bad.text
    assert 'value="9"' not in bad.text or "checked" not in bad.text
    sent = client.post(
        survey_url, data={"csrf_token": csrf, "satisfaction": "5", "helped": "yes", "comment": ""}
    )
    assert sent.status_code == 200 and 'id="survey-done"' in sent.text
    again = client.post(survey_url, data={"csrf_token": csrf, "satisfaction": "1"})
    assert again.status_code == 200 and "Deze enquête is al ingevuld" in again.text
    with world.container.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.survey_answers)).scalar() == 1


def test_a_survey_post_without_the_form_token_is_not_counted(
    client: TestClient, world: World
) -> None:
    ticket_id = finished_ticket(world)
    survey_url = client.get(f"/t/{ticket_id}/survey").headers["location"]
    client.get(survey_url)
    refused = client.post(survey_url, data={"csrf_token": "forged", "satisfaction": "5"})
    assert refused.status_code != 200
    with world.container.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.survey_answers)).scalar() == 0


def test_the_figures_page_is_for_supervisors_and_shows_charts(history: World) -> None:
    world = history
    with serving(world) as client:
        _test_the_figures_page_is_for_supervisors_and_shows_charts(client, world)


def _test_the_figures_page_is_for_supervisors_and_shows_charts(
    client: TestClient, world: World
) -> None:
    add_officer(world, "els", roles=frozenset({Role.SUPERVISOR}))
    assert client.get("/supervisor/figures").status_code == 303  # to the sign-in
    sign_in(client, world, "els")
    page = client.get("/supervisor/figures")
    assert page.status_code == 200
    assert page.text.count("<svg") >= 8
    assert '<title id="chart-per-day-svg-title">' in page.text
    assert 'id="per-desk"' in page.text
    bad = client.get("/supervisor/figures?start=2027-02-01&end=2027-01-01")
    assert bad.status_code == 422 and "error-summary" in bad.text


def test_the_exports_round_trip_the_figures(history: World) -> None:
    world = history
    with serving(world) as client:
        _test_the_exports_round_trip_the_figures(client, world)


def _test_the_exports_round_trip_the_figures(client: TestClient, world: World) -> None:
    figure_service.roll_up(world.container.figures)
    add_officer(world, "els", roles=frozenset({Role.SUPERVISOR}))
    sign_in(client, world, "els")
    today = world.container.figures.today().isoformat()
    query = f"start={today}&end={today}&target=5"
    expected = figure_service.figures(
        world.container.figures,
        world.container.figures.today(),
        world.container.figures.today(),
        target_minutes=5,
    )
    as_csv = client.get(f"/supervisor/figures/export.csv?{query}")
    assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.text)))
    assert tuple(rows[0]) == EXPORT_COLUMNS
    assert sum(int(row["contacts"]) for row in rows) == expected.total.contacts
    assert sum(int(row["level_met"]) for row in rows) == expected.total.level.met
    assert {row["target_minutes"] for row in rows} == {"5"}

    as_parquet = client.get(f"/supervisor/figures/export.parquet?{query}")
    assert as_parquet.status_code == 200
    table = pq.read_table(io.BytesIO(as_parquet.content))
    assert tuple(table.column_names) == EXPORT_COLUMNS
    from_parquet = table.to_pylist()
    assert len(from_parquet) == len(rows)
    for written, read in zip(rows, from_parquet, strict=True):
        for name in EXPORT_COLUMNS:
            value = read[name]
            assert ("" if value is None else str(value)) == written[name], name
    with world.container.engine.connect() as conn:
        exports = conn.execute(
            select(func.count()).select_from(t.audit_log).where(t.audit_log.c.action == "export")
        ).scalar()
    assert exports == 2


def test_metrics_are_scraped_with_the_token_and_parse(history: World) -> None:
    world = history
    with serving(world) as client:
        _test_metrics_are_scraped_with_the_token_and_parse(client, world)


def _test_metrics_are_scraped_with_the_token_and_parse(client: TestClient, world: World) -> None:
    assert client.get("/metrics").status_code == 401
    client.get("/healthz")
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert answer.status_code == 200
    families = {f.name: f for f in text_string_to_metric_families(answer.text)}
    queue_length = {s.labels["location"]: s.value for s in families["loket_queue_length"].samples}
    open_tickets = queue.queue_view(world.container.queue).tickets
    waiting = sum(1 for tk in open_tickets if tk.state.value in ("waiting", "offered"))
    assert sum(queue_length.values()) == waiting > 0
    assert families["loket_waiting_seconds_max"].samples
    assert {s.labels["status"] for s in families["loket_officers"].samples}
    assert families["loket_calls_active"].samples[0].value == 0
    latency = families["loket_request_duration_seconds"]
    routes = {s.labels.get("route") for s in latency.samples}
    assert "/healthz" in routes
    # An open WebSocket (the info screen's stream) is counted while it is open.
    with client.websocket_connect("/ws/locations/bree"):
        scraped = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    sockets = {
        s.labels["kind"]: s.value
        for f in text_string_to_metric_families(scraped.text)
        if f.name == "loket_websocket_connections"
        for s in f.samples
    }
    assert sockets == {"locations": 1}


def test_metrics_without_a_token_answer_only_this_machine(world: World) -> None:
    app = create_app(container=world.container)
    with TestClient(app, base_url="https://testserver") as client:
        assert client.get("/metrics").status_code == 403  # the test client is not 127.0.0.1


def test_survey_answers_are_rate_limited_per_address(client: TestClient, world: World) -> None:
    ticket_id = finished_ticket(world)
    survey_url = client.get(f"/t/{ticket_id}/survey").headers["location"]
    csrf = csrf_of(client.get(survey_url).text)
    budget = world.container.settings.tickets_per_minute
    answers = [
        client.post(survey_url, data={"csrf_token": csrf, "satisfaction": "7"}).status_code
        for _ in range(budget + 1)
    ]
    assert answers[:budget] == [422] * budget  # refused for the bad answer, not the rate
    assert answers[budget] == 429
