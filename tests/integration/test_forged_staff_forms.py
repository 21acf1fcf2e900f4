"""Every staff form refuses a post without its sign-in's CSRF token, and changes nothing.

Signed in with every role, so that no refusal comes from a missing role instead. The list
is every staff POST route; a new one not in it fails `test_every_staff_form_is_in_this_list`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from loket.domain.staff import Role
from loket.web.app import create_app
from tests.conftest import PASSWORD, World, add_officer
from tests.integration.test_forged_forms import every_row, posted_paths

BASE = "https://testserver"
EVERY_ROLE = frozenset(Role)
# Stand-ins: the token is checked before anything is looked up.
PLACES = {
    "ticket_id": "0" * 32,
    "question_id": "1",
    "username": "nobody",
    "slug": "bree",
    "help_id": "1",
    "staff_id": "1",
    "day": "2027-01-13",
    "reference": "AG-ABCD2345",
    "invitation_id": "0" * 32,
}
FORMS = [
    "/supervisor/assistant/reload",
    "/supervisor/assistant/unanswered/{question_id}/handled",
    "/officer/tickets/{ticket_id}/callback",
    "/officer/tickets/{ticket_id}/identity",
    "/staff/sign-out",
    "/officer/status",
    "/officer/next",
    "/officer/tickets/{ticket_id}/accept",
    "/officer/tickets/{ticket_id}/decline",
    "/officer/tickets/{ticket_id}/finish",
    "/officer/tickets/{ticket_id}/hold",
    "/officer/tickets/{ticket_id}/resume",
    "/officer/tickets/{ticket_id}/transfer",
    "/officer/heartbeat",
    "/supervisor/tickets/{ticket_id}/reassign",
    "/supervisor/officers/{username}/status",
    "/host/{slug}/help/{help_id}/acknowledge",
    "/host/{slug}/help/{help_id}/resolve",
    "/admin/staff/new",
    "/admin/staff/{staff_id}",
    "/admin/staff/{staff_id}/password",
    "/admin/staff/{staff_id}/second-factor",
    "/admin/staff/{staff_id}/deactivate",
    "/admin/staff/{staff_id}/reactivate",
    "/admin/locations/new",
    "/admin/locations/{slug}",
    "/admin/locations/{slug}/hours",
    "/admin/locations/{slug}/exceptions",
    "/admin/locations/{slug}/exceptions/{day}/remove",
    "/officer/calls/{ticket_id}/interpreter",
    "/officer/calls/{ticket_id}/interpreter/remove",
    "/officer/reports/{reference}/export",
]
# The sign-in steps (tested with the sign-in) and the call pages' scripts' token routes.
ELSEWHERE = [
    "/staff/sign-in",
    "/staff/sign-in/code",
    "/staff/sign-in/enrol",
    "/staff/sign-in/password",
    "/officer/calls/{ticket_id}/token",
    "/interpreter/calls/{invitation_id}/token",
]
STAFF = ("/officer", "/staff", "/supervisor", "/admin", "/host", "/interpreter")


@pytest.fixture
def signed_in(world: World) -> Iterator[TestClient]:
    add_officer(world, "root", roles=EVERY_ROLE)
    app = create_app(container=world.container)
    with TestClient(app, base_url=BASE, headers={"Accept-Language": "en"}) as client:
        client.post("/staff/sign-in", data=sign_in_form(client, "/staff/sign-in", "root"))
        code_page = client.get("/staff/sign-in/code")
        done = client.post(
            "/staff/sign-in/code",
            data={"csrf_token": token_of(code_page.text), "code": world.code("root")},
            follow_redirects=False,
        )
        assert done.status_code == 303 and "sign-in" not in done.headers["location"]
        yield client


def token_of(html: str) -> str:
    start = html.index('name="csrf_token" value="') + len('name="csrf_token" value="')
    return html[start : html.index('"', start)]


def sign_in_form(client: TestClient, path: str, username: str) -> dict[str, str]:
    page = client.get(path)
    return {"csrf_token": token_of(page.text), "username": username, "password": PASSWORD}


@pytest.mark.parametrize("path", FORMS)
def test_a_forged_staff_form_is_refused_and_changes_nothing(
    signed_in: TestClient, world: World, path: str
) -> None:
    url = path.format(**PLACES)
    rows = every_row(world)
    for data in ({"csrf_token": "forged"}, {}):
        refused = signed_in.post(url, data=data, follow_redirects=False)
        assert refused.status_code == 403, (url, refused.status_code, refused.text[:300])
        assert "text/html" in refused.headers["content-type"]
    assert every_row(world) == rows
    assert signed_in.get("/officer", follow_redirects=False).status_code == 200  # still in


def test_every_staff_form_is_in_this_list(signed_in: TestClient) -> None:
    staff = {path for path in posted_paths(signed_in.app) if path.startswith(STAFF)}
    assert staff == {*FORMS, *ELSEWHERE}
