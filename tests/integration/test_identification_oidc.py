"""Identity verified online: the OIDC client against the built-in test provider over real HTTP
(a live server on SQLite and PostgreSQL), through the citizen's pages and at the protocol level:
state, nonce, PKCE, a tampered or expired ID token and a wrong audience are all refused."""

from __future__ import annotations

import base64
import io
import json
import re
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx2
import pytest
import uvicorn
from joserfc import jwt
from joserfc.jwk import RSAKey
from pypdf import PdfReader
from sqlalchemy import select

from loket.adapters.db import schema as t
from loket.adapters.identity.oidc import OidcClient, OidcRefused, OidcSettings
from loket.bootstrap import Container, build
from loket.config import Settings
from loket.services import handover as handover_service
from loket.services import reports as report_service
from loket.web.app import create_app
from loket.web.oidc_test_provider import RegisteredClient
from tests.conftest import FAST_HASHER, FakeClock, seed_locations
from tests.integration.test_reports import BICYCLE

VERIFIED_NAME = "Jan Jansen (TEST)"  # the name the test provider gives its person "jansen"


@dataclass
class Live:
    url: str
    container: Container
    app: Any
    clock: FakeClock

    @property
    def oidc(self) -> OidcClient:
        assert self.container.oidc is not None
        return self.container.oidc


@pytest.fixture
def live(database_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[Live]:
    """A real server with the test provider enabled; the client discovers it over HTTP."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    settings = Settings(
        data_dir=tmp_path,
        database_url=database_url,
        demo=False,
        host="127.0.0.1",
        port=port,
        sweep_seconds=0.5,
        oidc_test_provider=True,
    )
    container = build(settings, clock=clock, hasher=FAST_HASHER)
    seed_locations(container)
    app = create_app(settings, container)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.02)
    yield Live(f"http://127.0.0.1:{port}", container, app, clock)
    server.should_exit = True
    thread.join(timeout=10)
    container.dispose()


@dataclass
class Browser:
    """A browser's cookie handling over plain HTTP to 127.0.0.1 (a secure context for real
    browsers, so they send Secure cookies there; Python's cookie jar would not)."""

    base: str
    cookies: dict[str, str] = field(default_factory=dict)
    http: httpx2.Client = field(default_factory=lambda: httpx2.Client(timeout=20))

    def request(self, method: str, url: str, **kwargs: Any) -> httpx2.Response:
        target = url if url.startswith("http") else self.base + url
        header = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        headers = {"Accept-Language": "en", **({"Cookie": header} if header else {})}
        response = self.http.request(method, target, headers=headers, **kwargs)
        for raw in response.headers.get_list("set-cookie"):
            jar: SimpleCookie = SimpleCookie()
            jar.load(raw)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or morsel.value in ("", '""'):
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return response

    def get(self, url: str) -> httpx2.Response:
        return self.request("GET", url)

    def post(self, url: str, data: dict[str, str]) -> httpx2.Response:
        return self.request("POST", url, data=data)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()


@pytest.fixture
def browser(live: Live) -> Iterator[Browser]:
    with Browser(live.url) as opened:
        yield opened


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query))


def finished_draft(live: Live, browser: Browser) -> str:
    """A bicycle theft answered in full at home, in this browser's session; its draft id."""
    tiles = browser.get("/services/report")
    started = browser.post(
        "/reports/start", {"csrf_token": csrf(tiles.text), "form": "report.bicycle_theft"}
    )
    assert started.status_code == 303, started.text
    with live.container.engine.connect() as conn:
        draft_id = str(conn.execute(select(t.report_drafts.c.id)).scalar_one())
    for question, raw in BICYCLE:
        report_service.answer(live.container.reports, draft_id, question, raw)
    return draft_id


def log_in_at_provider(browser: Browser, authorize_url: str, person: str = "jansen") -> str:
    """Pick a test person on the provider's page; the redirect back (not followed)."""
    page = browser.get(authorize_url)
    assert page.status_code == 200, page.text
    assert "TEST" in page.text
    token = re.search(r'name="request_token" value="([^"]+)"', page.text)
    assert token is not None
    answer = browser.post(
        "/oidc-test/authorize",
        {"request_token": token.group(1), "person": person, "action": "login"},
    )
    assert answer.status_code == 303
    return str(answer.headers["location"])


def level_of(live: Live, draft_id: str) -> str:
    with live.container.engine.connect() as conn:
        c = t.report_drafts.c
        return str(conn.execute(select(c.identification).where(c.id == draft_id)).scalar_one())


def verifications(live: Live) -> list[dict[str, Any]]:
    with live.container.engine.connect() as conn:
        rows = conn.execute(select(t.identity_verifications)).all()
    return [dict(row._mapping) for row in rows]


# -- through the citizen's pages --------------------------------------------------------------


def test_a_report_is_verified_online_signed_and_its_statement_carries_the_level(
    live: Live, browser: Browser
) -> None:
    draft_id = finished_draft(live, browser)
    check = browser.get("/report/check")
    assert check.status_code == 303 and check.headers["location"] == "/report/identify"
    choice = browser.get("/report/identify")
    assert 'id="verify-online"' in choice.text and 'id="verify-officer"' in choice.text

    went = browser.post("/report/identify/online", {"csrf_token": csrf(choice.text)})
    assert went.status_code == 303
    authorize_url = went.headers["location"]
    assert authorize_url.startswith(f"{live.url}/oidc-test/authorize?")
    asked = query(authorize_url)
    assert asked["code_challenge_method"] == "S256" and asked["nonce"] and asked["state"]
    assert f"form-action 'self' {live.url}" in went.headers["content-security-policy"]
    assert "samesite=lax" in went.headers["set-cookie"].lower()

    back = log_in_at_provider(browser, authorize_url)
    assert back.startswith(f"{live.url}/identification/callback?")
    landed = browser.get(back)
    assert landed.status_code == 200
    assert 'http-equiv="refresh" content="0; url=/report/check"' in landed.text
    assert "__Host-loket-oidc" not in browser.cookies  # spent

    assert level_of(live, draft_id) == "verified_online"
    [kept] = verifications(live)
    # Minimal data: a keyed pseudonym of the subject and the name; no birth date, no e-mail.
    assert re.fullmatch(r"[0-9a-f]{64}", kept["subject_ref"])
    assert kept["display_name"] == "Jan Jansen (TEST)"
    assert "test-0001" not in json.dumps(kept, default=str)
    assert "1980-04-01" not in json.dumps(kept, default=str)
    with live.container.engine.connect() as conn:
        audited = conn.execute(select(t.audit_log.c.action, t.audit_log.c.subject_id)).all()
    assert ("verify_identity", draft_id) in [tuple(row) for row in audited]

    check = browser.get("/report/check")
    assert check.status_code == 200
    sent = browser.post(
        "/report/submit",
        {"csrf_token": csrf(check.text), "confirm": "yes", "full_name": "Jan Jansen"},
    )
    assert sent.status_code == 303 and sent.headers["location"] == "/report/done"
    with live.container.engine.connect() as conn:
        reference, level = conn.execute(
            select(t.reports.c.reference, t.reports.c.identification)
        ).one()
    assert level == "verified_online"
    pdf = handover_service.download_statement(live.container.handover, reference, actor="staff:1")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    flat = " ".join(text.split())
    # Dutch first (authoritative), then the citizen's English.
    assert "Identiteit online geverifieerd (DigiD, itsme of eID)" in flat
    assert "Identity verified online (DigiD, itsme or eID)" in flat


def test_a_callback_whose_state_is_not_this_logins_records_nothing(
    live: Live, browser: Browser
) -> None:
    draft_id = finished_draft(live, browser)
    choice = browser.get("/report/identify")
    went = browser.post("/report/identify/online", {"csrf_token": csrf(choice.text)})
    back = log_in_at_provider(browser, went.headers["location"])
    forged = re.sub(r"state=[^&]+", "state=someone-elses-state", back)
    landed = browser.get(forged)
    assert "url=/report/identify?failed=1" in landed.text
    assert level_of(live, draft_id) == "self_declared" and verifications(live) == []
    again = browser.get("/report/identify?failed=1")
    assert "could not verify your identity online" in again.text
    assert 'id="verify-officer"' in again.text  # never a dead end
    # The genuine answer cannot be used afterwards either: the login's cookie is spent.
    replayed = browser.get(back)
    assert "url=/report/identify?failed=1" in replayed.text
    assert level_of(live, draft_id) == "self_declared"


def test_cancelling_at_the_provider_returns_to_the_choice(live: Live, browser: Browser) -> None:
    draft_id = finished_draft(live, browser)
    choice = browser.get("/report/identify")
    went = browser.post("/report/identify/online", {"csrf_token": csrf(choice.text)})
    page = browser.get(went.headers["location"])
    token = re.search(r'name="request_token" value="([^"]+)"', page.text)
    assert token is not None
    cancelled = browser.post(
        "/oidc-test/authorize", {"request_token": token.group(1), "action": "cancel"}
    )
    assert "error=access_denied" in cancelled.headers["location"]
    landed = browser.get(cancelled.headers["location"])
    assert "url=/report/identify?failed=1" in landed.text
    assert level_of(live, draft_id) == "self_declared"


# -- the protocol ------------------------------------------------------------------------------


def answer_for(live: Live, url: str, person: str = "jansen") -> dict[str, str]:
    with Browser(live.url) as browser:
        return query(log_in_at_provider(browser, url, person))


def raw_tokens(live: Live, settings: OidcSettings, code: str, verifier: str) -> dict[str, Any]:
    response = httpx2.post(
        f"{live.url}/oidc-test/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": settings.redirect_uri,
            "code_verifier": verifier,
        },
        auth=(settings.client_id, settings.client_secret),
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_a_nonce_that_is_not_this_logins_is_refused(live: Live) -> None:
    first, second = live.oidc.start(), live.oidc.start()
    params = answer_for(live, first.url)
    with pytest.raises(OidcRefused) as refused:
        live.oidc.finish(
            params, state=first.state, nonce=second.nonce, code_verifier=first.code_verifier
        )
    assert refused.value.reason == "nonce_mismatch"


def test_the_right_answer_gives_the_persons_claims(live: Live) -> None:
    login = live.oidc.start()
    params = answer_for(live, login.url, "peeters")
    claims = live.oidc.finish(
        params, state=login.state, nonce=login.nonce, code_verifier=login.code_verifier
    )
    assert claims["sub"] == "test-0002" and claims["aud"] == live.oidc.settings.client_id
    # A code works once.
    with pytest.raises(OidcRefused) as refused:
        live.oidc.finish(
            params, state=login.state, nonce=login.nonce, code_verifier=login.code_verifier
        )
    assert refused.value.reason == "token_refused"


def test_a_wrong_pkce_verifier_gets_no_token(live: Live) -> None:
    login, other = live.oidc.start(), live.oidc.start()
    params = answer_for(live, login.url)
    with pytest.raises(OidcRefused) as refused:
        live.oidc.finish(
            params, state=login.state, nonce=login.nonce, code_verifier=other.code_verifier
        )
    assert refused.value.reason == "token_refused"


def test_wrong_client_credentials_get_no_token(live: Live) -> None:
    login = live.oidc.start()
    params = answer_for(live, login.url)
    response = httpx2.post(
        f"{live.url}/oidc-test/token",
        data={
            "grant_type": "authorization_code",
            "code": params["code"],
            "redirect_uri": live.oidc.settings.redirect_uri,
            "code_verifier": login.code_verifier,
        },
        auth=(live.oidc.settings.client_id, "not-the-secret"),
    )
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


def test_an_unregistered_redirect_uri_is_not_served(live: Live) -> None:
    login = live.oidc.start()
    evil = login.url.replace("%2Fidentification%2Fcallback", "%2Fevil")
    page = httpx2.get(evil, follow_redirects=False)
    assert page.status_code == 400 and "location" not in page.headers


def test_a_tampered_id_token_is_refused(live: Live) -> None:
    login = live.oidc.start()
    params = answer_for(live, login.url)
    token = raw_tokens(live, live.oidc.settings, params["code"], login.code_verifier)["id_token"]
    assert live.oidc.validate_id_token(token, nonce=login.nonce)["sub"] == "test-0001"
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "test-0002"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    with pytest.raises(OidcRefused) as refused:
        live.oidc.validate_id_token(f"{header}.{forged}.{signature}", nonce=login.nonce)
    assert refused.value.reason == "invalid_token"
    # Signed by a key of the attacker's own, under the provider's key id.
    kid = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["kid"]
    own = RSAKey.generate_key(2048, parameters={"kid": kid})
    resigned = jwt.encode({"alg": "RS256", "kid": kid}, claims, own, algorithms=["RS256"])
    with pytest.raises(OidcRefused) as refused:
        live.oidc.validate_id_token(resigned, nonce=login.nonce)
    assert refused.value.reason == "invalid_token"


def test_an_expired_id_token_is_refused(live: Live) -> None:
    login = live.oidc.start()
    params = answer_for(live, login.url)
    token = raw_tokens(live, live.oidc.settings, params["code"], login.code_verifier)["id_token"]
    later = live.clock.now() + timedelta(minutes=10)
    client = OidcClient(live.oidc.settings, now=lambda: int(later.timestamp()))
    with pytest.raises(OidcRefused) as refused:
        client.validate_id_token(token, nonce=login.nonce)
    assert refused.value.reason == "token_expired"


def test_an_id_token_for_another_application_is_refused(live: Live) -> None:
    provider = live.app.state.oidc_test_provider
    other = OidcSettings(
        issuer=live.oidc.settings.issuer,
        client_id="another-app",
        client_secret="another-secret",
        redirect_uri=f"{live.url}/elsewhere/callback",
    )
    provider.register(
        RegisteredClient(other.client_id, other.client_secret, frozenset({other.redirect_uri}))
    )
    theirs = OidcClient(other, now=lambda: int(live.clock.now().timestamp()))
    login = theirs.start()
    params = answer_for(live, login.url)
    token = raw_tokens(live, other, params["code"], login.code_verifier)["id_token"]
    assert theirs.validate_id_token(token, nonce=login.nonce)["aud"] == "another-app"
    with pytest.raises(OidcRefused) as refused:
        live.oidc.validate_id_token(token, nonce=login.nonce)
    assert refused.value.reason == "audience_mismatch"
