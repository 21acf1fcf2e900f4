"""Handover pages through the real app: signing on the check page, the acknowledgement at home,
by e-mail and at a kiosk by code, and the officers' report pages."""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Iterator

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select
from starlette.testclient import TestClient

from loket.adapters.db import schema as t
from loket.domain.staff import Role
from loket.web.app import create_app
from tests.conftest import World, add_officer
from tests.integration.test_call_interpreter import sign_in
from tests.integration.test_report_pages import BASE, KIOSK, csrf, start
from tests.integration.test_reports import BICYCLE, fill
from tests.statements import signature_png


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    app = create_app(container=world.container)
    with TestClient(app, base_url=BASE, headers={"Accept-Language": "en"}) as client:
        yield client


def at_check(client: TestClient, world: World, base: str = "") -> str:
    """A bicycle theft answered in full; the check page's HTML."""
    if base:
        client.get(f"{base}?lang=en")  # a kiosk asks for the language first
    start(client, base, "report.bicycle_theft")
    with world.container.engine.connect() as conn:
        draft_id = conn.execute(select(t.report_drafts.c.id)).scalar_one()
    fill(world, draft_id, BICYCLE)
    page = client.get(f"{base}/report/check")
    assert page.status_code == 200, page.text
    return page.text


def send(client: TestClient, base: str, page: str, **fields: str):  # type: ignore[no-untyped-def]
    data = {"csrf_token": csrf(page), **fields}
    return client.post(f"{base}/report/submit", data=data, follow_redirects=False)


def count(world: World, table: object) -> int:
    with world.container.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def text_of(pdf: bytes) -> str:
    return " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf)).pages)


def test_the_check_page_of_a_report_offers_the_pad_and_the_typed_alternative(
    client: TestClient, world: World
) -> None:
    page = at_check(client, world)
    assert 'id="signature-canvas"' in page and "signature-pad.js" in page
    assert 'name="confirm"' in page and 'name="full_name"' in page


def test_sending_without_signing_shows_the_check_page_with_the_message(
    client: TestClient, world: World
) -> None:
    page = at_check(client, world)
    refused = send(client, "", page)
    assert refused.status_code == 422
    assert "Sign the statement" in refused.text
    assert count(world, t.reports) == 0
    ticked = send(client, "", page, confirm="yes")
    assert ticked.status_code == 422 and "type your full name" in ticked.text
    assert "checked" in ticked.text


def test_a_drawn_signature_submits_once_and_the_acknowledgement_downloads_at_home(
    client: TestClient, world: World
) -> None:
    page = at_check(client, world)
    drawn = "data:image/png;base64," + base64.b64encode(signature_png()).decode()
    assert send(client, "", page, signature=drawn).headers["location"] == "/report/done"
    assert send(client, "", page, signature=drawn).headers["location"] == "/report/done"
    assert count(world, t.statements) == 1 and count(world, t.reports) == 1
    done = client.get("/report/done")
    reference = re.search(r'id="reference">([^<]+)<', done.text)
    assert reference is not None
    assert 'id="acknowledgement-download"' in done.text
    pdf = client.get("/report/acknowledgement.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["cache-control"] == "no-store"
    assert reference.group(1) in text_of(pdf.content)
    assert reference.group(1) not in str(pdf.url)


def test_a_garbled_signature_is_refused_clearly(client: TestClient, world: World) -> None:
    page = at_check(client, world)
    refused = send(client, "", page, signature="data:image/png;base64,AAAA")
    assert refused.status_code == 422 and "Please sign again" in refused.text


def test_the_acknowledgement_link_is_emailed_and_a_bad_address_is_refused(
    client: TestClient, world: World
) -> None:
    page = at_check(client, world)
    send(client, "", page, confirm="yes", full_name="Anna de Vries")
    done = client.get("/report/done")
    bad = client.post(
        "/report/acknowledgement/email", data={"csrf_token": csrf(done.text), "email": "anna"}
    )
    assert bad.status_code == 422 and 'value="anna"' in bad.text
    sent = client.post(
        "/report/acknowledgement/email",
        data={"csrf_token": csrf(done.text), "email": "anna@example.org"},
    )
    assert sent.status_code == 200 and 'id="acknowledgement-sent"' in sent.text
    with world.container.engine.connect() as conn:
        body = conn.execute(select(t.notifications.c.body)).scalar_one()
    link = re.search(r"https?://\S+/acknowledgement/(\S+)", body)
    assert link is not None
    landing = client.get(f"/acknowledgement/{link.group(1)}")
    assert landing.status_code == 200
    pdf = client.post(
        "/acknowledgement", data={"csrf_token": csrf(landing.text), "code": link.group(1)}
    )
    assert pdf.headers["content-type"] == "application/pdf"


def test_at_a_kiosk_a_code_and_qr_code_fetch_the_acknowledgement_once(
    client: TestClient, world: World
) -> None:
    page = at_check(client, world, KIOSK)
    send(client, KIOSK, page, confirm="yes", full_name="Anna de Vries")
    done = client.get(f"{KIOSK}/report/done")
    assert 'id="acknowledgement-download"' not in done.text  # a kiosk never downloads
    shown = client.post(
        f"{KIOSK}/report/acknowledgement/code", data={"csrf_token": csrf(done.text)}
    )
    assert shown.status_code == 200 and "<svg" in shown.text
    assert shown.headers["cache-control"] == "no-store"
    code = re.search(r'id="acknowledgement-code-text">([^<]+)<', shown.text)
    assert code is not None
    form = client.get("/acknowledgement")
    first = client.post(
        "/acknowledgement", data={"csrf_token": csrf(form.text), "code": code.group(1)}
    )
    assert first.headers["content-type"] == "application/pdf"
    again = client.post(
        "/acknowledgement", data={"csrf_token": csrf(form.text), "code": code.group(1)}
    )
    assert again.status_code == 410 and "already been used" in again.text
    wrong = client.post("/acknowledgement", data={"csrf_token": csrf(form.text), "code": "nope"})
    assert wrong.status_code == 404 and "not known" in wrong.text


def test_officers_list_reports_open_one_and_download_its_statement_audited(
    client: TestClient, world: World
) -> None:
    page = at_check(client, world)
    send(client, "", page, confirm="yes", full_name="Anna de Vries")
    reference = re.search(r'id="reference">([^<]+)<', client.get("/report/done").text)
    assert reference is not None
    ref = reference.group(1)
    assert client.get("/officer/reports", follow_redirects=False).status_code in (303, 401, 403)
    staff_id = add_officer(world, "olaf")
    sign_in(client, world, "olaf")
    listed = client.get("/officer/reports")
    assert listed.status_code == 200 and ref in listed.text
    detail = client.get(f"/officer/reports/{ref}")
    assert "Gazelle" in detail.text and 'id="statement-download"' in detail.text
    pdf = client.get(f"/officer/reports/{ref}/statement.pdf")
    assert pdf.headers["content-type"] == "application/pdf"
    assert "Anna de Vries" in text_of(pdf.content)
    a = t.audit_log.c
    with world.container.engine.connect() as conn:
        rows = conn.execute(select(a.actor, a.action, a.subject_type, a.subject_id)).all()
    actor = f"staff:{staff_id}"
    assert (actor, "read", "report", ref) in rows
    assert (actor, "download", "statement", ref) in rows


def test_a_host_may_not_read_reports(client: TestClient, world: World) -> None:
    add_officer(world, "hanna", roles=frozenset({Role.HOST}), status=None)
    sign_in(client, world, "hanna")
    assert client.get("/officer/reports", follow_redirects=False).status_code == 403
