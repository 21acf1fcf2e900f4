"""The virtual agent through the real app and database: API, chat pages, handover to an
officer with the transcript, forgetting at the kiosk, unanswered questions, `loket ask`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from loket.adapters.db import schema as t
from loket.domain.staff import Role
from loket.services import assistant as assistant_service
from loket.services import queue as queue_service
from loket.web.app import create_app
from tests.conftest import PASSWORD, World, add_officer

BASE = "https://testserver"
KIOSK = "/kiosk/bree"
LOKET = str(Path(sys.executable).parent / "loket")
MESSAGES = "/api/v1/assistant/messages"


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    app = create_app(container=world.container)
    with TestClient(app, base_url=BASE, headers={"Accept-Language": "en"}) as client:
        yield client


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def count(world: World, table: t.Table) -> int:
    with world.container.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


# -- the API ----------------------------------------------------------------------------------


def test_the_api_answers_with_intent_confidence_language_reply_and_actions(
    client: TestClient,
) -> None:
    answer = client.post(MESSAGES, json={"text": "Mein Fahrrad wurde gestohlen"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["intent"] == "report.bicycle_theft"
    assert body["language"] == "de"
    assert 0.5 <= body["confidence"] <= 1.0
    assert body["reply"].startswith("Wurde Ihr Fahrrad")
    assert body["actions"] == [
        {
            "kind": "start_report",
            "label": "Start your report",
            "method": "POST",
            "url": "/reports/start",
            "fields": {"form": "report.bicycle_theft"},
        }
    ]
    follow_up = client.post(
        MESSAGES,
        json={"text": "ich will einen Menschen", "conversation_id": body["conversation_id"]},
    ).json()
    assert follow_up["conversation_id"] == body["conversation_id"]
    assert follow_up["actions"][0]["url"] == "/assistant/handover"


def test_at_a_kiosk_the_actions_lead_to_that_kiosk_and_the_session_language_wins(
    client: TestClient,
) -> None:
    body = client.post(
        MESSAGES,
        json={
            "text": "my passport is lost, I'm a tourist",
            "language": "fr",
            "location": "bree",
            "channel": "kiosk",
        },
    ).json()
    assert body["intent"] == "lost.passport_foreign"
    assert body["language"] == "fr"
    assert body["actions"][0]["url"] == f"{KIOSK}/referral/lost.passport_foreign"


def test_an_emergency_is_answered_first_and_flagged(client: TestClient) -> None:
    body = client.post(
        MESSAGES, json={"text": "someone is breaking in right now, and my bike was stolen"}
    ).json()
    assert body["intent"] == "emergency" and body["is_emergency"]
    assert "112" in body["reply"]
    assert body["also"] == "report.bicycle_theft"
    assert [action["kind"] for action in body["actions"]] == ["call", "start_report"]


@pytest.mark.parametrize(
    ("text", "code"),
    [("   ", "assistant.empty_question"), ("x" * 501, "assistant.question_too_long")],
)
def test_empty_and_oversized_questions_are_problems(
    client: TestClient, text: str, code: str
) -> None:
    refused = client.post(MESSAGES, json={"text": text})
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == code
    assert refused.json()["field"] == "text"


def test_a_bad_conversation_id_is_refused(client: TestClient) -> None:
    refused = client.post(MESSAGES, json={"text": "hello", "conversation_id": "../../etc"})
    assert refused.status_code == 422
    assert refused.json()["code"] == "assistant.bad_conversation"


def test_the_api_is_rate_limited_per_address(world: World) -> None:
    world.container.settings = world.container.settings.__class__(
        **{**world.container.settings.__dict__, "assistant_messages_per_minute": 2}
    )
    app = create_app(container=world.container)
    with TestClient(app, base_url=BASE) as client:
        assert client.post(MESSAGES, json={"text": "hello"}).status_code == 200
        assert client.post(MESSAGES, json={"text": "hello"}).status_code == 200
        limited = client.post(MESSAGES, json={"text": "hello"})
    assert limited.status_code == 429
    assert limited.json()["code"] == "request.rate_limited"
    assert int(limited.headers["retry-after"]) >= 1


# -- the pages, the handover and the officer ------------------------------------------------------


def test_the_chat_page_works_without_javascript_and_keeps_the_transcript(
    client: TestClient,
) -> None:
    page = client.get(f"{KIOSK}/assistant?lang=en")
    assert page.status_code == 200 and 'id="suggestion-1"' in page.text
    asked = client.post(
        f"{KIOSK}/assistant", data={"text": "my bike was stolen", "csrf_token": csrf_of(page.text)}
    )
    assert asked.status_code == 200  # after the redirect back to the page
    assert "my bike was stolen" in asked.text
    assert 'id="action-start_report"' in asked.text
    assert f'action="{KIOSK}/reports/start"' in asked.text


def test_an_empty_question_on_the_page_is_shown_next_to_the_field(client: TestClient) -> None:
    page = client.get("/assistant")
    refused = client.post("/assistant", data={"text": " ", "csrf_token": csrf_of(page.text)})
    assert refused.status_code == 422
    assert 'id="question-error"' in refused.text and "Type your question." in refused.text


def test_the_start_page_tile_leads_to_the_chat(client: TestClient) -> None:
    home = client.get(f"{KIOSK}?lang=en")
    assert f'href="{KIOSK}/assistant"' in home.text
    assert client.get("/services/assistant", follow_redirects=False).headers["location"] == (
        "/assistant"
    )


def sign_in(client: TestClient, world: World, username: str) -> None:
    page = client.get("/staff/sign-in")
    form = {"username": username, "password": PASSWORD, "csrf_token": csrf_of(page.text)}
    assert client.post("/staff/sign-in", data=form, follow_redirects=False).status_code == 303
    code = {"code": world.code(username), "csrf_token": csrf_of(page.text)}
    assert client.post("/staff/sign-in/code", data=code, follow_redirects=False).is_redirect


def test_asking_for_a_person_hands_the_transcript_to_the_officer(
    client: TestClient, world: World
) -> None:
    officer = add_officer(world, "an")
    page = client.get(f"{KIOSK}/assistant?lang=nl")
    token = csrf_of(page.text)
    client.post(f"{KIOSK}/assistant", data={"text": "mijn fiets is gestolen", "csrf_token": token})
    client.post(f"{KIOSK}/assistant", data={"text": "ik wil een agent", "csrf_token": token})
    handed = client.post(
        f"{KIOSK}/assistant/handover", data={"csrf_token": token}, follow_redirects=False
    )
    assert handed.headers["location"] == f"{KIOSK}/ticket"
    again = client.post(
        f"{KIOSK}/assistant/handover", data={"csrf_token": token}, follow_redirects=False
    )
    assert again.status_code == 303
    tickets = queue_service.queue_view(world.container.queue).tickets
    assert [(ticket.service_code, ticket.language) for ticket in tickets] == [
        ("contact.video", "nl")
    ]

    offered = queue_service.offer_next(world.container.queue, officer)
    assert offered is not None
    lines = assistant_service.transcript_for_officer(world.container.assistant, officer, offered.id)
    assert lines is not None
    assert [line.text for line in lines][0::2] == ["mijn fiets is gestolen", "ik wil een agent"]
    with world.container.engine.connect() as conn:
        reads = conn.execute(
            select(t.audit_log.c.actor).where(
                t.audit_log.c.subject_type == "assistant_conversation",
                t.audit_log.c.action == "read",
            )
        ).all()
    assert reads == [(f"staff:{officer}",)]

    client.cookies.clear()  # the officer's browser, not the kiosk's
    sign_in(client, world, "an")
    console = client.get("/officer/panel")
    assert f'id="transcript-{offered.id}"' in console.text
    assert "mijn fiets is gestolen" in console.text


def test_another_officer_cannot_read_the_transcript(client: TestClient, world: World) -> None:
    officer = add_officer(world, "an")
    other = add_officer(world, "bo")
    answered = assistant_service.ask(world.container.assistant, "I want a person")
    ticket = assistant_service.hand_over(
        world.container.assistant,
        world.container.queue,
        answered.conversation.id,
        location_slug="online",
        language="en",
        channel="home",
    )
    queue_service.offer_next(world.container.queue, officer)
    from loket.domain.errors import Refused

    with pytest.raises(Refused):
        assistant_service.transcript_for_officer(world.container.assistant, other, ticket.id)


def test_the_kiosk_reset_forgets_the_conversation(client: TestClient, world: World) -> None:
    page = client.get(f"{KIOSK}/assistant?lang=en")
    client.post(f"{KIOSK}/assistant", data={"text": "hello", "csrf_token": csrf_of(page.text)})
    assert count(world, t.assistant_conversations) == 1
    assert count(world, t.assistant_lines) == 2
    client.get(f"{KIOSK}/reset")
    assert count(world, t.assistant_conversations) == 0
    assert count(world, t.assistant_lines) == 0


def test_conversations_past_their_retention_are_purged(world: World) -> None:
    ctx = world.container.assistant
    assistant_service.ask(ctx, "hello")
    world.container.queue.clock.advance(hours=25)  # type: ignore[attr-defined]
    assert assistant_service.purge_expired(ctx) == 1
    assert count(world, t.assistant_conversations) == 0
    assert ctx.retention == timedelta(hours=24)


def test_unanswered_questions_are_counted_for_the_supervisor(
    client: TestClient, world: World
) -> None:
    ctx = world.container.assistant
    for text in ("Wat is de hoofdstad van Spanje?", "wat is de hoofdstad van spanje"):
        assert assistant_service.ask(ctx, text, language="nl").reply.intent == "unknown"
    assistant_service.ask(ctx, "mijn fiets is gestolen")
    [question] = assistant_service.unanswered_questions(ctx)
    assert (question.count, question.language) == (2, "nl")
    add_officer(world, "els", roles=frozenset({Role.SUPERVISOR}), status=None)
    sign_in(client, world, "els")
    page = client.get("/supervisor/assistant")
    assert page.status_code == 200
    assert f'id="unanswered-{question.id}"' in page.text
    done = client.post(
        f"/supervisor/assistant/unanswered/{question.id}/handled",
        data={"csrf_token": csrf_of(page.text)},
    )
    assert 'id="no-unanswered"' in done.text
    reloaded = client.post("/supervisor/assistant/reload", data={"csrf_token": csrf_of(page.text)})
    assert 'id="reload-done"' in reloaded.text


def test_staff_without_the_supervisor_role_do_not_see_the_questions(
    client: TestClient, world: World
) -> None:
    add_officer(world, "an")
    sign_in(client, world, "an")
    assert client.get("/supervisor/assistant").status_code == 403


# -- `loket ask`, the public contract ------------------------------------------------------------


def test_loket_ask_prints_one_json_object() -> None:
    done = subprocess.run(
        [LOKET, "ask", "--lang", "en", "mijn", "fiets", "is", "weg"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 1
    answer = json.loads(lines[0])
    assert answer["intent"] == "report.bicycle_theft"
    assert answer["language"] == "en"
    assert 0.0 <= answer["confidence"] <= 1.0
    assert answer["reply"].startswith("Was your bicycle")


def test_loket_ask_detects_the_language_and_refuses_an_unknown_one() -> None:
    detected = subprocess.run(
        [LOKET, "ask", "Où en est ma plainte ?"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    answer = json.loads(detected.stdout)
    assert (answer["intent"], answer["language"]) == ("info.report_status", "fr")
    refused = subprocess.run(
        [LOKET, "ask", "--lang", "xx", "hello"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 2 and refused.stdout == ""
