"""The JSON API end to end through the real app, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.testclient import TestClient

from loket.domain.staff import Role
from loket.services import queue
from loket.web.app import create_app
from tests.conftest import PASSWORD, World, add_officer

API = "/api/v1"


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(container=world.container)) as client:
        yield client


def take(
    client: TestClient,
    location: str = "houthalen-helchteren",
    service: str = "contact.video",
    language: str = "nl",
    **headers: str,
) -> Any:
    body = {"location": location, "service": service, "language": language}
    return client.post(f"{API}/tickets", json=body, headers=headers)


def sign_in(client: TestClient, world: World, username: str) -> dict[str, str]:
    response = client.post(
        f"{API}/auth/token",
        json={"username": username, "password": PASSWORD, "code": world.code(username)},
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def open_tickets(world: World) -> list[str]:
    return [t.number for t in queue.queue_view(world.container.queue).tickets]


# -- locations and services -----------------------------------------------------------------


def test_locations_say_whether_they_are_open_and_a_closed_one_when_it_opens(
    client: TestClient,
) -> None:
    response = client.get(f"{API}/locations")
    assert response.status_code == 200
    by_slug = {location["slug"]: location for location in response.json()}

    always = by_slug["genk-politiehuis"]["opening"]
    assert always["is_open"] is True and always["is_always_open"] is True
    # Open day and night, except for the maintenance of its booth on 16 February.
    maintenance = datetime(2027, 2, 16, 5, 0, tzinfo=UTC)
    assert datetime.fromisoformat(always["closes_at"]) == maintenance

    town_hall = by_slug["houthalen-helchteren"]
    assert town_hall["code"] == "HH" and town_hall["opening"]["is_open"] is True
    # Tuesday morning hours end at 12:00 in Brussels, 11:00 UTC in winter.
    closes_at = datetime.fromisoformat(town_hall["opening"]["closes_at"])
    assert closes_at == datetime(2027, 1, 12, 11, 0, tzinfo=UTC)
    assert "contact.video" in town_hall["services"] and "nl" in town_hall["languages"]

    # The mobile desk stands at the Saturday market only: 08:00 in Brussels, 07:00 UTC.
    market = by_slug["genk-mobiel"]["opening"]
    assert market["is_open"] is False and market["closes_at"] is None
    assert datetime.fromisoformat(market["next_opening_at"]) == datetime(
        2027, 1, 16, 7, 0, tzinfo=UTC
    )


def test_one_location_can_be_read_by_its_slug(client: TestClient) -> None:
    response = client.get(f"{API}/locations/bree")
    assert response.status_code == 200
    assert response.json()["code"] == "BRE"
    assert response.json()["hours"]["weekly"]["tue"] == [["07:00", "21:00"]]


def test_services_are_described_in_the_language_the_caller_asks_for(client: TestClient) -> None:
    def titles(accept_language: str) -> dict[str, str]:
        response = client.get(f"{API}/services", headers={"Accept-Language": accept_language})
        assert response.status_code == 200
        return {service["code"]: service["title"] for service in response.json()}

    dutch = titles("nl-BE,nl;q=0.9,en;q=0.5")
    english = titles("en-GB,en;q=0.9")
    french = titles("fr-BE")
    assert english["contact.video"] == "Talk to an officer"
    assert dutch["contact.video"] == "Praten met een agent"
    assert french["contact.video"] == "Parler à un policier"
    assert all(dutch[code] != english[code] for code in english)
    # An explicit ?lang= wins over the browser's preference.
    response = client.get(f"{API}/services?lang=de", headers={"Accept-Language": "en"})
    assert {s["code"]: s["title"] for s in response.json()}["report.theft"] == "Diebstahl anzeigen"


def test_a_referral_comes_translated_with_the_service(client: TestClient) -> None:
    response = client.get(f"{API}/services", headers={"Accept-Language": "nl"})
    burglary = next(s for s in response.json() if s["code"] == "report.burglary")
    assert burglary["needs_officer"] is True and burglary["is_self_service"] is False
    assert burglary["referral"].startswith("Bent u in gevaar")
    assert "112" in burglary["referral"]


# -- tickets --------------------------------------------------------------------------------


def test_taking_a_ticket_answers_with_its_number_position_and_wait(
    client: TestClient, world: World
) -> None:
    add_officer(world, "an")
    response = take(client)

    assert response.status_code == 201, response.text
    ticket = response.json()
    assert ticket["number"] == "HH-001"
    assert response.headers["location"] == f"{API}/tickets/{ticket['id']}"
    assert ticket["location"] == "houthalen-helchteren"
    assert ticket["state"] == "waiting" and ticket["position"] == 1
    assert set(ticket["estimated_wait"]) == {"is_known", "minutes", "low_minutes", "high_minutes"}
    assert response.headers["cache-control"] == "no-store"

    second = take(client).json()
    assert (second["number"], second["position"]) == ("HH-002", 2)
    assert take(client, location="bree").json()["number"] == "BRE-001"


def test_the_holder_of_a_ticket_can_follow_it(client: TestClient) -> None:
    taken = take(client, service="report.burglary", language="fr").json()

    response = client.get(f"{API}/tickets/{taken['id']}")
    assert response.status_code == 200
    ticket = response.json()
    assert (ticket["id"], ticket["number"], ticket["state"]) == (taken["id"], "HH-001", "waiting")
    assert (ticket["service"], ticket["language"]) == ("report.burglary", "fr")
    assert ticket["called_at"] is None
    assert response.headers["cache-control"] == "no-store"


def test_a_retry_with_the_same_idempotency_key_returns_the_same_ticket(
    client: TestClient, world: World
) -> None:
    first = take(client, **{"Idempotency-Key": "kiosk-7-0001"})
    again = take(client, **{"Idempotency-Key": "kiosk-7-0001"})

    assert first.status_code == 201 and again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["number"] == "HH-001"
    assert open_tickets(world) == ["HH-001"]
    # Another key is another ticket.
    assert take(client, **{"Idempotency-Key": "kiosk-7-0002"}).json()["number"] == "HH-002"


def test_the_same_idempotency_key_for_another_request_is_refused(
    client: TestClient, world: World
) -> None:
    take(client, **{"Idempotency-Key": "kiosk-7-0001"})
    response = take(client, service="report.burglary", **{"Idempotency-Key": "kiosk-7-0001"})

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "idempotency.key_reused"
    assert problem["field"] == "Idempotency-Key"
    assert open_tickets(world) == ["HH-001"]


def test_a_citizen_can_cancel_a_waiting_ticket(client: TestClient, world: World) -> None:
    taken = take(client).json()
    response = client.post(f"{API}/tickets/{taken['id']}/cancel")
    assert response.status_code == 200
    assert response.json()["state"] == "cancelled" and response.json()["position"] is None
    assert open_tickets(world) == []


# -- staff ----------------------------------------------------------------------------------


def test_an_officer_signs_in_takes_accepts_and_finishes_a_ticket(
    client: TestClient, world: World
) -> None:
    add_officer(world, "an")
    ticket = take(client).json()
    response = client.post(
        f"{API}/auth/token",
        json={"username": "an", "password": PASSWORD, "code": world.code("an")},
    )
    assert response.status_code == 200
    signed_in = response.json()
    assert signed_in["username"] == "an" and signed_in["roles"] == ["officer"]
    assert signed_in["token_type"] == "bearer"
    auth = {"Authorization": f"Bearer {signed_in['token']}"}

    offered = client.post(f"{API}/officer/next", headers=auth)
    assert offered.status_code == 200
    assert (offered.json()["id"], offered.json()["state"]) == (ticket["id"], "offered")
    # Asking again (a double click) returns the same offer.
    assert client.post(f"{API}/officer/next", headers=auth).json()["id"] == ticket["id"]

    accepted = client.post(
        f"{API}/officer/tickets/{ticket['id']}/accept", json={"booth": "2"}, headers=auth
    )
    assert accepted.status_code == 200 and accepted.json()["state"] == "in_service"
    followed = client.get(f"{API}/tickets/{ticket['id']}").json()
    assert followed["state"] == "in_service" and followed["called_at"] is not None

    contacts = client.get(f"{API}/officer/contacts", headers=auth).json()
    assert [c["number"] for c in contacts] == ["HH-001"]

    finished = client.post(
        f"{API}/officer/tickets/{ticket['id']}/finish",
        json={"outcome": "referred", "note": "Doorverwezen naar slachtofferhulp."},
        headers=auth,
    )
    assert finished.status_code == 200
    assert (finished.json()["state"], finished.json()["outcome"]) == ("finished", "referred")
    assert finished.json()["note"] == "Doorverwezen naar slachtofferhulp."
    assert client.get(f"{API}/officer/contacts", headers=auth).json() == []
    assert open_tickets(world) == []


def test_asking_for_the_next_ticket_when_none_waits_answers_204(
    client: TestClient, world: World
) -> None:
    add_officer(world, "an")
    auth = sign_in(client, world, "an")
    response = client.post(f"{API}/officer/next", headers=auth)
    assert response.status_code == 204
    assert response.content == b""


def test_the_queue_shows_waiting_tickets_to_staff(client: TestClient, world: World) -> None:
    add_officer(world, "an")
    take(client)
    take(client, location="bree", language="fr")
    auth = sign_in(client, world, "an")

    view = client.get(f"{API}/queue", headers=auth).json()
    assert [(t["number"], t["state"]) for t in view["tickets"]] == [
        ("HH-001", "waiting"),
        ("BRE-001", "waiting"),
    ]
    assert [o["username"] for o in view["officers"]] == ["an"]
    assert view["officers"][0]["status"] == "available"


def test_a_host_may_watch_the_queue_but_not_take_tickets(client: TestClient, world: World) -> None:
    add_officer(world, "henk", roles=frozenset({Role.HOST}), status=None)
    take(client)
    auth = sign_in(client, world, "henk")

    assert client.get(f"{API}/queue", headers=auth).status_code == 200
    response = client.post(f"{API}/officer/next", headers=auth)
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "auth.forbidden"
    assert open_tickets(world) == ["HH-001"]
    assert queue.queue_view(world.container.queue).tickets[0].state.value == "waiting"


def test_staff_endpoints_need_a_valid_token(client: TestClient, world: World) -> None:
    take(client)
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic eA=="}):
        response = client.post(f"{API}/officer/next", headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "auth.required"
    assert client.get(f"{API}/queue").status_code == 401


def test_a_supervisor_reassigns_an_offered_ticket_to_another_officer(
    client: TestClient, world: World
) -> None:
    add_officer(world, "an")
    add_officer(world, "jan")
    add_officer(world, "sara", roles=frozenset({Role.SUPERVISOR}))
    ticket = take(client).json()
    an, jan, sara = (sign_in(client, world, name) for name in ("an", "jan", "sara"))
    assert client.post(f"{API}/officer/next", headers=an).json()["id"] == ticket["id"]

    response = client.post(
        f"{API}/supervisor/tickets/{ticket['id']}/reassign",
        json={"to_officer": "jan"},
        headers=sara,
    )
    assert response.status_code == 200
    assert response.json()["state"] == "offered"
    assert client.get(f"{API}/officer/contacts", headers=an).json() == []
    assert [c["id"] for c in client.get(f"{API}/officer/contacts", headers=jan).json()] == [
        ticket["id"]
    ]

    # An officer may not reassign; the supervisor can send it back to the queue.
    refused = client.post(
        f"{API}/supervisor/tickets/{ticket['id']}/reassign", json={"to_officer": "an"}, headers=jan
    )
    assert refused.status_code == 403 and refused.json()["code"] == "auth.forbidden"
    back = client.post(
        f"{API}/supervisor/tickets/{ticket['id']}/reassign", json={"to_officer": None}, headers=sara
    )
    assert back.status_code == 200
    assert back.json()["state"] == "waiting" and back.json()["is_returned"] is True


def test_signing_out_everywhere_revokes_every_token_of_the_account(
    client: TestClient, world: World, clock
) -> None:
    add_officer(world, "an")
    add_officer(world, "jan")
    laptop = sign_in(client, world, "an")
    clock.advance(seconds=30)
    phone = sign_in(client, world, "an")
    colleague = sign_in(client, world, "jan")
    for auth in (laptop, phone, colleague):
        assert client.get(f"{API}/queue", headers=auth).status_code == 200

    response = client.delete(f"{API}/auth/token?everywhere=true", headers=phone)
    assert response.status_code == 204

    assert client.get(f"{API}/queue", headers=laptop).status_code == 401
    assert client.get(f"{API}/queue", headers=phone).status_code == 401
    assert client.get(f"{API}/queue", headers=colleague).status_code == 200


def test_signing_out_one_token_leaves_the_others(client: TestClient, world: World, clock) -> None:
    add_officer(world, "an")
    laptop = sign_in(client, world, "an")
    clock.advance(seconds=30)
    phone = sign_in(client, world, "an")

    assert client.delete(f"{API}/auth/token", headers=phone).status_code == 204
    assert client.get(f"{API}/queue", headers=phone).status_code == 401
    assert client.get(f"{API}/queue", headers=laptop).status_code == 200


# -- operations -----------------------------------------------------------------------------


def test_the_openapi_document_lists_the_endpoints(client: TestClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    expected = {
        f"{API}/locations": {"get"},
        f"{API}/locations/{{slug}}": {"get"},
        f"{API}/services": {"get"},
        f"{API}/tickets": {"post"},
        f"{API}/tickets/{{ticket_id}}": {"get"},
        f"{API}/tickets/{{ticket_id}}/cancel": {"post"},
        f"{API}/auth/token": {"post", "delete"},
        f"{API}/queue": {"get"},
        f"{API}/officer/next": {"post"},
        f"{API}/officer/tickets/{{ticket_id}}/accept": {"post"},
        f"{API}/officer/tickets/{{ticket_id}}/finish": {"post"},
        f"{API}/supervisor/tickets/{{ticket_id}}/reassign": {"post"},
        "/healthz": {"get"},
        "/readyz": {"get"},
    }
    for path, methods in expected.items():
        assert path in paths, path
        assert methods <= set(paths[path]), path
    assert "Idempotency-Key" in {p["name"] for p in paths[f"{API}/tickets"]["post"]["parameters"]}


def test_health_and_readiness_answer_in_json(client: TestClient) -> None:
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.headers["content-type"] == "application/json"
    assert health.json()["status"] == "ok"

    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.headers["content-type"] == "application/json"
    assert ready.json() == {"status": "ok", "checks": {"database": "ok", "events": "ok"}}
