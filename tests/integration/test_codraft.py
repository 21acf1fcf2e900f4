"""A report drafted with the officer in a call, through the API on SQLite and PostgreSQL: the
draft comes along, both sides read it (audited), the officer corrects it under optimistic
concurrency, a later change voids both confirmations, and the statement names the officer."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from loket.adapters.db import schema as t
from loket.adapters.signing.pades import load_signing_identity
from loket.domain.codraft import Side
from loket.domain.reports import Route
from loket.services import calls as call_service
from loket.services import codraft, queue
from loket.services import handover as handover_service
from loket.services import identification as identification_service
from loket.services import reports as report_service
from loket.web.app import create_app
from tests.conftest import World, add_officer
from tests.integration.test_call_exchange import bearer
from tests.integration.test_call_signalling import BASE, client, join, next_of, served
from tests.integration.test_report_pages import answer, csrf, start
from tests.integration.test_statements import flat, pages_text, validate

__all__ = ["client"]  # the fixture, shared with the signalling tests
API = "/api/v1/calls/draft"
THREAT = {
    "how": ["phone", "online"],
    "when": {"date": "2027-01-10", "time": "21:15"},
    "who": {"name": "J. de Vries", "age": "about 40"},
    "words": "He said he would come to my house.",
}


def tokens(world: World, ticket_id: str, officer: int) -> tuple[dict[str, str], dict[str, str]]:
    calls = world.container.calls
    citizen = call_service.issue_citizen_token(calls, ticket_id).token
    officer_token = call_service.issue_officer_token(calls, officer, ticket_id).token
    return bearer(citizen), bearer(officer_token)


def put(
    client: TestClient, headers: dict[str, str], question: str, value: Any, version: int
) -> Any:
    return client.put(
        f"{API}/answers/{question}", json={"version": version, "value": value}, headers=headers
    )


def threat_in_call(client: TestClient, world: World) -> tuple[dict[str, str], dict[str, str], int]:
    """A threat report the officer started in a call and filled in; its latest version."""
    citizen, officer_h, version, _ticket_id = threat_call(client, world)
    return citizen, officer_h, version


def threat_call(
    client: TestClient, world: World
) -> tuple[dict[str, str], dict[str, str], int, str]:
    """As threat_in_call, with the ticket's id."""
    ticket, officer = served(world)
    citizen, officer_h = tokens(world, ticket.id, officer)
    started = client.post(API, json={"form": "report.threat"}, headers=officer_h)
    assert started.status_code == 201, started.text
    version = started.json()["draft"]["version"]
    for question, value in THREAT.items():
        answer = put(client, officer_h, question, value, version)
        assert answer.status_code == 200, answer.text
        version = answer.json()["draft"]["version"]
    return citizen, officer_h, version, ticket.id


def audited_reads(world: World, actor_prefix: str) -> list[str]:
    with world.container.engine.connect() as conn:
        rows = conn.execute(
            select(t.audit_log.c.actor).where(
                t.audit_log.c.subject_type == "draft", t.audit_log.c.action == "read"
            )
        ).all()
    return [r.actor for r in rows if r.actor.startswith(actor_prefix)]


def test_a_citizens_draft_comes_along_and_both_sides_read_it_audited(
    client: TestClient, world: World
) -> None:
    reports = world.container.reports
    progress = report_service.start_draft(
        reports, form_code="report.theft", location_slug="online", language="nl", channel="home"
    )
    draft_id = progress.draft.id
    report_service.answer(reports, draft_id, "kind", "phone")
    ticket, officer = served(world)
    assert codraft.link_draft(reports, ticket.id, draft_id) is not None
    # Taking the ticket twice (a double tap) links once.
    assert codraft.link_draft(reports, ticket.id, draft_id).draft_id == draft_id  # type: ignore[union-attr]
    citizen, officer_h = tokens(world, ticket.id, officer)

    seen = client.get(API, headers={**officer_h, "Accept-Language": "en"}).json()
    draft = seen["draft"]
    assert draft["form"] == "report.theft" and draft["started_by"] == "citizen"
    kind = next(q for q in draft["questions"] if q["id"] == "kind")
    assert (kind["answered"], kind["text"]) == (True, "My phone was stolen")
    assert "report.threat" in [f["code"] for f in seen["forms"]]
    # The citizen reads the same draft; the version probe carries no answers.
    assert client.get(API, headers=citizen).json()["draft"]["tag"] == draft["tag"]
    assert client.get(f"{API}/version", headers=citizen).json() == {"version": draft["tag"]}
    assert audited_reads(world, "staff:") == [f"staff:{officer}"]
    assert audited_reads(world, "citizen") == ["citizen"]


def test_the_citizen_hears_a_change_at_once_on_the_calls_socket(
    client: TestClient, world: World
) -> None:
    ticket, officer = served(world)
    citizen, officer_h = tokens(world, ticket.id, officer)
    citizen_token = citizen["Authorization"].removeprefix("Bearer ")
    ws, context = join(client, citizen_token)
    try:
        next_of(ws, "call.joined")
        started = client.post(API, json={"form": "report.threat"}, headers=officer_h).json()
        assert next_of(ws, "draft.changed")["data"]["version"] == started["draft"]["tag"]
        changed = put(client, officer_h, "how", ["letter"], started["draft"]["version"]).json()
        assert next_of(ws, "draft.changed")["data"]["version"] == changed["draft"]["tag"]
    finally:
        context.__exit__(None, None, None)
    how = client.get(API, headers=citizen).json()["draft"]["questions"][0]
    assert (how["text"], how["changed_by_officer"]) == ("Per brief", True)


def test_two_edits_at_once_the_second_learns_the_new_value_instead_of_overwriting(
    client: TestClient, world: World
) -> None:
    citizen, officer_h, version = threat_in_call(client, world)
    words = {"Accept-Language": "en"}
    first = put(client, officer_h, "words", "He threatened to burn my car.", version)
    assert first.status_code == 200
    second = put(client, {**citizen, **words}, "words", "He threatened me.", version)
    assert second.status_code == 409
    problem = second.json()
    assert problem["code"] == "codraft.changed_meanwhile"
    assert problem["current"]["text"] == "He threatened to burn my car."
    assert problem["current"]["version"] == first.json()["draft"]["version"]
    # The officer's double click sends the same answer with the old version: no conflict.
    again = put(client, officer_h, "words", "He threatened to burn my car.", version)
    assert again.status_code == 200
    assert again.json()["draft"]["version"] == first.json()["draft"]["version"]


def test_a_correction_is_checked_by_the_questions_rules_and_names_the_field(
    client: TestClient, world: World
) -> None:
    citizen, officer_h, version = threat_in_call(client, world)
    future = {"date": "2031-01-01", "time": "10:00"}
    refused = put(client, {**officer_h, "Accept-Language": "en"}, "when", future, version)
    assert refused.status_code == 422
    assert (refused.json()["code"], refused.json()["field"]) == ("answer.in_future", "when-date")
    assert "future" in refused.json()["detail"]
    unknown = put(client, officer_h, "how", ["by_pigeon"], version)
    assert (unknown.status_code, unknown.json()["field"]) == (422, "how-0")
    kept = client.get(API, headers=citizen).json()["draft"]
    assert kept["version"] == version


def test_a_change_after_both_confirmed_voids_both_and_submission_waits(
    client: TestClient, world: World
) -> None:
    citizen, officer_h, version = threat_in_call(client, world)
    typed = {"version": version, "full_name": "Sam Jansen", "declared": True}
    assert client.post(f"{API}/confirmations", json=typed, headers=citizen).status_code == 200
    # Confirming twice (a double click, a resend after a reconnect) is the same confirmation.
    assert client.post(f"{API}/confirmations", json=typed, headers=citizen).status_code == 200
    both = client.post(f"{API}/confirmations", json={"version": version}, headers=officer_h)
    assert both.json()["draft"]["confirmed"] == {"citizen": True, "officer": True}
    assert both.json()["draft"]["can_submit"] is True

    changed = put(client, officer_h, "words", "He said he would burn my car.", version)
    assert changed.json()["draft"]["confirmed"] == {"citizen": False, "officer": False}
    refused = client.post(f"{API}/submission", headers=officer_h)
    assert (refused.status_code, refused.json()["code"]) == (409, "codraft.not_confirmed")
    # A confirmation of the version before the change is refused: the text moved on.
    stale = client.post(f"{API}/confirmations", json=typed, headers=citizen)
    assert (stale.status_code, stale.json()["code"]) == (409, "codraft.changed_meanwhile")
    # Without the ticked declaration and a name the citizen's confirmation is refused.
    fresh = changed.json()["draft"]["version"]
    untick = {"version": fresh, "full_name": "Sam Jansen", "declared": False}
    refused_tick = client.post(f"{API}/confirmations", json=untick, headers=citizen)
    assert (refused_tick.status_code, refused_tick.json()["field"]) == (422, "declared")


def test_a_threat_made_with_the_officer_ends_in_a_statement_that_names_the_officer(
    client: TestClient, world: World
) -> None:
    citizen, officer_h, version, ticket_id = threat_call(client, world)
    officer = world.staff_ids["an"]
    # A threat needs an identity the officer checked: not sent before that.
    early = client.post(f"{API}/submission", headers=officer_h)
    assert early.status_code == 409
    identification_service.verify_by_officer(
        world.container.identification,
        ticket_id,
        officer_id=officer,
        document_type="passport",
        document_suffix="X7Q4",
        face_matches=True,
    )
    version = client.get(API, headers=citizen).json()["draft"]["version"]
    typed = {"version": version, "full_name": "Sam Jansen", "declared": True}
    client.post(f"{API}/confirmations", json=typed, headers=citizen)
    client.post(f"{API}/confirmations", json={"version": version}, headers=officer_h)
    submitted = client.post(f"{API}/submission", headers=officer_h)
    assert submitted.status_code == 201, submitted.text
    reference = submitted.json()["draft"]["reference"]
    assert reference.startswith("AG-")
    # A second click finds the same report and statement.
    again = client.post(f"{API}/submission", headers=officer_h)
    assert again.json()["draft"]["reference"] == reference
    assert again.json()["statement"] == submitted.json()["statement"]
    # The citizen's page learns the reference too.
    assert client.get(API, headers=citizen).json()["draft"]["reference"] == reference

    pdf = handover_service.download_statement(
        world.container.handover, reference, actor="staff:test"
    )
    text = flat(" ".join(pages_text(pdf)))
    assert f"An (personeelsnummer {officer})" in text
    assert "Geen: opgemaakt zonder agent" not in text
    assert "Identiteit via de camera gecontroleerd door een agent" in text
    assert "Sam Jansen" in text and "He said he would come to my house." in text
    assert validate(pdf, load_signing_identity(world.container.settings)).intact


@pytest.fixture
def pages(world: World) -> Iterator[TestClient]:
    app = create_app(container=world.container)
    with TestClient(app, base_url=BASE, headers={"Accept-Language": "en"}) as client:
        yield client


def test_a_citizen_sent_to_an_officer_brings_their_draft_to_the_call(
    pages: TestClient, world: World
) -> None:
    step = start(pages, "", "report.theft")
    for data in (
        {"value": "phone"},
        {"date": "2027-01-11", "time": "18:30"},
        {"street": "Stationsplein", "city": "Utrecht"},
        {"0-description": "phone", "0-brand": "Fairphone"},
        {"value": ""},
        {"value": "no"},
        {"value": "yes"},  # with violence: an officer takes it (robbery)
    ):
        sent = answer(pages, step, data)
        assert sent.status_code == 303, sent.text
        step = sent.headers["location"]
    assert step == "/report/officer"
    offer = pages.get(step).text
    key = re.search(r'name="idempotency_key" value="([^"]+)"', offer)
    assert key is not None
    ticket_form = {"csrf_token": csrf(offer), "service": "contact.video", "language": "nl"}
    for _ in range(2):  # a double tap: one ticket, one link
        taken = pages.post(
            "/tickets",
            data={**ticket_form, "idempotency_key": key.group(1)},
            follow_redirects=False,
        )
        assert taken.status_code == 303, taken.text
    ticket_id = taken.headers["location"].removeprefix("/t/")
    with world.container.engine.connect() as conn:
        links = conn.execute(select(t.call_drafts)).all()
    assert [link.ticket_id for link in links] == [ticket_id]

    officer = add_officer(world, "an")
    assert queue.offer_next(world.container.queue, officer) is not None
    queue.accept_ticket(world.container.queue, officer, ticket_id)
    seen = codraft.read_shared(
        world.container.reports, ticket_id, codraft.Participant(Side.OFFICER, officer)
    )
    assert seen is not None and seen.draft.answers["violence"] == "yes"
    assert seen.route is Route.OFFICER and not seen.is_complete
