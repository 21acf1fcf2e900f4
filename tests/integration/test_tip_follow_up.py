"""Tips and reports after sending, through the real app: a tip leaves no trace of the tipster,
its passphrase adds information later, a report's code shows its status, officers see both."""

from __future__ import annotations

import base64
import json
import logging
import re
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from loket.adapters.db import schema as t
from loket.adapters.db.schema import metadata
from loket.domain.reports import ReportStep
from loket.services import reports as report_service
from loket.web.app import create_app
from loket.web.ratelimit import RateLimiter
from loket.web.sessions import CITIZEN_COOKIE
from tests.conftest import World, add_officer
from tests.integration.test_call_interpreter import sign_in
from tests.integration.test_handover_pages import at_check, send
from tests.integration.test_report_pages import BASE, KIOSK, answer, csrf, start

# Distinctive markers a tipster's browser and network carry: none may be stored or logged.
ADDRESS = "203.0.113.77"
AGENT = "Marker-Agent/7.7 (tipster-browser-f00d)"
COOKIE_VALUE = "marker-cookie-c0ffee"


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    app = create_app(container=world.container)
    with TestClient(
        app,
        base_url=BASE,
        headers={"Accept-Language": "en", "User-Agent": AGENT},
        client=(ADDRESS, 51234),
    ) as client:
        yield client


def give_tip(client: TestClient, base: str = "") -> str:
    """An anonymous tip through the pages; the confirmation page's HTML."""
    page = start(client, base, "tip.anonymous")
    answer(client, page, {"value": "drugs"})
    answer(client, f"{base}/report/q/description", {"value": "Dealing every evening at the park"})
    answer(client, f"{base}/report/q/where", {})
    answer(client, f"{base}/report/q/person", {})
    check = client.get(f"{base}/report/check")
    sent = client.post(
        f"{base}/report/submit", data={"csrf_token": csrf(check.text)}, follow_redirects=False
    )
    assert sent.status_code == 303
    done = client.get(f"{base}/report/done")
    assert done.status_code == 200
    return done.text


def shown(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}">([^<]+)<', html)
    assert found is not None, element_id
    return found.group(1).strip()


def every_row_as_text(world: World) -> str:
    """Every table the schema knows, every row, as one text to search."""
    parts = []
    with world.container.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)):
                parts.append(f"{table.name}: {tuple(row)!r}")
    return "\n".join(parts)


def test_an_anonymous_tip_leaves_no_trace_of_the_tipster_in_any_table_or_log(
    client: TestClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client.cookies.set("tracker", COOKIE_VALUE)
    client.get("/?lang=en")
    # The tipster also took a ticket in this browser: the tip must not link to it.
    services = client.get("/services/officer")
    took = client.post(
        "/tickets",
        data={"csrf_token": csrf(services.text), "service": "contact.video", "language": "en"},
        follow_redirects=False,
    )
    assert took.status_code == 303
    ticket_id = took.headers["location"].rsplit("/", 1)[1]
    done = give_tip(client)
    reference = shown(done, "reference")
    assert reference.startswith("ME-")
    assert re.fullmatch(r"[a-z]{4}(-[a-z]{4}){3}", shown(done, "access-secret"))

    session_cookie = client.cookies.get(CITIZEN_COOKIE)
    assert session_cookie is not None
    body = session_cookie.split(".")[0]
    session_id = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))["id"]
    dump = every_row_as_text(world)
    assert reference in dump  # the dump does see the tip
    with world.container.engine.connect() as conn:
        tip = conn.execute(select(t.reports).where(t.reports.c.reference == reference)).one()
        draft = conn.execute(
            select(t.report_drafts).where(t.report_drafts.c.id == tip.draft_id)
        ).one()
        audit = conn.execute(select(t.audit_log.c.actor, t.audit_log.c.subject_id)).all()
    for marker in (ADDRESS, AGENT, "Marker-Agent", COOKIE_VALUE, session_id, session_cookie):
        assert marker not in dump
        assert marker not in caplog.text
    # The tip's own rows name neither the ticket nor anything of the browser's session.
    tip_rows = repr(tuple(tip)) + repr(tuple(draft))
    assert ticket_id not in tip_rows
    assert {actor for actor, subject in audit if subject == reference} == {"citizen"}
    assert ticket_id in dump  # the ticket itself is stored, unlinked


def test_the_passphrase_adds_information_and_a_wrong_one_is_refused_like_an_unknown_reference(
    client: TestClient, world: World
) -> None:
    done = give_tip(client)
    reference = shown(done, "reference")
    passphrase = shown(done, "access-secret")
    form = client.get("/tips/follow-up")
    assert form.status_code == 200

    text = "The car is a <b>red</b> van, plate starts with 12"
    wrong = client.post(
        "/tips/follow-up",
        data={
            "csrf_token": csrf(form.text),
            "reference": reference,
            "passphrase": "baka-baka-baka-baka",
            "text": text,
        },
    )
    unknown = client.post(
        "/tips/follow-up",
        data={
            "csrf_token": csrf(form.text),
            "reference": "ME-ZZZZZZZZ",
            "passphrase": passphrase,
            "text": text,
        },
    )
    assert wrong.status_code == unknown.status_code == 404
    assert shown(wrong.text, "reference-error") == shown(unknown.text, "reference-error")
    assert "&lt;b&gt;red&lt;/b&gt;" in wrong.text  # what was typed is kept, escaped
    assert passphrase not in wrong.text and passphrase not in unknown.text

    short = client.post(
        "/tips/follow-up",
        data={"csrf_token": csrf(form.text), "reference": reference, "text": "tiny"},
    )
    assert short.status_code == 422 and 'id="text-error"' in short.text

    typed = passphrase.upper().replace("-", " ")  # as someone might copy it
    for _ in range(2):  # a double submit adds it once
        added = client.post(
            "/tips/follow-up",
            data={
                "csrf_token": csrf(form.text),
                "reference": reference.lower(),
                "passphrase": typed,
                "text": text,
            },
        )
        assert added.status_code == 200 and shown(added.text, "reference") == reference
    with world.container.engine.connect() as conn:
        stored = conn.execute(select(t.tip_follow_ups.c.text)).scalars().all()
        kept = conn.execute(select(t.report_access_codes.c.secret_hash)).scalar_one()
    assert stored == [text]
    assert passphrase not in kept and kept.startswith("$argon2id$")

    staff_id = add_officer(world, "olaf")
    sign_in(client, world, "olaf")
    listed = client.get("/officer/tips")
    assert listed.status_code == 200
    row = re.search(rf'<tr id="tip-{reference}">(.*?)</tr>', listed.text, re.S)
    assert row is not None and "<td>1</td>" in row.group(1)
    detail = client.get(f"/officer/reports/{reference}")
    assert 'id="follow-ups"' in detail.text and "&lt;b&gt;red&lt;/b&gt; van" in detail.text
    with world.container.engine.connect() as conn:
        a = t.audit_log.c
        rows = conn.execute(select(a.actor, a.action, a.subject_type, a.subject_id)).all()
    assert ("citizen", "create", "tip_follow_up", reference) in rows
    assert (f"staff:{staff_id}", "read", "tip_follow_up", reference) in rows


def test_the_secret_is_shown_once_and_a_new_one_replaces_it(
    client: TestClient, world: World
) -> None:
    first = shown(give_tip(client), "access-secret")
    again = client.get("/report/done")
    assert first not in again.text and 'id="access-renew"' in again.text
    renewed = client.post("/report/access", data={"csrf_token": csrf(again.text)})
    assert renewed.status_code == 200 and renewed.headers["cache-control"] == "no-store"
    second = shown(renewed.text, "access-secret")
    assert second != first
    reference = shown(again.text, "reference")
    form = client.get("/tips/follow-up")
    data = {"csrf_token": csrf(form.text), "reference": reference, "text": "More detail here."}
    assert client.post("/tips/follow-up", data={**data, "passphrase": first}).status_code == 404
    assert client.post("/tips/follow-up", data={**data, "passphrase": second}).status_code == 200


def test_a_report_shows_a_status_code_that_looks_up_its_state(
    client: TestClient, world: World
) -> None:
    client.get(f"{KIOSK}?lang=en")
    page = at_check(client, world, KIOSK)
    send(client, KIOSK, page, confirm="yes", full_name="Anna de Vries")
    done = client.get(f"{KIOSK}/report/done").text
    reference = shown(done, "reference")
    code = shown(done, "access-secret")
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", code)
    assert "Follow your report" in done

    form = client.get(f"{KIOSK}/status")
    looked = client.post(
        f"{KIOSK}/status",
        data={"csrf_token": csrf(form.text), "reference": reference, "code": code.lower()},
    )
    assert looked.status_code == 200
    assert shown(looked.text, "report-state") == "Submitted"
    assert "Last change" in looked.text

    report_service.move_report(world.container.reports, reference, ReportStep.REVIEW, actor="t")
    looked = client.post(
        f"{KIOSK}/status",
        data={"csrf_token": csrf(form.text), "reference": reference, "code": code},
    )
    assert shown(looked.text, "report-state") == "In review"

    wrong = client.post(
        "/status", data={"csrf_token": csrf(form.text), "reference": reference, "code": "X"}
    )
    unknown = client.post(
        "/status",
        data={"csrf_token": csrf(form.text), "reference": "AG-ZZZZZZZZ", "code": code},
    )
    assert wrong.status_code == unknown.status_code == 404
    assert shown(wrong.text, "reference-error") == shown(unknown.text, "reference-error")
    with world.container.engine.connect() as conn:
        kept = conn.execute(select(t.report_access_codes.c.secret_hash)).scalar_one()
    assert code not in kept


def test_a_tip_reference_has_no_status_and_lookups_are_rate_limited(world: World) -> None:
    app = create_app(container=world.container)
    with TestClient(app, base_url=BASE, headers={"Accept-Language": "en"}) as client:
        done = give_tip(client)
        reference = shown(done, "reference")
        form = client.get("/status")
        data = {"csrf_token": csrf(form.text), "reference": reference, "code": "ABCD-EFGH-JKMN"}
        assert client.post("/status", data=data).status_code == 404
        app.state.ticket_limiter = RateLimiter(1)  # one lookup a minute from here on
        statuses = [client.post("/status", data=data).status_code for _ in range(3)]
        assert statuses[-1] == 429
        follow_up = client.get("/tips/follow-up")
        limited = client.post(
            "/tips/follow-up",
            data={
                "csrf_token": csrf(follow_up.text),
                "reference": reference,
                "passphrase": shown(done, "access-secret"),
                "text": "Guessing is slowed down too.",
            },
        )
        assert limited.status_code == 429
        assert 'value="' + reference + '"' in limited.text  # what was typed is kept
