"""Report and tip pages through the real app: one question per page, errors, check, send."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from loket.adapters.db import schema as t
from loket.web.app import create_app
from tests.conftest import World
from tests.identity import verify_online

BASE = "https://testserver"
KIOSK = "/kiosk/utrecht-stationsplein"


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    app = create_app(container=world.container)
    with TestClient(app, base_url=BASE, headers={"Accept-Language": "en"}) as client:
        yield client


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def answer(client: TestClient, page: str, data: dict[str, object], **kwargs: object):  # type: ignore[no-untyped-def]
    shown = client.get(page)
    assert shown.status_code == 200, shown.text
    action = re.search(r'<form method="post" action="([^"]+)" class="question-form"', shown.text)
    assert action is not None
    return client.post(
        action.group(1),
        data={"csrf_token": csrf(shown.text), **data},
        follow_redirects=False,
        **kwargs,
    )


def start(client: TestClient, base: str, code: str) -> str:
    tiles = client.get(f"{base}/services/{'tip' if code.startswith('tip') else 'report'}")
    started = client.post(
        f"{base}/reports/start",
        data={"csrf_token": csrf(tiles.text), "form": code},
        follow_redirects=False,
    )
    assert started.status_code == 303
    return str(started.headers["location"])


def test_a_tip_is_filled_in_checked_and_sent_at_home(client: TestClient, world: World) -> None:
    page = start(client, "", "tip.anonymous")
    assert page == "/report/q/subject"
    shown = client.get(page)
    assert "Question 1 of 4" in shown.text
    assert shown.headers["cache-control"] == "no-store"

    refused = answer(client, page, {})
    assert refused.status_code == 422
    assert 'id="subject-0-error"' in refused.text

    nxt = answer(client, page, {"value": "drugs"})
    assert nxt.headers["location"] == "/report/q/description"
    script = '<script>alert("x")</script> dealing at the corner'
    short = answer(client, "/report/q/description", {"value": "tiny"})
    assert short.status_code == 422 and 'id="description-error"' in short.text
    assert ">tiny</textarea>" in short.text  # the value is kept
    answer(client, "/report/q/description", {"value": script})
    answer(client, "/report/q/where", {})
    done = answer(client, "/report/q/person", {})
    assert done.headers["location"] == "/report/check"

    check = client.get("/report/check")
    assert "<script>alert" not in check.text
    assert "&lt;script&gt;alert" in check.text
    assert 'href="/report/q/description?change=1"' in check.text
    sent = client.post(
        "/report/submit", data={"csrf_token": csrf(check.text)}, follow_redirects=False
    )
    again = client.post(
        "/report/submit", data={"csrf_token": csrf(check.text)}, follow_redirects=False
    )
    assert sent.headers["location"] == again.headers["location"] == "/report/done"
    confirmation = client.get("/report/done")
    reference = re.search(r'id="reference">([^<]+)<', confirmation.text)
    assert reference is not None and reference.group(1).startswith("ME-")
    with world.container.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.reports)).scalar_one() == 1


def test_back_keeps_the_answer_and_change_returns_to_the_check_page(client: TestClient) -> None:
    page = start(client, "", "tip.nuisance")
    answer(client, page, {"value": ["noise", "drugs"]})
    back = answer(
        client, "/report/q/where", {"street": "Markt 1", "city": "Peer", "action": "back"}
    )
    assert back.headers["location"] == "/report/q/kind"
    shown = client.get("/report/q/kind")
    assert 'value="noise" checked' in shown.text and 'value="drugs" checked' in shown.text
    assert 'value="Markt 1"' in client.get("/report/q/where").text
    answer(client, "/report/q/where", {"street": "Markt 1", "city": "Peer"})
    answer(client, "/report/q/often", {"value": "daily"})
    answer(client, "/report/q/description", {"value": "Loud music every night"})
    answer(client, "/report/q/contact", {})
    changed = answer(client, "/report/q/often?change=1", {"value": "weekly", "change": "1"})
    assert changed.headers["location"] == "/report/check"
    assert "Every week" in client.get("/report/check").text


def test_a_burglary_at_a_dutch_kiosk_goes_to_an_officer(client: TestClient) -> None:
    client.get(f"{KIOSK}?lang=nl")
    tiles = client.get(f"{KIOSK}/services/report")
    assert 'id="start-report-bicycle_theft"' in tiles.text
    assert 'id="start-report-burglary"' not in tiles.text
    target = start(client, KIOSK, "report.burglary")
    assert target == f"{KIOSK}/report/officer"
    assert 'id="ticket-contact-video"' in client.get(target).text


def test_a_kiosk_draft_is_wiped_at_the_reset_unless_a_code_was_taken(
    client: TestClient, world: World
) -> None:
    client.get(f"{KIOSK}?lang=en")
    page = start(client, KIOSK, "report.vandalism")
    answer(client, page, {"value": "car"})
    client.get(f"{KIOSK}/reset")
    with world.container.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(t.report_drafts)).scalar_one() == 0

    client.get(f"{KIOSK}?lang=en")
    page = start(client, KIOSK, "report.vandalism")
    shown = client.get(page)
    coded = client.post(f"{KIOSK}/report/code", data={"csrf_token": csrf(shown.text), "back": page})
    code = re.search(r'id="resume-code">([^<]+)<', coded.text)
    assert code is not None
    client.get(f"{KIOSK}/reset")
    client.cookies.clear()
    resume = client.get("/report/resume")
    resumed = client.post(
        "/report/resume",
        data={"csrf_token": csrf(resume.text), "code": code.group(1)},
        follow_redirects=False,
    )
    assert resumed.headers["location"] == "/report/q/target"


def test_a_file_answer_is_uploaded_and_a_wrong_type_is_refused(
    client: TestClient, world: World
) -> None:
    page = start(client, "", "report.vandalism")
    for question, data in [
        ("target", {"value": "car"}),
        ("when", {"value": "2027-01-10"}),
        ("where", {"street": "Markt 1", "city": "Peer"}),
        ("damage", {"value": "Mirror broken off"}),
        ("cost", {"value": "150"}),
        ("perpetrator_known", {"value": "no"}),
        ("violence", {"value": "no"}),
    ]:
        response = answer(client, f"/report/q/{question}", data)
        assert response.status_code == 303, response.text
    bad = answer(
        client, "/report/q/photo", {}, files={"file": ("car.png", b"MZ nope", "image/png")}
    )
    assert bad.status_code == 415 and 'id="photo-error"' in bad.text
    png = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
    good = answer(client, "/report/q/photo", {}, files={"file": ("car.png", png, "image/png")})
    # Vandalism needs an identity verified online before the answers are checked.
    assert good.headers["location"] == "/report/identify"
    verify_online(world.container, draft_id_of(world))
    assert "car.png" in client.get("/report/check").text
    assert page == "/report/q/target"


def draft_id_of(world: World) -> str:
    with world.container.engine.connect() as conn:
        return str(conn.execute(select(t.report_drafts.c.id)).scalar_one())
