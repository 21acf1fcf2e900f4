"""The callback API through the real app: slots, booking, idempotent retries, problems."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from loket.web.app import create_app
from tests.conftest import World

API = "/api/v1/callbacks"


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(container=world.container)) as client:
        yield client


def first_slot(client: TestClient) -> str:
    response = client.get(f"{API}/slots")
    assert response.status_code == 200
    assert response.json()["time_zone"] == "Europe/Brussels"
    return str(response.json()["slots"][0]["start_at"])


def book(client: TestClient, **changes: Any) -> Any:
    headers = changes.pop("headers", {})
    body = {
        "mode": "phone",
        "language": "nl",
        "slot_start_at": changes.pop("slot", None) or first_slot(client),
        "phone": "0470 12 34 56",
        "location": "online",
    } | changes
    return client.post(API, json=body, headers=headers)


def test_a_callback_is_booked_read_and_cancelled_through_the_api(client: TestClient) -> None:
    created = book(client, headers={"Idempotency-Key": "cb-1"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["state"] == "scheduled" and body["reference"].startswith("TB-")
    assert "phone" not in body
    assert created.headers["Location"] == f"{API}/{body['id']}"
    retried = book(client, slot=body["slot_start_at"], headers={"Idempotency-Key": "cb-1"})
    assert retried.json()["id"] == body["id"]

    read = client.get(f"{API}/{body['id']}")
    assert read.json()["reference"] == body["reference"]
    assert read.headers["Cache-Control"] == "no-store"
    cancelled = client.post(f"{API}/{body['id']}/cancel")
    assert cancelled.json()["state"] == "cancelled"


def test_slots_can_be_asked_from_a_moment_on(client: TestClient) -> None:
    start = datetime.fromisoformat(first_slot(client)) + timedelta(days=1)
    response = client.get(f"{API}/slots", params={"from": start.isoformat()})
    slots = response.json()["slots"]
    assert slots and datetime.fromisoformat(slots[0]["start_at"]) >= start


@pytest.mark.parametrize(
    ("changes", "status", "code", "field"),
    [
        ({"phone": "12"}, 422, "callback.phone_invalid", "phone"),
        ({"mode": "video", "phone": None}, 422, "callback.email_invalid", "email"),
        ({"slot": "2027-01-12T09:05:00+00:00"}, 422, "slot.past", "slot"),
        ({"slot": "2027-01-13T09:05:00+00:00"}, 422, "slot.outside_hours", "slot"),
        ({"language": "tr"}, 422, "callback.language_not_offered", "language"),
        ({"location": "nowhere"}, 404, "location.unknown", "location"),
        ({"mode": "fax"}, 422, "request.invalid", "mode"),
        ({"slot": "2027-01-13T09:00:00"}, 422, "request.invalid", "slot_start_at"),
    ],
)
def test_bad_input_is_a_problem_naming_the_field(
    client: TestClient, changes: dict[str, Any], status: int, code: str, field: str | None
) -> None:
    response = book(client, headers={"Accept-Language": "en"}, **changes)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == code
    assert problem.get("field") == field
    assert problem["detail"] != code


def test_an_unknown_callback_is_not_found(client: TestClient) -> None:
    response = client.get(f"{API}/{'0' * 32}")
    assert response.status_code == 404
    assert response.json()["code"] == "callback.unknown"
