"""Callback pages through the real app: booking, errors next to the field, cancelling."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from loket.services import callbacks as callback_service
from loket.web.app import create_app
from tests.conftest import World

BASE = "https://testserver"


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    app = create_app(container=world.container)
    with TestClient(app, base_url=BASE, headers={"Accept-Language": "en"}) as client:
        yield client


def booking_form(html: str) -> dict[str, str]:
    block = html[html.index('class="callback-form"') :]
    fields = dict(re.findall(r'type="hidden" name="([a-z_]+)" value="([^"]*)"', block))
    fields["slot"] = re.findall(r'name="slot" value="([^"]*)"', block)[0]
    return fields


def test_a_citizen_books_a_phone_callback_and_can_cancel_it(
    client: TestClient, world: World
) -> None:
    page = client.get("/services/callback")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    fields = booking_form(page.text) | {"mode": "phone", "language": "nl"}

    wrong = client.post("/services/callback", data=fields | {"phone": "12 34"})
    assert wrong.status_code == 422
    assert 'id="phone-error"' in wrong.text
    assert 'value="12 34"' in wrong.text  # the entered value is kept
    assert 'value="phone" checked' in wrong.text

    booked = client.post(
        "/services/callback", data=fields | {"phone": "0470 12 34 56"}, follow_redirects=False
    )
    assert booked.status_code == 303
    target = booked.headers["location"]
    assert re.fullmatch(r"/callbacks/[0-9a-f]{32}", target)
    # A double submit with the same form gets the same callback.
    again = client.post(
        "/services/callback", data=fields | {"phone": "0470 12 34 56"}, follow_redirects=False
    )
    assert again.headers["location"] == target

    shown = client.get(target)
    reference = re.search(r'id="callback-reference">([^<]+)<', shown.text)
    assert reference is not None and reference.group(1).startswith("TB-")
    assert "+32470123456" not in shown.text  # masked on a page that may be shared
    token = re.search(r'name="csrf_token" value="([^"]+)"', shown.text)
    assert token is not None
    client.post(f"{target}/cancel", data={"csrf_token": token.group(1), "back": target})
    callback_id = target.rsplit("/", 1)[1]
    cancelled = callback_service.get_callback(world.container.callbacks, callback_id)
    assert cancelled.state.value == "cancelled"


def test_a_booking_without_a_time_says_so_next_to_the_times(client: TestClient) -> None:
    page = client.get("/services/callback")
    fields = booking_form(page.text) | {"mode": "video", "language": "fr", "slot": ""}
    fields["email"] = "an@example.be"
    response = client.post("/services/callback", data=fields)
    assert response.status_code == 422
    assert 'id="slot-error"' in response.text
    assert 'value="an@example.be"' in response.text


def test_the_kiosk_offers_callbacks_too(client: TestClient) -> None:
    client.get("/kiosk/bree?lang=en")
    page = client.get("/kiosk/bree/services/callback")
    assert page.status_code == 200
    assert 'action="/kiosk/bree/services/callback"' in page.text
    fields = booking_form(page.text) | {"mode": "phone", "language": "nl"}
    booked = client.post(
        "/kiosk/bree/services/callback",
        data=fields | {"phone": "011 23 45 67"},
        follow_redirects=False,
    )
    assert booked.status_code == 303
    assert booked.headers["location"].startswith("/kiosk/bree/callbacks/")
