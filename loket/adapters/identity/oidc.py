"""An OpenID Connect client: Authorization Code flow with PKCE, state and nonce.

Discovery from the issuer, the authorization request (Authlib's grant URI and S256 challenge),
the code exchange over HTTP, and a strict check of the ID token (joserfc): signature by a key
of the issuer's JWKS, issuer, audience (and `azp` when there are several), expiry, issued-at
and nonce. Every refusal raises `OidcRefused` with a reason the tests and the log can read;
the citizen sees one translated message (identification.online_failed).
"""

from __future__ import annotations

import hmac
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx2
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import errors as jose_errors
from joserfc import jwt
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from loket.domain.errors import Refused

# Asymmetric algorithms only: `none` and HMAC with the client secret are refused.
ALGORITHMS = ("RS256", "PS256", "ES256")
SCOPES = ("openid", "profile")
HTTP_TIMEOUT = 10.0
# Clocks of the provider and this service may differ a little.
LEEWAY_SECONDS = 60


class OidcRefused(Refused):
    """The provider's answer cannot be trusted (or the login failed): nothing is recorded."""

    def __init__(self, reason: str) -> None:
        super().__init__("identification.online_failed", reason=reason)
        self.reason = reason


@dataclass(frozen=True)
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str
    redirect_uri: str
    scopes: tuple[str, ...] = SCOPES

    @property
    def issuer_origin(self) -> str:
        parts = urlsplit(self.issuer)
        return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class LoginRequest:
    """One login under way: where to send the browser, and the secrets to check the answer."""

    url: str
    state: str
    nonce: str
    code_verifier: str


class OidcClient:
    """Talks to one OpenID provider. Thread-safe: discovery and keys are cached behind a lock."""

    def __init__(self, settings: OidcSettings, *, now: Callable[[], int]) -> None:
        self.settings = settings
        self._now = now
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._keys: KeySet | None = None

    # -- the provider ---------------------------------------------------------------------

    def metadata(self) -> dict[str, Any]:
        """The provider's discovery document; its `issuer` must be exactly the configured one."""
        with self._lock:
            if self._metadata is None:
                url = self.settings.issuer.rstrip("/") + "/.well-known/openid-configuration"
                found = _get_json(url)
                if found.get("issuer") != self.settings.issuer:
                    raise OidcRefused("issuer_mismatch")
                for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                    if not isinstance(found.get(name), str):
                        raise OidcRefused("bad_discovery")
                self._metadata = found
            return self._metadata

    def keys(self, *, refresh: bool = False) -> KeySet:
        with self._lock:
            cached = self._keys
        if cached is not None and not refresh:
            return cached
        document = _get_json(self.metadata()["jwks_uri"])
        try:
            keys = KeySet.import_key_set(document)  # type: ignore[arg-type]
        except (jose_errors.JoseError, ValueError, TypeError, KeyError):
            raise OidcRefused("bad_jwks") from None
        with self._lock:
            self._keys = keys
        return keys

    # -- the flow ---------------------------------------------------------------------------

    def start(self) -> LoginRequest:
        """A new authorization request with fresh state, nonce and PKCE verifier."""
        state = generate_token(32)
        nonce = generate_token(32)
        verifier = generate_token(64)
        url = prepare_grant_uri(
            self.metadata()["authorization_endpoint"],
            self.settings.client_id,
            "code",
            redirect_uri=self.settings.redirect_uri,
            scope=" ".join(self.settings.scopes),
            state=state,
            nonce=nonce,
            code_challenge=create_s256_code_challenge(verifier),
            code_challenge_method="S256",
        )
        return LoginRequest(url=url, state=state, nonce=nonce, code_verifier=verifier)

    def finish(
        self, params: Mapping[str, str], *, state: str, nonce: str, code_verifier: str
    ) -> dict[str, Any]:
        """The validated ID token claims of the provider's answer at the redirect URI.

        Refuses (OidcRefused) a provider error, a state that is not this login's, a missing
        code, a failed exchange, and an ID token that fails any check.
        """
        if params.get("error"):
            raise OidcRefused("provider_error")
        received = params.get("state") or ""
        if not state or not hmac.compare_digest(received.encode(), state.encode()):
            raise OidcRefused("state_mismatch")
        code = params.get("code")
        if not code:
            raise OidcRefused("no_code")
        tokens = self._exchange(code, code_verifier)
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise OidcRefused("no_id_token")
        return self.validate_id_token(id_token, nonce=nonce)

    def validate_id_token(self, id_token: str, *, nonce: str) -> dict[str, Any]:
        """The claims of an ID token from this provider for this client and this login."""
        token = self._decode(id_token)
        claims = dict(token.claims)
        registry = JWTClaimsRegistry(
            now=self._now,
            leeway=LEEWAY_SECONDS,
            iss={"essential": True, "value": self.settings.issuer},
            aud={"essential": True, "value": self.settings.client_id},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True},
        )
        try:
            registry.validate(claims)
        except jose_errors.ExpiredTokenError:
            raise OidcRefused("token_expired") from None
        except jose_errors.ClaimError as error:
            reason = {"iss": "issuer_mismatch", "aud": "audience_mismatch"}.get(error.claim)
            raise OidcRefused(reason or "invalid_claims") from None
        except jose_errors.JoseError:
            raise OidcRefused("invalid_claims") from None
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        # OIDC Core 3.1.3.7: with several audiences the token names its authorised party.
        if len(audiences) > 1 and claims.get("azp") != self.settings.client_id:
            raise OidcRefused("audience_mismatch")
        if (
            not isinstance(claims["iat"], int | float)
            or claims["iat"] > self._now() + LEEWAY_SECONDS
        ):
            raise OidcRefused("invalid_claims")
        received = claims.get("nonce")
        if not isinstance(received, str) or not hmac.compare_digest(
            received.encode(), nonce.encode()
        ):
            raise OidcRefused("nonce_mismatch")
        return claims

    # -- helpers ----------------------------------------------------------------------------

    def _decode(self, id_token: str) -> Any:
        for refresh in (False, True):
            try:
                return jwt.decode(id_token, self.keys(refresh=refresh), algorithms=ALGORITHMS)
            except (jose_errors.MissingKeyError, jose_errors.InvalidKeyIdError):
                # A key we do not know yet: the provider may have rotated; fetch once more.
                continue
            except (jose_errors.JoseError, ValueError, TypeError):
                raise OidcRefused("invalid_token") from None
        raise OidcRefused("invalid_token")

    def _exchange(self, code: str, code_verifier: str) -> dict[str, Any]:
        data = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.settings.redirect_uri,
            "code_verifier": code_verifier,
        }
        try:
            with httpx2.Client(timeout=HTTP_TIMEOUT, follow_redirects=False) as http:
                response = http.post(
                    self.metadata()["token_endpoint"],
                    data=data,
                    auth=(self.settings.client_id, self.settings.client_secret),
                    headers={"Accept": "application/json"},
                )
        except httpx2.HTTPError:
            raise OidcRefused("provider_unreachable") from None
        if response.status_code != 200:
            raise OidcRefused("token_refused")
        try:
            body = response.json()
        except ValueError:
            raise OidcRefused("token_refused") from None
        if not isinstance(body, dict):
            raise OidcRefused("token_refused")
        return body


def _get_json(url: str) -> dict[str, Any]:
    try:
        with httpx2.Client(timeout=HTTP_TIMEOUT, follow_redirects=False) as http:
            response = http.get(url, headers={"Accept": "application/json"})
    except httpx2.HTTPError:
        raise OidcRefused("provider_unreachable") from None
    if response.status_code != 200:
        raise OidcRefused("provider_unreachable")
    try:
        found = response.json()
    except ValueError:
        raise OidcRefused("bad_discovery") from None
    if not isinstance(found, dict):
        raise OidcRefused("bad_discovery")
    return found
