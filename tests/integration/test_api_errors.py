"""Bad requests get a clear problem+json in the caller's language, and change nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from starlette.testclient import TestClient

from loket.domain.tickets import TicketState
from loket.services import queue
from loket.web.app import create_app
from tests.conftest import PASSWORD, FakeClock, World, add_officer

API = "/api/v1"
DUTCH = {"Accept-Language": "nl-BE,nl;q=0.9"}
ENGLISH = {"Accept-Language": "en-GB,en;q=0.8"}
VALID = {"location": "houthalen-helchteren", "service": "contact.video", "language": "nl"}


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with TestClient(create_app(container=world.container)) as client:
        yield client


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    """The problem+json body, after checking what every problem has."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    assert body["status"] == status
    assert body["type"].endswith("/" + code)
    assert body["detail"] and body["title"] == body["detail"]
    assert response.headers["content-language"] == body["language"]
    return body


def take(client: TestClient, body: Any, **headers: str) -> Any:
    return client.post(f"{API}/tickets", json=body, headers=headers)


def assert_nothing_written(world: World) -> None:
    assert queue.queue_view(world.container.queue).tickets == []


def sign_in(client: TestClient, world: World, username: str) -> dict[str, str]:
    response = client.post(
        f"{API}/auth/token",
        json={"username": username, "password": PASSWORD, "code": world.code(username)},
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


# -- taking a ticket ------------------------------------------------------------------------


def test_an_unknown_location_is_404_in_the_callers_language(
    client: TestClient, world: World
) -> None:
    body = {**VALID, "location": "nergenshuizen"}
    dutch = problem(take(client, body, **DUTCH), 404, "location.unknown")
    english = problem(take(client, body, **ENGLISH), 404, "location.unknown")

    assert dutch["field"] == english["field"] == "location"
    assert (dutch["language"], dutch["detail"]) == ("nl", "Dit loket bestaat niet.")
    assert (english["language"], english["detail"]) == ("en", "This desk does not exist.")
    assert problem(client.get(f"{API}/locations/nergenshuizen"), 404, "location.unknown")
    assert_nothing_written(world)


def test_a_closed_location_says_when_it_opens_again(
    client: TestClient, world: World, clock: FakeClock
) -> None:
    # Tuesday 23:00 in Brussels: Bree (07:00-21:00) is closed until Wednesday 07:00.
    clock.current = datetime(2027, 1, 12, 22, 0, tzinfo=UTC)
    body = {**VALID, "location": "bree"}
    dutch = problem(take(client, body, **DUTCH), 409, "location.closed")
    english = problem(take(client, body, **ENGLISH), 409, "location.closed")

    opens = datetime.fromisoformat(dutch["params"]["next_opening_at"])
    assert opens == datetime(2027, 1, 13, 6, 0, tzinfo=UTC)
    assert english["params"] == dutch["params"]
    assert dutch["detail"].startswith("Dit loket is nu gesloten.")
    assert english["detail"].startswith("This desk is closed now.")
    # The desk that never closes still takes tickets at night.
    assert take(client, {**VALID, "location": "genk-politiehuis"}).status_code == 201
    assert [t.location_code for t in queue.queue_view(world.container.queue).tickets] == ["GNK"]


def test_an_unknown_service_is_refused(client: TestClient, world: World) -> None:
    body = {**VALID, "service": "report.alien_abduction"}
    dutch = problem(take(client, body, **DUTCH), 422, "service.unknown")
    english = problem(take(client, body, **ENGLISH), 422, "service.unknown")

    assert dutch["field"] == "service"
    assert dutch["detail"] == "Deze dienst bestaat niet."
    assert english["detail"] == "This service does not exist."
    assert_nothing_written(world)


def test_a_service_the_desk_does_not_offer_is_refused(client: TestClient, world: World) -> None:
    # The mobile desk at the market takes no burglary reports (closed or not).
    body = {**VALID, "location": "genk-mobiel", "service": "report.burglary"}
    dutch = problem(take(client, body, **DUTCH), 422, "location.service_not_offered")
    english = problem(take(client, body, **ENGLISH), 422, "location.service_not_offered")

    assert dutch["field"] == "service"
    assert dutch["params"] == {"service": "report.burglary"}
    assert dutch["detail"] == "Dit loket biedt deze dienst niet aan."
    assert english["detail"] == "This desk does not offer this service."
    assert_nothing_written(world)


def test_a_language_the_desk_does_not_offer_is_refused(client: TestClient, world: World) -> None:
    # Houthalen-Helchteren helps in Dutch, French and English, not in German.
    body = {**VALID, "language": "de"}
    dutch = problem(take(client, body, **DUTCH), 422, "ticket.language_not_offered")
    english = problem(take(client, body, **ENGLISH), 422, "ticket.language_not_offered")

    assert dutch["field"] == "language"
    assert dutch["detail"] == "Dit loket biedt geen hulp in deze taal."
    assert english["detail"] == "This desk does not offer help in this language."
    assert_nothing_written(world)


def test_a_value_of_the_wrong_type_names_its_field(client: TestClient, world: World) -> None:
    body = {**VALID, "language": 12}
    dutch = problem(take(client, body, **DUTCH), 422, "request.invalid")
    english = problem(take(client, body, **ENGLISH), 422, "request.invalid")

    assert dutch["field"] == "language"
    assert dutch["detail"] == "Een deel van de invoer is niet geldig."
    assert dutch["errors"] == [{"field": "language", "message": "Dit moet tekst zijn."}]
    assert english["errors"] == [{"field": "language", "message": "This must be text."}]
    assert_nothing_written(world)


def test_missing_fields_are_each_named(client: TestClient, world: World) -> None:
    dutch = problem(take(client, {"location": "bree"}, **DUTCH), 422, "request.invalid")
    english = problem(take(client, {"location": "bree"}, **ENGLISH), 422, "request.invalid")

    assert dutch["field"] == "service"
    assert dutch["errors"] == [
        {"field": "service", "message": "Dit veld is verplicht."},
        {"field": "language", "message": "Dit veld is verplicht."},
    ]
    assert {e["message"] for e in english["errors"]} == {"This field is required."}
    assert_nothing_written(world)


def test_an_unexpected_field_is_refused_not_ignored(client: TestClient, world: World) -> None:
    body = {**VALID, "name": "Jan Janssens"}
    dutch = problem(take(client, body, **DUTCH), 422, "request.invalid")
    english = problem(take(client, body, **ENGLISH), 422, "request.invalid")

    assert dutch["field"] == "name"
    assert dutch["errors"] == [{"field": "name", "message": "Dit veld hoort hier niet."}]
    assert english["errors"] == [{"field": "name", "message": "This field is not expected."}]
    assert_nothing_written(world)


def test_a_value_of_the_wrong_form_is_refused(client: TestClient, world: World) -> None:
    body = {**VALID, "location": "Bree!", "channel": "carrier-pigeon"}
    english = problem(take(client, body, **ENGLISH), 422, "request.invalid")
    assert english["errors"] == [
        {"field": "location", "message": "This value has the wrong form."},
        {"field": "channel", "message": "This is not one of the allowed values."},
    ]
    assert_nothing_written(world)


def test_malformed_json_is_refused(client: TestClient, world: World) -> None:
    broken = '{"location": "bree", "service": '
    headers = {"Content-Type": "application/json"}
    dutch = client.post(f"{API}/tickets", content=broken, headers={**headers, **DUTCH})
    english = client.post(f"{API}/tickets", content=broken, headers={**headers, **ENGLISH})

    dutch_body = problem(dutch, 422, "request.invalid")
    english_body = problem(english, 422, "request.invalid")
    assert [e["message"] for e in dutch_body["errors"]] == ["De inhoud is geen geldige JSON."]
    assert [e["message"] for e in english_body["errors"]] == ["The body is not valid JSON."]
    assert_nothing_written(world)


def test_a_body_that_is_not_an_object_is_refused(client: TestClient, world: World) -> None:
    english = problem(take(client, ["bree"], **ENGLISH), 422, "request.invalid")
    assert [e["message"] for e in english["errors"]] == ["The body must be a JSON object."]
    assert_nothing_written(world)


def test_an_oversized_body_is_refused_with_413(client: TestClient, world: World) -> None:
    body = json.dumps({**VALID, "padding": "x" * 70_000})
    assert len(body) > 64 * 1024
    headers = {"Content-Type": "application/json"}
    dutch = problem(
        client.post(f"{API}/tickets", content=body, headers={**headers, **DUTCH}),
        413,
        "request.too_large",
    )
    english = problem(
        client.post(f"{API}/tickets", content=body, headers={**headers, **ENGLISH}),
        413,
        "request.too_large",
    )
    assert dutch["detail"] == "Het verzoek is te groot."
    assert english["detail"] == "The request is too large."
    assert_nothing_written(world)


def test_an_oversized_body_without_a_declared_length_is_refused_too(
    client: TestClient, world: World
) -> None:
    chunk = b'{"padding": "' + b"x" * 16_384

    def chunks() -> Iterator[bytes]:
        # Streamed (chunked), so only counting what arrives can catch it.
        for _ in range(5):
            yield chunk

    response = client.post(
        f"{API}/tickets",
        content=chunks(),
        headers={"Content-Type": "application/json", **ENGLISH},
    )
    problem(response, 413, "request.too_large")
    assert_nothing_written(world)


def test_an_idempotency_key_that_is_too_long_is_refused(client: TestClient, world: World) -> None:
    response = take(client, VALID, **{"Idempotency-Key": "k" * 201, **ENGLISH})
    body = problem(response, 400, "idempotency.invalid_key")
    assert body["field"] == "Idempotency-Key"
    assert body["detail"] == "The Idempotency-Key must be 1 to 200 characters."
    assert_nothing_written(world)


def test_an_unknown_ticket_is_404(client: TestClient) -> None:
    response = client.get(f"{API}/tickets/{'0' * 32}", headers=DUTCH)
    assert problem(response, 404, "ticket.unknown")["detail"] == "Dit volgnummer bestaat niet."


def test_an_unknown_path_and_a_wrong_method_are_problems_too(client: TestClient) -> None:
    assert problem(client.get(f"{API}/nothing-here", headers=ENGLISH), 404, "request.not_found")
    assert problem(
        client.delete(f"{API}/locations", headers=ENGLISH), 405, "request.method_not_allowed"
    )


# -- officers -------------------------------------------------------------------------------


def test_finishing_a_ticket_that_was_not_accepted_is_an_illegal_step(
    client: TestClient, world: World
) -> None:
    add_officer(world, "an")
    ticket = take(client, VALID).json()
    auth = sign_in(client, world, "an")
    finish = f"{API}/officer/tickets/{ticket['id']}/finish"

    # Still waiting: not this officer's ticket to finish.
    waiting = client.post(finish, json={"outcome": "informed"}, headers={**auth, **ENGLISH})
    assert problem(waiting, 409, "ticket.not_yours")["params"] == {"ticket": "HH-001"}

    # Offered but not accepted: the transition table refuses the step.
    client.post(f"{API}/officer/next", headers=auth)
    dutch = problem(
        client.post(finish, json={"outcome": "informed"}, headers={**auth, **DUTCH}),
        409,
        "ticket.illegal_transition",
    )
    english = problem(
        client.post(finish, json={"outcome": "informed"}, headers={**auth, **ENGLISH}),
        409,
        "ticket.illegal_transition",
    )
    assert dutch["params"] == {"ticket": "HH-001", "step": "finish", "state": "offered"}
    assert dutch["detail"] == (
        "Voor volgnummer HH-001 is de stap „finish” niet mogelijk zolang de status „offered” is."
    )
    assert english["detail"] == "Ticket HH-001 cannot do “finish” while it is “offered”."

    stored = queue.ticket_status(world.container.queue, ticket["id"]).ticket
    assert stored.state is TicketState.OFFERED and stored.outcome is None


def test_an_unknown_outcome_is_refused(client: TestClient, world: World) -> None:
    add_officer(world, "an")
    ticket = take(client, VALID).json()
    auth = sign_in(client, world, "an")
    client.post(f"{API}/officer/next", headers=auth)
    client.post(f"{API}/officer/tickets/{ticket['id']}/accept", headers=auth)

    response = client.post(
        f"{API}/officer/tickets/{ticket['id']}/finish",
        json={"outcome": "arrested"},
        headers={**auth, **ENGLISH},
    )
    body = problem(response, 422, "request.invalid")
    assert body["field"] == "outcome"
    assert body["errors"] == [
        {"field": "outcome", "message": "This is not one of the allowed values."}
    ]
    stored = queue.ticket_status(world.container.queue, ticket["id"]).ticket
    assert stored.state is TicketState.IN_SERVICE


# -- signing in -----------------------------------------------------------------------------


def test_a_wrong_code_a_wrong_password_and_an_unknown_user_look_the_same(
    client: TestClient, world: World
) -> None:
    add_officer(world, "an")
    good = {"username": "an", "password": PASSWORD, "code": world.code("an")}
    wrong_code = "000000" if good["code"] != "000000" else "111111"
    attempts = [
        {**good, "code": wrong_code},
        {**good, "password": "correct horse battery stapler"},
        {**good, "username": "nobody"},
    ]
    bodies = [
        problem(client.post(f"{API}/auth/token", json=a, headers=DUTCH), 401, "auth.failed")
        for a in attempts
    ]

    assert bodies[0] == bodies[1] == bodies[2]
    assert "field" not in bodies[0] and "params" not in bodies[0]
    assert bodies[0]["detail"] == "De gebruikersnaam, het wachtwoord of de code klopt niet."
    english = client.post(f"{API}/auth/token", json=attempts[0], headers=ENGLISH)
    assert problem(english, 401, "auth.failed")["detail"] == (
        "The username, password or code is not correct."
    )


def test_repeated_failures_make_the_next_attempt_wait(
    client: TestClient, world: World, clock: FakeClock
) -> None:
    add_officer(world, "an")
    wrong = {"username": "an", "password": "not the password at all", "code": "000000"}
    for _ in range(5):
        problem(client.post(f"{API}/auth/token", json=wrong), 401, "auth.failed")

    # Now even the right password and code must wait.
    right = {"username": "an", "password": PASSWORD, "code": world.code("an")}
    response = client.post(f"{API}/auth/token", json=right, headers=ENGLISH)
    body = problem(response, 429, "auth.throttled")
    assert response.headers["retry-after"] == "31"
    assert body["params"] == {"retry_after": 31}
    assert body["detail"] == "Too many failed attempts. Try again in 31 seconds."

    clock.advance(seconds=31)
    right["code"] = world.code("an")
    assert client.post(f"{API}/auth/token", json=right).status_code == 200


def test_a_sign_in_with_a_code_of_the_wrong_length_is_a_validation_problem(
    client: TestClient, world: World
) -> None:
    add_officer(world, "an")
    response = client.post(
        f"{API}/auth/token",
        json={"username": "an", "password": PASSWORD, "code": "12"},
        headers=ENGLISH,
    )
    body = problem(response, 422, "request.invalid")
    assert body["errors"] == [{"field": "code", "message": "This text is too short."}]


# -- rate limits ----------------------------------------------------------------------------


@pytest.fixture
def limited_client(world: World) -> Iterator[TestClient]:
    """The app with a limit of two tickets a minute per address."""
    settings = replace(world.container.settings, tickets_per_minute=2)
    with TestClient(create_app(settings, container=world.container)) as client:
        yield client


def test_taking_tickets_too_fast_is_rate_limited(limited_client: TestClient, world: World) -> None:
    assert take(limited_client, VALID).status_code == 201
    assert take(limited_client, VALID).status_code == 201

    response = take(limited_client, VALID, **DUTCH)
    body = problem(response, 429, "request.rate_limited")
    assert body["detail"] == "Te veel verzoeken. Wacht even en probeer het dan opnieuw."
    assert int(response.headers["retry-after"]) > 0
    assert body["params"]["retry_after"] == int(response.headers["retry-after"])
    english = problem(take(limited_client, VALID, **ENGLISH), 429, "request.rate_limited")
    assert english["detail"] == "Too many requests. Please wait a moment and try again."

    numbers = [t.number for t in queue.queue_view(world.container.queue).tickets]
    assert numbers == ["HH-001", "HH-002"]


def test_sign_in_attempts_from_one_address_are_limited_across_accounts(world: World) -> None:
    """Password spraying (one guess on many accounts) runs into a per-address limit."""
    world.container.settings = replace(world.container.settings, sign_ins_per_minute=3)
    with TestClient(create_app(container=world.container)) as client:
        answers = [
            client.post(
                "/api/v1/auth/token",
                json={"username": f"user{n}", "password": "guess-guess-guess", "code": "123456"},
            )
            for n in range(4)
        ]
    assert [a.status_code for a in answers] == [401, 401, 401, 429]
    assert answers[-1].json()["code"] == "request.rate_limited"
    assert int(answers[-1].headers["Retry-After"]) > 0
