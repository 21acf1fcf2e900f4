"""Chat and documents in a call through the API: the call token decides who may, the room
hears at once, bad files are refused with a translated problem, downloads are inert."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from loket.domain.exchange import Author, AuthorRole
from loket.domain.tickets import Outcome
from loket.services import calls as call_service
from loket.services import exchange, queue
from tests.conftest import World, add_officer
from tests.integration.test_call_signalling import client, join, next_of, served, video_ticket
from tests.unit.test_exchange import JPEG, PDF

__all__ = ["client"]  # the fixture, shared with the signalling tests
API = "/api/v1/calls"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_chat_reaches_the_other_side_live_and_is_kept(client: TestClient, world: World) -> None:
    ticket, officer = served(world)
    calls = world.container.calls
    citizen = call_service.issue_citizen_token(calls, ticket.id).token
    officer_token = call_service.issue_officer_token(calls, officer, ticket.id).token
    officer_ws, context = join(client, officer_token)
    try:
        next_of(officer_ws, "call.joined")
        sent = client.post(
            f"{API}/messages", json={"text": "Hallo, hoort u mij?"}, headers=bearer(citizen)
        )
        assert sent.status_code == 201, sent.text
        heard = next_of(officer_ws, "chat.message")
        assert heard["data"]["id"] == sent.json()["id"]
        assert (heard["data"]["role"], heard["data"]["text"]) == ("citizen", "Hallo, hoort u mij?")
    finally:
        context.__exit__(None, None, None)
    answer = client.post(f"{API}/messages", json={"text": "Ja"}, headers=bearer(officer_token))
    # The officer's name is kept with the contact, but not sent to the citizen's browser.
    assert "name" not in answer.json() and "An" not in answer.text
    officer_author = Author(AuthorRole.OFFICER, "An", staff_id=officer)
    kept_names = [
        m.author.name
        for m in exchange.read_messages(world.container.queue, ticket.id, officer_author)
    ]
    assert kept_names == ["citizen", "An"]
    kept = client.get(f"{API}/messages", headers=bearer(citizen)).json()
    assert [(m["role"], m["text"]) for m in kept] == [
        ("citizen", "Hallo, hoort u mij?"),
        ("officer", "Ja"),
    ]


def test_documents_go_both_ways_and_a_bad_file_is_refused_in_the_callers_language(
    client: TestClient, world: World
) -> None:
    ticket, officer = served(world)
    calls = world.container.calls
    citizen = call_service.issue_citizen_token(calls, ticket.id).token
    officer_token = call_service.issue_officer_token(calls, officer, ticket.id).token
    photo = client.post(
        f"{API}/documents",
        files={"file": ("fiets.jpg", JPEG, "image/jpeg")},
        headers=bearer(citizen),
    )
    assert photo.status_code == 201, photo.text
    form = client.post(
        f"{API}/documents",
        files={"file": ("formulier.pdf", PDF, "application/pdf")},
        headers=bearer(officer_token),
    )
    assert form.status_code == 201
    download = client.get(f"{API}/documents/{photo.json()['id']}", headers=bearer(officer_token))
    assert download.content == JPEG
    assert download.headers["content-type"] == "image/jpeg"
    assert download.headers["content-disposition"] == "attachment; filename*=UTF-8''fiets.jpg"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in download.headers["content-security-policy"]
    assert (
        client.get(f"{API}/documents/{form.json()['id']}", headers=bearer(citizen)).content == PDF
    )

    # A program renamed to .pdf, with a browser that claims it is a PDF.
    refused = client.post(
        f"{API}/documents",
        files={"file": ("aangifte.pdf", b"MZ\x90\x00" * 64, "application/pdf")},
        headers={**bearer(citizen), "Accept-Language": "nl"},
    )
    assert refused.status_code == 415
    problem = refused.json()
    assert problem["code"] == "document.type_not_allowed"
    assert problem["field"] == "file"
    assert problem["detail"].startswith("Dit bestand kan niet worden verstuurd.")
    listed = client.get(f"{API}/documents", headers=bearer(citizen)).json()
    assert [d["filename"] for d in listed] == ["fiets.jpg", "formulier.pdf"]


def test_an_oversized_upload_is_refused_before_it_is_stored(
    client: TestClient, world: World
) -> None:
    ticket, _officer = served(world)
    citizen = call_service.issue_citizen_token(world.container.calls, ticket.id).token
    limit = world.container.settings.max_document_bytes
    too_big = JPEG[:-2] + b"\x00" * limit + b"\xff\xd9"
    answer = client.post(
        f"{API}/documents",
        files={"file": ("big.jpg", too_big, "image/jpeg")},
        headers=bearer(citizen),
    )
    assert answer.status_code == 413
    assert client.get(f"{API}/documents", headers=bearer(citizen)).json() == []


def test_strangers_and_old_participants_are_kept_out(client: TestClient, world: World) -> None:
    ticket, officer = served(world)
    calls = world.container.calls
    citizen = call_service.issue_citizen_token(calls, ticket.id).token
    assert client.get(f"{API}/messages").status_code == 401
    assert client.get(f"{API}/messages", headers=bearer("forged.token")).status_code == 401
    # A colleague's token for another call does not open this one's documents.
    bo = add_officer(world, "bo")
    other = video_ticket(world)
    assert queue.offer_next(world.container.queue, bo) is not None
    queue.accept_ticket(world.container.queue, bo, other.id)
    theirs = call_service.issue_officer_token(calls, bo, other.id).token
    mine = client.post(
        f"{API}/documents",
        files={"file": ("a.pdf", PDF, "application/pdf")},
        headers=bearer(citizen),
    ).json()
    assert client.get(f"{API}/documents/{mine['id']}", headers=bearer(theirs)).status_code == 404
    # Once the contact is over, the citizen's token opens nothing any more.
    queue.finish_ticket(world.container.queue, officer, ticket.id, Outcome.INFORMED)
    ended = client.get(f"{API}/messages", headers=bearer(citizen))
    assert ended.status_code == 409
    assert ended.json()["code"] == "call.ended"


@pytest.mark.parametrize("text", ["", "   ", "x" * 2001])
def test_an_empty_or_overlong_message_is_refused(
    client: TestClient, world: World, text: str
) -> None:
    ticket, _officer = served(world)
    citizen = call_service.issue_citizen_token(world.container.calls, ticket.id).token
    answer = client.post(f"{API}/messages", json={"text": text}, headers=bearer(citizen))
    assert answer.status_code == 422
    assert client.get(f"{API}/messages", headers=bearer(citizen)).json() == []
