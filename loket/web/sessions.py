"""Cookies for citizens and staff, signed with the service key, and CSRF tokens for forms.

Cookie names carry the `__Host-` prefix: the browser then only accepts them when they are
Secure, host-only and for path /, so a sibling subdomain cannot plant or read them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any

from fastapi import Request, Response

CITIZEN_COOKIE = "__Host-loket-citizen"
STAFF_COOKIE = "__Host-loket-staff"
CSRF_FIELD = "csrf_token"


class Signer:
    """HMAC-SHA256 signatures over small JSON values, with a purpose so tokens don't mix."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def sign(self, purpose: str, value: Any) -> str:
        body = base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode())
        return f"{body.decode()}.{self._mac(purpose, body)}"

    def unsign(self, purpose: str, token: str | None) -> Any | None:
        if not token or "." not in token:
            return None
        body, _, mac = token.rpartition(".")
        if not hmac.compare_digest(mac, self._mac(purpose, body.encode())):
            return None
        try:
            return json.loads(base64.urlsafe_b64decode(body.encode()))
        except ValueError:
            return None

    def _mac(self, purpose: str, body: bytes) -> str:
        digest = hmac.new(self._key, purpose.encode() + b"\0" + body, hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")


@dataclass
class CitizenSession:
    """What a citizen's browser carries: an anonymous id (for CSRF), the language, a ticket.

    Nothing that identifies the person; the kiosk's idle reset throws it away.
    """

    id: str
    language: str | None = None
    ticket_id: str | None = None
    # The report or tip being filled in (a random id; the answers stay on the server).
    draft_id: str | None = None
    # The chat with the virtual agent (a random id; the lines stay on the server).
    conversation_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "language": self.language,
            "ticket_id": self.ticket_id,
            "draft_id": self.draft_id,
            "conversation_id": self.conversation_id,
        }


def citizen_session(request: Request) -> CitizenSession:
    signer: Signer = request.app.state.signer
    data = signer.unsign("citizen", request.cookies.get(CITIZEN_COOKIE))
    if isinstance(data, dict) and isinstance(data.get("id"), str):
        return CitizenSession(
            id=data["id"],
            language=data.get("language"),
            ticket_id=data.get("ticket_id"),
            draft_id=data.get("draft_id"),
            conversation_id=data.get("conversation_id"),
        )
    return CitizenSession(id=secrets.token_urlsafe(16))


def store_citizen_session(request: Request, response: Response, session: CitizenSession) -> None:
    signer: Signer = request.app.state.signer
    set_cookie(response, CITIZEN_COOKIE, signer.sign("citizen", session.to_json()))


def set_cookie(response: Response, name: str, value: str, max_age: int | None = None) -> None:
    response.set_cookie(
        name, value, max_age=max_age, path="/", secure=True, httponly=True, samesite="strict"
    )


def clear_cookie(response: Response, name: str) -> None:
    response.delete_cookie(name, path="/", secure=True, httponly=True, samesite="strict")


def csrf_token(request: Request, session_key: str) -> str:
    """A token bound to the session: a form from another site cannot know it."""
    signer: Signer = request.app.state.signer
    return signer.sign("csrf", hashlib.sha256(session_key.encode()).hexdigest()[:32])


def csrf_is_valid(request: Request, session_key: str, submitted: str | None) -> bool:
    expected = csrf_token(request, session_key)
    return submitted is not None and hmac.compare_digest(expected, submitted)
