"""Every citizen form refuses a post without its session's CSRF token, and changes nothing.

The list below is every citizen POST route with a page behind it (the call-token routes
answer scripts in JSON and are tested with the calls). A new form added without a check
fails `test_every_citizen_form_is_in_this_list`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from loket.adapters.db import schema as t
from loket.services import callbacks as callback_service
from loket.services import queue as queue_service
from loket.web.app import create_app
from tests.conftest import World
from tests.integration.test_report_pages import BASE, KIOSK, start
from tests.integration.test_service_monitor_pages import finished_ticket

# The survey speaks the contact's language (Dutch here), the other pages the browser's.
EXPIRED = {"en": "This form has expired. Please try again.", "nl": "Dit formulier is verlopen."}
# Posted with every form; a real client would also send its fields.
FIELDS = {"value": "phone", "form": "report.theft", "code": "ABCD-EFGH", "text": "hallo"}

FORMS = [
    "/assistant",
    "/assistant/handover",
    "/services/callback",
    "/report/identify/online",
    "/report/identify/officer",
    "/reports/start",
    "/report/q/{question}",
    "/report/q/{question}/documents",
    "/report/submit",
    "/report/code",
    "/report/acknowledgement/email",
    "/report/acknowledgement/code",
    "/report/resume",
    "/report/access",
    "/tips/follow-up",
    "/status",
    "/tickets",
]
HOME_ONLY = [
    "/t/{ticket}/cancel",
    "/callbacks/{callback}/cancel",
    "/acknowledgement",
    "/survey/{survey}",
]
KIOSK_ONLY = ["/help"]
# Posted by the call pages' scripts, answered in JSON: not forms.
SCRIPTED = ["/t/{ticket_id}/call/token", "/interpret/calls/{invitation_id}/token"]


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    app = create_app(container=world.container)
    with TestClient(app, base_url=BASE, headers={"Accept-Language": "en"}) as client:
        yield client


def every_row(world: World) -> dict[str, int]:
    with world.container.engine.connect() as conn:
        return {
            table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
            for table in t.metadata.sorted_tables
        }


def draft_state(world: World) -> list[tuple[Any, ...]]:
    with world.container.engine.connect() as conn:
        return [tuple(row) for row in conn.execute(select(t.report_drafts))]


def url_of(path: str, client: TestClient, world: World) -> str:
    """`path` with a real thing behind each placeholder, and a draft in the session."""
    base = KIOSK if path.startswith("/kiosk/") else ""
    if base:
        client.get(f"{KIOSK}?lang=en")
    question = start(client, base, "report.theft").rsplit("/", 1)[-1]
    ticket = survey = callback = ""
    if "{ticket}" in path:
        ticket = queue_service.take_ticket(
            world.container.queue,
            location_slug="utrecht-stationsplein",
            service_code="contact.video",
            language="nl",
            channel="kiosk",
        ).id
    if "{survey}" in path:
        offered = client.get(f"/t/{finished_ticket(world)}/survey", follow_redirects=False)
        survey = offered.headers["location"].rsplit("/", 1)[-1]
    if "{callback}" in path:
        callback = callback_service.request_callback(
            world.container.callbacks,
            booked_at="online",
            mode="phone",
            language="nl",
            slot_start_at=callback_service.available_slots(world.container.callbacks)[0].start_at,
            contact="0470 12 34 56",
        ).id
    return path.format(question=question, ticket=ticket, callback=callback, survey=survey)


@pytest.mark.parametrize(
    "path",
    [*FORMS, *HOME_ONLY, *(KIOSK + form for form in [*FORMS, *KIOSK_ONLY])],
)
def test_a_forged_form_is_refused_with_a_page_and_changes_nothing(
    client: TestClient, world: World, path: str
) -> None:
    url = url_of(path, client, world)
    rows, drafts = every_row(world), draft_state(world)

    for token in ("forged", None):
        data = FIELDS if token is None else {**FIELDS, "csrf_token": token}
        refused = client.post(url, data=data, follow_redirects=False)
        assert refused.status_code == 403, (url, refused.status_code, refused.text[:300])
        language = "nl" if path.startswith("/survey/") else "en"
        assert f'<html lang="{language}"' in refused.text and EXPIRED[language] in refused.text
        assert "text/html" in refused.headers["content-type"]

    assert every_row(world) == rows and draft_state(world) == drafts


def posted_paths(app: Any) -> set[str]:
    """The paths of every POST route of the app."""

    def walk(routes: list[Any]) -> Iterator[str]:
        for route in routes:
            inner = getattr(route, "original_router", None)  # FastAPI's included routers
            if inner is not None:
                yield from walk(inner.routes)
            elif "POST" in (getattr(route, "methods", None) or ()):
                yield route.path

    paths = set(walk(app.routes))
    assert paths, "no routes found: the walk no longer matches FastAPI's routers"
    return paths


def test_every_citizen_form_is_in_this_list(client: TestClient) -> None:
    staff = ("/api", "/officer", "/staff", "/supervisor", "/admin", "/host", "/interpreter")
    staff += ("/oidc-test",)
    citizen = {path for path in posted_paths(client.app) if not path.startswith(staff)}
    listed = {
        *FORMS,
        *HOME_ONLY,
        *SCRIPTED,
        *("/kiosk/{slug}" + form for form in [*FORMS, *KIOSK_ONLY]),
    }
    listed = {
        path.replace("{question}", "{question_id}")
        .replace("{ticket}", "{ticket_id}")
        .replace("{callback}", "{callback_id}")
        .replace("{survey}", "{token}")
        for path in listed
    }
    assert citizen == listed
