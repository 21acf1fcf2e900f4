"""A built-in OpenID Connect provider for the demo and the tests: NEVER for production.

Mounted under /oidc-test only when LOKET_OIDC_TEST_PROVIDER=1. It serves a discovery
document, its JWKS (an RSA key made at start, kept in memory), an authorize page where one
picks one of a few fictional persons (clearly marked TEST), and a token endpoint that checks
the code (single use, 2 minutes), the PKCE verifier, the client's credentials and the
redirect URI, then issues an ID token signed with that key. State lives in this process: one
node only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from joserfc import jwt
from joserfc.jwk import RSAKey

from loket.domain.i18n import N_
from loket.web.pages import render
from loket.web.problems import language_of
from loket.web.sessions import Signer

PREFIX = "/oidc-test"
CODE_LIFETIME = timedelta(minutes=2)
TOKEN_LIFETIME = timedelta(minutes=5)
_SIGNED_PURPOSE = "oidc-test-authorize"

router = APIRouter(prefix=PREFIX, include_in_schema=False)


@dataclass(frozen=True)
class FictionalPerson:
    """A fictional person; the claims are what a broker would send (more than Loket keeps)."""

    key: str
    claims: dict[str, Any]


# Fictional people. Their subjects look like nothing real; "TEST" is in every name.
FICTIONAL_PERSONS = (
    FictionalPerson(
        "jansen",
        {
            "sub": "test-0001",
            "name": "Jan Jansen (TEST)",
            "given_name": "Jan",
            "family_name": "Jansen (TEST)",
            "birthdate": "1980-04-01",
            "email": "jan.jansen@example.invalid",
        },
    ),
    FictionalPerson(
        "peeters",
        {
            "sub": "test-0002",
            "name": "Marie Peeters (TEST)",
            "given_name": "Marie",
            "family_name": "Peeters (TEST)",
            "birthdate": "1992-11-23",
        },
    ),
    FictionalPerson(
        "yilmaz",
        {
            "sub": "test-0003",
            "given_name": "Deniz",
            "family_name": "Yılmaz (TEST)",
            "birthdate": "2001-07-15",
        },
    ),
)
_PERSONS = {person.key: person for person in FICTIONAL_PERSONS}


@dataclass(frozen=True)
class RegisteredClient:
    client_id: str
    client_secret: str
    redirect_uris: frozenset[str]


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    code_challenge: str
    nonce: str
    person: FictionalPerson
    expires_at: datetime


@dataclass
class BuiltInProvider:
    """The provider's state: its key, its clients and the codes not yet exchanged."""

    issuer: str
    now: Callable[[], datetime]
    key: RSAKey = field(default_factory=lambda: _new_key())
    clients: dict[str, RegisteredClient] = field(default_factory=dict)
    _codes: dict[str, _Grant] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def register(self, client: RegisteredClient) -> None:
        self.clients[client.client_id] = client

    def discovery(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token",
            "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "grant_types_supported": ["authorization_code"],
        }

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.as_dict(private=False)]}

    def issue_code(self, grant: _Grant) -> str:
        code = secrets.token_urlsafe(32)
        with self._lock:
            self._drop_expired()
            self._codes[code] = grant
        return code

    def redeem(self, code: str) -> _Grant | None:
        """The grant of a code, which is spent (a second use finds nothing)."""
        with self._lock:
            self._drop_expired()
            return self._codes.pop(code, None)

    def id_token(self, grant: _Grant) -> str:
        now = self.now()
        claims = dict(grant.person.claims)
        claims.update(
            iss=self.issuer,
            aud=grant.client_id,
            iat=int(now.timestamp()),
            auth_time=int(now.timestamp()),
            exp=int((now + TOKEN_LIFETIME).timestamp()),
            nonce=grant.nonce,
        )
        header = {"alg": "RS256", "kid": self.key.kid, "typ": "JWT"}
        return jwt.encode(header, claims, self.key, algorithms=["RS256"])

    def _drop_expired(self) -> None:
        now = self.now()
        for code in [c for c, g in self._codes.items() if g.expires_at <= now]:
            del self._codes[code]


def start_provider(container: Any) -> BuiltInProvider:
    """The provider with a new key, knowing the service's own OIDC client (bootstrap made
    its secret) when that client points here."""
    settings = container.settings
    provider = BuiltInProvider(
        issuer=settings.effective_public_url + PREFIX, now=container.queue.clock.now
    )
    client = container.oidc
    if client is not None and client.settings.issuer == provider.issuer:
        provider.register(
            RegisteredClient(
                client_id=client.settings.client_id,
                client_secret=client.settings.client_secret,
                redirect_uris=frozenset({client.settings.redirect_uri}),
            )
        )
    return provider


def _new_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": secrets.token_hex(8), "use": "sig"})


def _provider(request: Request) -> BuiltInProvider:
    provider: BuiltInProvider = request.app.state.oidc_test_provider
    return provider


def _signer(request: Request) -> Signer:
    signer: Signer = request.app.state.signer
    return signer


# -- endpoints -------------------------------------------------------------------------------


@router.get("/.well-known/openid-configuration")
def discovery(request: Request) -> JSONResponse:
    return JSONResponse(_provider(request).discovery())


@router.get("/jwks")
def jwks(request: Request) -> JSONResponse:
    return JSONResponse(_provider(request).jwks())


_WANTED = ("client_id", "redirect_uri", "response_type", "scope", "state", "nonce")
_PKCE = ("code_challenge", "code_challenge_method")


@router.get("/authorize", response_class=HTMLResponse)
def authorize_page(request: Request) -> Response:
    """The login page: pick a test person, or cancel. Bad requests never redirect."""
    params = {name: request.query_params.get(name, "") for name in (*_WANTED, *_PKCE)}
    problem = _check_request(_provider(request), params)
    language = language_of(request)
    if problem is not None:
        return render(
            request,
            "oidc_test/refused.html",
            language,
            status_code=400,
            personal=True,
            problem=problem,
        )
    return render(
        request,
        "oidc_test/authorize.html",
        language,
        personal=True,
        persons=FICTIONAL_PERSONS,
        request_token=_signer(request).sign(_SIGNED_PURPOSE, params),
    )


@router.post("/authorize")
def authorize(
    request: Request,
    request_token: Annotated[str, Form(max_length=4000)] = "",
    person: Annotated[str, Form(max_length=40)] = "",
    action: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    provider = _provider(request)
    params = _signer(request).unsign(_SIGNED_PURPOSE, request_token)
    if not isinstance(params, dict) or _check_request(provider, params) is not None:
        return JSONResponse({"error": "invalid_request"}, status_code=400)
    answer = {"state": params["state"]} if params.get("state") else {}
    if action == "cancel":
        answer["error"] = "access_denied"
        return RedirectResponse(_with_query(params["redirect_uri"], answer), status_code=303)
    chosen = _PERSONS.get(person)
    if chosen is None:
        return JSONResponse({"error": "invalid_request"}, status_code=400)
    code = provider.issue_code(
        _Grant(
            client_id=params["client_id"],
            redirect_uri=params["redirect_uri"],
            code_challenge=params["code_challenge"],
            nonce=params["nonce"],
            person=chosen,
            expires_at=provider.now() + CODE_LIFETIME,
        )
    )
    answer["code"] = code
    return RedirectResponse(_with_query(params["redirect_uri"], answer), status_code=303)


@router.post("/token")
async def token(request: Request) -> Response:
    provider = _provider(request)
    async with request.form() as form:
        fields = {name: str(value) for name, value in form.items()}
    client = _authenticate(provider, request, fields)
    if client is None:
        return _token_error("invalid_client", 401)
    if fields.get("grant_type") != "authorization_code":
        return _token_error("unsupported_grant_type")
    grant = provider.redeem(fields.get("code", ""))
    if grant is None or grant.client_id != client.client_id:
        return _token_error("invalid_grant")
    if fields.get("redirect_uri") != grant.redirect_uri:
        return _token_error("invalid_grant")
    verifier = fields.get("code_verifier", "")
    if not 43 <= len(verifier) <= 128 or not hmac.compare_digest(
        create_s256_code_challenge(verifier), grant.code_challenge
    ):
        return _token_error("invalid_grant")
    return JSONResponse(
        {
            "access_token": secrets.token_urlsafe(32),
            "token_type": "Bearer",
            "expires_in": int(TOKEN_LIFETIME.total_seconds()),
            "id_token": provider.id_token(grant),
        },
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


# -- helpers ---------------------------------------------------------------------------------


def _check_request(provider: BuiltInProvider, params: dict[str, Any]) -> str | None:
    """What is wrong with an authorization request (an N_ message), or None."""
    client = provider.clients.get(params.get("client_id", ""))
    if client is None or params.get("redirect_uri") not in client.redirect_uris:
        return N_("This application is not known to the test provider.")
    if params.get("response_type") != "code" or "openid" not in str(params.get("scope")).split():
        return N_("The application asked for something the test provider does not offer.")
    if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
        return N_("The application asked for something the test provider does not offer.")
    if not params.get("nonce") or not params.get("state"):
        return N_("The application asked for something the test provider does not offer.")
    return None


def _authenticate(
    provider: BuiltInProvider, request: Request, fields: dict[str, str]
) -> RegisteredClient | None:
    client_id, secret = fields.get("client_id", ""), fields.get("client_secret", "")
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:], validate=True).decode()
        except ValueError:
            return None
        client_id, _, secret = decoded.partition(":")
    client = provider.clients.get(client_id)
    if client is None or not hmac.compare_digest(
        hashlib.sha256(secret.encode()).digest(),
        hashlib.sha256(client.client_secret.encode()).digest(),
    ):
        return None
    return client


def _token_error(error: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": error}, status_code=status, headers={"Cache-Control": "no-store"})


def _with_query(uri: str, params: dict[str, str]) -> str:
    separator = "&" if "?" in uri else "?"
    return f"{uri}{separator}{urlencode(params)}"
