"""Identity checked by an officer on camera, on SQLite and PostgreSQL: the citizen's choice takes
a video ticket for the draft, the serving officer records the document in the console, only
officers may, and the signed statement says how the identity was verified."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from starlette.testclient import TestClient

from loket.adapters.db import schema as t
from loket.domain.errors import DomainError
from loket.domain.staff import Role
from loket.domain.statements import Confirmation
from loket.domain.tickets import Ticket
from loket.services import handover as handover_service
from loket.services import identification as svc
from loket.services import queue as queue_service
from loket.services import reports as report_service
from loket.web.app import create_app
from tests.conftest import World, add_officer
from tests.identity import verify_online
from tests.integration.test_call_interpreter import sign_in
from tests.integration.test_help import csrf_of
from tests.integration.test_report_pages import BASE
from tests.integration.test_report_pages import start as start_page
from tests.integration.test_reports import BICYCLE, KIOSK, start


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    app = create_app(container=world.container)
    with TestClient(app, base_url=BASE, headers={"Accept-Language": "en"}) as client:
        yield client


def waiting_check(world: World) -> tuple[str, Ticket]:
    """A finished bicycle theft whose citizen chose the officer on camera; draft and ticket."""
    draft_id = start(world)
    for question, raw in BICYCLE:
        report_service.answer(world.container.reports, draft_id, question, raw)
    ticket = svc.request_officer_check(
        world.container.identification,
        draft_id,
        location_slug=KIOSK,
        language="nl",
        channel="kiosk",
        idempotency_key="identity-1",
    )
    return draft_id, ticket


def serving(world: World, username: str, ticket: Ticket) -> int:
    officer_id = add_officer(world, username)
    offered = queue_service.offer_next(world.container.queue, officer_id)
    assert offered is not None and offered.id == ticket.id
    queue_service.accept_ticket(world.container.queue, officer_id, ticket.id)
    return officer_id


def level_of(world: World, draft_id: str) -> str:
    c = t.report_drafts.c
    with world.container.engine.connect() as conn:
        return str(conn.execute(select(c.identification).where(c.id == draft_id)).scalar_one())


def verification_rows(world: World) -> list[dict[str, object]]:
    with world.container.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(t.identity_verifications)).all()]


def test_the_serving_officer_checks_the_document_and_the_statement_says_so(
    world: World, client: TestClient
) -> None:
    draft_id, ticket = waiting_check(world)
    # A double tap on the citizen's button takes one ticket and one link.
    again = svc.request_officer_check(
        world.container.identification,
        draft_id,
        location_slug=KIOSK,
        language="nl",
        channel="kiosk",
        idempotency_key="identity-1",
    )
    assert again.id == ticket.id
    officer_id = serving(world, "an", ticket)
    sign_in(client, world, "an")
    console = client.get("/officer")
    assert f'id="identity-check-{ticket.id}"' in console.text
    assert "geen afbeelding van het document gemaakt of bewaard" in console.text
    form = {"csrf_token": csrf_of(console.text), "document_type": "foreign_passport"}

    wrong = client.post(
        f"/officer/tickets/{ticket.id}/identity",
        data={**form, "document_suffix": "7!", "face_matches": "yes"},
        follow_redirects=False,
    )
    assert wrong.status_code == 422
    assert "laatste vier tekens van het documentnummer" in wrong.text
    assert 'value="foreign_passport" selected' in wrong.text  # nothing entered is lost
    unconfirmed = client.post(
        f"/officer/tickets/{ticket.id}/identity",
        data={**form, "document_suffix": "x7 9k"},
        follow_redirects=False,
    )
    assert (
        unconfirmed.status_code == 422 and "gezicht voor de camera overeenkomt" in unconfirmed.text
    )
    assert level_of(world, draft_id) == "self_declared" and verification_rows(world) == []
    assert "identity-checked" not in client.get(f"/t/{ticket.id}/status?mode=kiosk").text

    done = client.post(
        f"/officer/tickets/{ticket.id}/identity",
        data={**form, "document_suffix": "x7 9k", "face_matches": "yes"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert level_of(world, draft_id) == "verified_by_officer"
    [row] = verification_rows(world)
    assert row["method"] == "officer" and row["officer_id"] == officer_id
    assert row["document_type"] == "foreign_passport" and row["document_suffix"] == "X79K"
    assert row["subject_ref"] is None and row["display_name"] is None
    with world.container.engine.connect() as conn:
        audited = conn.execute(
            select(t.audit_log.c.actor, t.audit_log.c.details).where(
                t.audit_log.c.action == "verify_identity"
            )
        ).all()
    [(actor, details)] = audited
    assert actor == f"staff:{officer_id}"
    assert "X79K" not in json.dumps(details)  # the number's part stays out of the trail
    assert f'id="identity-done-{ticket.id}"' in client.get("/officer").text
    # The ticket followed where the draft is not (a phone, the booth) leads to the resume
    # code, on the desk's kiosk pages that forget the citizen (the browser test follows the
    # kiosk's own link straight to the draft).
    on_phone = client.get(f"/t/{ticket.id}/status").text
    assert f'id="resume-report" href="/kiosk/{KIOSK}/report/resume"' in on_phone
    assert "continue-report" not in on_phone

    # A second confirmation (double click) records nothing more.
    client.post(
        f"/officer/tickets/{ticket.id}/identity",
        data={**form, "document_suffix": "x7 9k", "face_matches": "yes"},
        follow_redirects=False,
    )
    assert len(verification_rows(world)) == 1
    with world.container.engine.connect() as conn:
        told = conn.execute(
            select(t.events.c.payload).where(t.events.c.type == "ticket.identity_checked")
        ).all()
    assert [row.payload["ticket"]["id"] for row in told] == [ticket.id]

    submission = handover_service.submit_report(
        world.container.handover, draft_id, Confirmation(typed_name="Anna de Vries")
    )
    assert submission.statement is not None
    pdf = handover_service.download_statement(
        world.container.handover, submission.report.reference, actor="staff:1"
    )
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf)).pages)
    # The statement is in Dutch: the level as the catalog words it there.
    assert "Identiteit via de camera gecontroleerd door een agent" in text
    shown = client.get(f"/officer/reports/{submission.report.reference}")
    # The officer's page is in the officer's language (Dutch here).
    level = "Identificatie: Via de camera gecontroleerd door een agent"
    assert level in " ".join(shown.text.split())


def test_only_officers_can_record_an_identity_check(world: World, client: TestClient) -> None:
    draft_id, ticket = waiting_check(world)
    serving(world, "an", ticket)
    add_officer(world, "tom", roles=frozenset({Role.HOST}), status=None)
    sign_in(client, world, "tom")
    page = client.get("/host")
    refused = client.post(
        f"/officer/tickets/{ticket.id}/identity",
        data={
            "csrf_token": csrf_of(page.text),
            "document_type": "passport",
            "document_suffix": "AB12",
            "face_matches": "yes",
        },
        follow_redirects=False,
    )
    assert refused.status_code == 403
    assert level_of(world, draft_id) == "self_declared" and verification_rows(world) == []


def test_an_officer_who_does_not_serve_the_contact_cannot_check_it(world: World) -> None:
    draft_id, ticket = waiting_check(world)
    serving(world, "an", ticket)
    other = add_officer(world, "bo")
    with pytest.raises(DomainError) as refused:
        svc.verify_by_officer(
            world.container.identification,
            ticket.id,
            officer_id=other,
            document_type="passport",
            document_suffix="AB12",
            face_matches=True,
        )
    assert refused.value.code == "identification.not_your_contact"
    assert level_of(world, draft_id) == "self_declared"


def test_a_report_is_not_signed_below_the_level_its_type_needs(world: World) -> None:
    draft_id, _ = waiting_check(world)
    with pytest.raises(DomainError) as refused:
        handover_service.submit_report(
            world.container.handover, draft_id, Confirmation(typed_name="Anna de Vries")
        )
    assert refused.value.code == "identification.required"
    with world.container.engine.connect() as conn:
        assert conn.execute(select(t.reports)).first() is None


def test_a_wiped_kiosk_draft_takes_its_identity_records_with_it(world: World) -> None:
    draft_id, _ = waiting_check(world)
    verify_online(world.container, draft_id)
    assert len(verification_rows(world)) == 1
    assert report_service.discard_kiosk_draft(world.container.reports, draft_id)
    with world.container.engine.connect() as conn:
        assert conn.execute(select(t.identity_call_requests)).first() is None
    assert verification_rows(world) == []


def test_at_a_kiosk_a_code_keeps_the_answers_while_the_citizen_is_in_the_booth(
    world: World, client: TestClient
) -> None:
    kiosk = f"/kiosk/{KIOSK}"
    client.get(f"{kiosk}?lang=en")
    start_page(client, kiosk, "report.bicycle_theft")
    with world.container.engine.connect() as conn:
        draft_id = str(conn.execute(select(t.report_drafts.c.id)).scalar_one())
    for question, raw in BICYCLE:
        report_service.answer(world.container.reports, draft_id, question, raw)
    choice = client.get(f"{kiosk}/report/identify")
    asked = client.post(
        f"{kiosk}/report/identify/officer",
        data={"csrf_token": csrf_of(choice.text), "idempotency_key": "kiosk-identity-1"},
        follow_redirects=False,
    )
    assert asked.status_code == 200, asked.text
    code = re.search(r'id="resume-code">([^<]+)<', asked.text)
    assert code is not None and f'href="{kiosk}/ticket"' in asked.text

    # The kiosk starts again for the next person; the answers stay for the identity check.
    client.get(f"{kiosk}/reset")
    client.cookies.clear()
    with world.container.engine.connect() as conn:
        ticket_id = conn.execute(select(t.identity_call_requests.c.ticket_id)).scalar_one()
    ticket = queue_service.ticket_status(world.container.queue, ticket_id).ticket
    officer_id = serving(world, "an", ticket)
    svc.verify_by_officer(
        world.container.identification,
        ticket.id,
        officer_id=officer_id,
        document_type="foreign_passport",
        document_suffix="K7Q2",
        face_matches=True,
    )

    # On the citizen's phone: the code opens the checked draft, ready to check and sign.
    resume = client.get("/report/resume")
    resumed = client.post(
        "/report/resume",
        data={"csrf_token": csrf_of(resume.text), "code": code.group(1)},
        follow_redirects=False,
    )
    assert resumed.status_code == 303 and resumed.headers["location"] == "/report/check"
    assert level_of(world, draft_id) == "verified_by_officer"
