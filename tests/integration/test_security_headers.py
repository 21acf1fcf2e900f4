"""Every kind of answer carries the security headers; personal pages are never cached."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

from loket.web.app import SECURITY_HEADERS, create_app
from tests.conftest import World

BASE = "https://testserver"


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    app = create_app(container=world.container)
    with TestClient(app, base_url=BASE, headers={"Accept-Language": "en"}) as client:
        yield client


def test_the_policy_allows_nothing_inline_and_nothing_from_elsewhere() -> None:
    policy = dict(
        part.strip().split(" ", 1)
        for part in SECURITY_HEADERS["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
    assert "unsafe" not in SECURITY_HEADERS["Content-Security-Policy"]
    assert "http" not in SECURITY_HEADERS["Content-Security-Policy"]


@pytest.mark.parametrize(
    ("method", "path", "status", "personal"),
    [
        ("GET", "/", 200, False),
        ("GET", "/kiosk/bree", 200, True),
        ("GET", "/staff/sign-in", 200, True),
        ("GET", "/officer", 303, False),  # not signed in: to the sign-in page
        ("GET", "/no-such-page", 404, False),
        ("POST", "/tickets", 403, True),  # a form without its token
        ("GET", "/api/v1/locations", 200, True),
        ("GET", "/api/v1/tickets/unknown", 404, True),
        ("GET", "/static/css/loket.css", 200, False),
        ("GET", "/healthz", 200, False),
    ],
)
def test_every_kind_of_answer_carries_the_security_headers(
    client: TestClient, method: str, path: str, status: int, personal: bool
) -> None:
    answer = client.request(method, path, follow_redirects=False)
    assert answer.status_code == status
    for name, value in SECURITY_HEADERS.items():
        assert answer.headers[name] == value, name
    if personal:
        assert answer.headers["cache-control"] == "no-store"
