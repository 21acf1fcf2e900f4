"""Citizen pages through the real app: forms, their errors, and the kiosk's reset."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from starlette.testclient import TestClient

from loket.services import queue
from loket.web.app import create_app
from tests.conftest import World

# Cookies are Secure (and __Host-), so the client must speak https to get them back.
BASE = "https://testserver"
NIGHT = datetime(2027, 1, 12, 2, 0, tzinfo=UTC)


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    app = create_app(container=world.container)
    with TestClient(app, base_url=BASE, headers={"Accept-Language": "en"}) as client:
        yield client


def form_of(html: str, service: str = "contact.video") -> dict[str, str]:
    """The hidden fields of the ticket form for `service` on a page."""
    start = html.index(f'name="service" value="{service}"')
    block = html[html.rindex("<form", 0, start) : html.index("</form>", start)]
    return dict(re.findall(r'name="([a-z_]+)" value="([^"]*)"', block))


def open_tickets(world: World) -> list[tuple[str, str, str]]:
    return [
        (t.number, t.service_code, t.language)
        for t in queue.queue_view(world.container.queue).tickets
    ]


def test_the_kiosk_asks_the_language_first_and_remembers_it(client: TestClient) -> None:
    first = client.get("/kiosk/bree")
    assert first.status_code == 200 and 'id="choose-language"' in first.text
    assert "__Host-loket-citizen" not in first.cookies  # nothing to remember yet
    chosen = client.get("/kiosk/bree?lang=fr")
    assert chosen.headers["content-language"] == "fr" and 'data-tile="report"' in chosen.text
    again = client.get("/kiosk/bree")
    assert again.headers["content-language"] == "fr"


def test_taking_a_ticket_twice_with_the_same_key_gives_one_ticket(
    client: TestClient, world: World
) -> None:
    page = client.get("/kiosk/bree/services/officer?lang=en")
    fields = form_of(page.text)
    for _ in range(2):
        response = client.post("/kiosk/bree/tickets", data=fields, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/kiosk/bree/ticket"
    assert open_tickets(world) == [("BRE-001", "contact.video", "en")]
    ticket = client.get("/kiosk/bree/ticket")
    assert "BRE-001" in ticket.text and ticket.headers["cache-control"] == "no-store"


def test_a_form_without_a_valid_token_is_refused_with_a_clear_page(
    client: TestClient, world: World
) -> None:
    page = client.get("/kiosk/bree/services/officer?lang=en")
    fields = form_of(page.text) | {"csrf_token": "forged"}
    response = client.post("/kiosk/bree/tickets", data=fields)
    assert response.status_code == 403
    assert "This form has expired. Please try again." in response.text
    assert 'href="/kiosk/bree"' in response.text
    assert open_tickets(world) == []


def test_a_service_that_does_not_exist_is_shown_on_the_page_with_the_form(
    client: TestClient, world: World
) -> None:
    page = client.get("/kiosk/bree/services/officer?lang=en")
    fields = form_of(page.text) | {"service": "contact.teleport"}
    response = client.post("/kiosk/bree/tickets", data=fields)
    assert response.status_code == 422
    assert 'id="error-summary"' in response.text
    assert "This service does not exist." in response.text
    assert 'href="#ticket-contact-video"' in response.text  # the summary leads to the form
    assert 'id="ticket-contact-video"' in response.text
    assert open_tickets(world) == []


def test_a_citizen_whose_language_is_not_spoken_is_asked_which_one_to_speak(
    client: TestClient, world: World
) -> None:
    page = client.get("/kiosk/bree/services/officer?lang=de")
    fields = form_of(page.text)
    question = client.post("/kiosk/bree/tickets", data=fields)
    assert question.status_code == 200 and 'id="language-fr"' in question.text
    asked = fields | {"asked": "yes"}
    unanswered = client.post("/kiosk/bree/tickets", data=asked)
    assert unanswered.status_code == 422 and 'href="#language-nl"' in unanswered.text
    assert f'value="{fields["idempotency_key"]}"' in unanswered.text  # what was sent stays
    answered = client.post(
        "/kiosk/bree/tickets", data=asked | {"language": "fr"}, follow_redirects=False
    )
    assert answered.status_code == 303
    assert open_tickets(world) == [("BRE-001", "contact.video", "fr")]


def test_a_closed_desk_refuses_the_ticket_and_says_why(client: TestClient, world: World) -> None:
    page = client.get("/kiosk/bree/services/officer?lang=en")
    fields = form_of(page.text)
    world.container.queue.clock.current = NIGHT  # type: ignore[attr-defined]
    response = client.post("/kiosk/bree/tickets", data=fields)
    assert response.status_code == 409 and "This desk is closed now." in response.text
    closed = client.get("/kiosk/bree")
    assert 'id="closed-heading"' in closed.text
    assert "Tuesday, 12 January 2027, 07:00" in closed.text
    assert 'data-desk="genk-politiehuis"' in closed.text
    assert open_tickets(world) == []


def test_the_reset_tells_the_browser_to_forget_everything(client: TestClient) -> None:
    client.get("/kiosk/bree?lang=en")
    response = client.get("/kiosk/bree/reset", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/kiosk/bree"
    assert response.headers["clear-site-data"] == '"cache", "cookies", "storage"'
    assert response.headers["cache-control"] == "no-store"
    assert "Max-Age=0" in response.headers["set-cookie"]
    assert "__Host-loket-citizen" in response.headers["set-cookie"]


def test_pages_of_the_previous_citizen_lead_back_to_the_language_choice(
    client: TestClient,
) -> None:
    for path in ("/kiosk/bree/ticket", "/kiosk/bree/services/officer"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"] == "/kiosk/bree"


def test_a_ticket_is_followed_and_cancelled_by_its_key_with_a_token(
    client: TestClient, world: World
) -> None:
    page = client.get("/services/officer")
    taken = client.post("/tickets", data=form_of(page.text), follow_redirects=False)
    assert taken.status_code == 303
    path = taken.headers["location"]
    assert re.fullmatch(r"/t/[0-9a-f]{32}", path)
    followed = client.get(path)
    assert followed.status_code == 200 and "WEB-001" in followed.text
    status = client.get(f"{path}/status")
    assert 'data-state="waiting"' in status.text and "<html" not in status.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', followed.text)
    assert token is not None
    assert client.post(f"{path}/cancel", data={"csrf_token": "forged"}).status_code == 403
    cancelled = client.post(f"{path}/cancel", data={"csrf_token": token[1]})
    assert cancelled.status_code == 200 and 'data-state="cancelled"' in cancelled.text
    assert open_tickets(world) == []


def test_unknown_pages_and_tickets_are_clear_404s(client: TestClient) -> None:
    for path in ("/t/not-a-ticket", "/t/" + "0" * 32, "/kiosk/atlantis", "/services/dancing"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "text/html" in response.headers["content-type"]
