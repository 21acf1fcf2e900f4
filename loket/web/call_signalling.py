"""Call signalling over WebSockets: `/ws/calls`, one room per contact.

The first message is {"type": "call.join", "data": {"token": ...}}: the token (from the
participant's page, never in the URL) says which call and which role. After that the socket
relays offers, answers, ICE candidates and media states to the other participants, through
the call relay (in-process, or Redis across nodes), and reports the call's state.

Close codes (see ws.py): 4401 no valid token, 4403 not a participant or a foreign Origin,
4404 no such contact, 4409 replaced by a newer socket of the same participant, 4410 the
call is over; 1008 flooding, 1009 a message too large. Clients rejoin on anything else.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from loket.adapters.calls.relay import InProcessRelay, Subscription
from loket.adapters.events.hub import in_thread
from loket.bootstrap import Container
from loket.domain.calls import (
    MAX_MESSAGE_BYTES,
    PRINCIPALS,
    CallGrant,
    CallRole,
    CallState,
    Hangup,
    Join,
    Ping,
    Quality,
    Signal,
    StateReport,
    envelope,
    parse_signal,
)
from loket.domain.errors import DomainError, Forbidden, NotFound, Refused
from loket.services import calls as call_service
from loket.services.calls import CallBoard
from loket.web.i18n import gettext_for
from loket.web.problems import MESSAGES
from loket.web.ws import (
    AUTH_TIMEOUT_SECONDS,
    CLOSE_FORBIDDEN,
    CLOSE_NOT_FOUND,
    CLOSE_UNAUTHORIZED,
    HEARTBEAT_SECONDS,
    origin_allowed,
)

log = logging.getLogger(__name__)
router = APIRouter()

CLOSE_REPLACED = 4409
CLOSE_ENDED = 4410
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009
# A socket that sends this many malformed messages is broken or hostile: closed.
MAX_ERRORS = 20
# The burst a socket may send at once: a browser trickles a dozen candidates together.
BURST_SECONDS = 5


@router.websocket("/ws/calls")
async def call_socket(websocket: WebSocket) -> None:
    container: Container = websocket.app.state.container
    if not origin_allowed(websocket, container):
        await websocket.close(code=CLOSE_FORBIDDEN)
        return
    await websocket.accept()
    language = websocket.query_params.get("lang", "nl")
    try:
        raw = await asyncio.wait_for(websocket.receive_text(), AUTH_TIMEOUT_SECONDS)
    except (TimeoutError, WebSocketDisconnect, RuntimeError, KeyError):
        await _close(websocket, CLOSE_UNAUTHORIZED)
        return
    try:
        join = _first_message(raw)
        grant = await in_thread(call_service.check_token, container.calls, join.token)
        if grant.role is not CallRole.CITIZEN:
            await in_thread(call_service.record_joined, container.calls, grant)
    except DomainError as error:
        await _close(websocket, _close_code(error))
        return
    peer = Peer(websocket, container, grant, language, join.resume)
    await peer.run()


def _first_message(raw: str) -> Join:
    if len(raw) > MAX_MESSAGE_BYTES:
        raise Refused("call.bad_token")
    try:
        signal = parse_signal(json.loads(raw))
    except (ValueError, DomainError):
        raise Refused("call.bad_token") from None
    if not isinstance(signal, Join):
        raise Refused("call.bad_token")
    return signal


def _close_code(error: DomainError) -> int:
    if isinstance(error, NotFound):
        return CLOSE_NOT_FOUND
    if isinstance(error, Forbidden):
        return CLOSE_FORBIDDEN
    if error.code == "call.ended":
        return CLOSE_ENDED
    return CLOSE_UNAUTHORIZED


async def _close(websocket: WebSocket, code: int) -> None:
    with contextlib.suppress(RuntimeError, WebSocketDisconnect):
        await websocket.close(code=code)


@dataclass
class Bucket:
    """Messages a socket may still send now: refills at `rate` per second up to `capacity`."""

    rate: float
    capacity: float
    tokens: float = 0.0
    last: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.tokens = self.capacity

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class Peer:
    """One participant's socket in a call's room."""

    def __init__(
        self,
        websocket: WebSocket,
        container: Container,
        grant: CallGrant,
        language: str,
        resume: str | None,
    ) -> None:
        self.websocket = websocket
        self.container = container
        self.grant = grant
        self.call_id = grant.call_id
        self.role = grant.role
        self.language = language
        self.resume = resume
        self.connection = secrets.token_hex(8)
        self.relay: InProcessRelay = container.call_relay
        self.board: CallBoard = container.call_board
        rate = float(container.settings.call_messages_per_second)
        self.bucket = Bucket(rate=rate, capacity=rate * BURST_SECONDS)
        self.errors = 0
        self.sent_state: CallState | None = None
        self.send_lock = asyncio.Lock()
        self.last_sent = time.monotonic()
        self.close_code: int | None = None
        self.hung_up = False
        self.grace_timer: asyncio.Task[None] | None = None

    async def run(self) -> None:
        try:
            async with self.relay.subscribe(self.call_id) as subscription:
                await self._announce(present=True)
                call = self.board.get(self.call_id)
                await self.send(
                    "call.joined",
                    {
                        "call_id": self.call_id,
                        "role": self.role.value,
                        "connection": self.connection,
                        "ice_servers": call_service.ice_servers(self.container.calls, self.grant),
                        "peers": [r.value for r in call.present_roles() if r is not self.role],
                        "state": call.state.value,
                        "grace_seconds": int(self.container.calls.grace.total_seconds()),
                    },
                )
                since = call.gone_since(CallRole.CITIZEN)
                if self.role is CallRole.OFFICER and since is not None:
                    # The citizen dropped before this socket came: the grace runs from then.
                    away = (self.board.now() - since).total_seconds()
                    grace = self.container.calls.grace.total_seconds()
                    self._watch_citizen(False, delay=max(0.0, grace - away))
                await self._pump(subscription)
        finally:
            if self.grace_timer is not None:
                self.grace_timer.cancel()
            if not self.hung_up and self.close_code not in (CLOSE_REPLACED, CLOSE_ENDED):
                await self._announce(present=False)
            call = self.board.find(self.call_id)
            if call is not None and not call.present_roles():
                self.board.forget(self.call_id)
            await _close(self.websocket, self.close_code or 1000)

    async def _pump(self, subscription: Subscription) -> None:
        reader = asyncio.create_task(self._read(), name="loket-call-read")
        writer = asyncio.create_task(self._write(subscription), name="loket-call-write")
        try:
            await asyncio.wait({reader, writer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (reader, writer):
                task.cancel()
            for task in (reader, writer):
                with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                    await task

    # -- from the browser ----------------------------------------------------------------

    async def _read(self) -> None:
        while True:
            raw = await self.websocket.receive_text()
            if len(raw) > MAX_MESSAGE_BYTES:
                self.close_code = CLOSE_TOO_BIG
                return
            if not self.bucket.take():
                # A flood closes this socket only; the call's other sockets go on.
                self.close_code = CLOSE_POLICY
                return
            try:
                parsed = json.loads(raw)
                signal = parse_signal(parsed)
            except ValueError:
                await self._refuse(DomainError("call.bad_message"))
            except DomainError as error:
                await self._refuse(error)
            else:
                if await self._handle(signal, _addressee(parsed)):
                    return
            if self.errors > MAX_ERRORS:
                self.close_code = CLOSE_POLICY
                return

    async def _handle(self, signal: Signal, to: str | None = None) -> bool:
        """Act on one message; True when the socket should close."""
        if isinstance(signal, Ping):
            await self.send("call.pong", {"nonce": signal.nonce})
        elif isinstance(signal, Join):
            await self._refuse(DomainError("call.already_joined"))
        elif isinstance(signal, Hangup):
            await self._publish("call.hangup", {})
            if self.role in PRINCIPALS:
                self.hung_up = True
                self.close_code = CLOSE_ENDED
            else:
                # The interpreter leaves; the call goes on without them.
                self.hung_up = True
                await self._announce(present=False, left=True)
                self.close_code = 1000
            return True
        elif isinstance(signal, StateReport | Quality):
            await self._publish(signal.type, signal.data())
        elif signal.is_relayed:
            # Offers, answers and candidates name their peer in a call of three.
            await self._publish(signal.type, signal.data(), to=to)
        return False

    async def _refuse(self, error: DomainError) -> None:
        self.errors += 1
        _, message = MESSAGES.get(error.code, (400, error.code))
        await self.send(
            "call.error",
            {
                "code": error.code,
                "field": error.field,
                "message": gettext_for(self.language).gettext(message),
            },
        )

    # -- to the browser ------------------------------------------------------------------

    async def _write(self, subscription: Subscription) -> None:
        while True:
            timeout = max(0.0, self.last_sent + HEARTBEAT_SECONDS - time.monotonic())
            try:
                async with asyncio.timeout(timeout):
                    message = await subscription.get()
            except TimeoutError:
                await self.send("heartbeat", {})
                continue
            if await self._deliver(message):
                return

    async def _deliver(self, message: dict[str, Any]) -> bool:
        """Pass one relayed message on; True when the socket should close."""
        kind = message.get("type")
        sender = message.get("from")
        mine = message.get("connection") == self.connection
        data = message.get("data") or {}
        if kind == "call.peer" and not mine and sender == self.role.value and data.get("present"):
            self.close_code = CLOSE_REPLACED  # this participant opened a newer socket
            return True
        call = self.board.find(self.call_id)
        if kind == "call.removed" and data.get("role") == self.role.value:
            # The officer removed the interpreter: this socket leaves; the call goes on.
            await self.send("call.ended", {"reason": "removed"})
            await self._announce(present=False, left=True)
            self.close_code = CLOSE_ENDED
            return True
        if kind == "call.ended" or (call is not None and call.state is CallState.ENDED):
            reason = call.end_reason if call is not None else data.get("reason", "ended")
            await self.send("call.ended", {"reason": reason})
            self.close_code = CLOSE_ENDED
            return True
        if not mine and kind in _RELAYED_TO_PEERS:
            to = message.get("to")
            if to is None or to == self.role.value:
                await self.send(kind, data, sender=sender)
            if kind == "call.peer":
                await self._on_peer(message, data)
        if call is not None and call.state is not self.sent_state:
            self.sent_state = call.state
            await self.send("call.status", {"state": call.state.value})
        return False

    async def _on_peer(self, message: dict[str, Any], data: dict[str, Any]) -> None:
        # Someone new is here: say that we are too (they joined after us and cannot know).
        if data.get("present") and not data.get("is_reply"):
            await self._announce(present=True, is_reply=True, to=str(message.get("from")))
        if self.role is CallRole.OFFICER and message.get("from") == CallRole.CITIZEN.value:
            self._watch_citizen(bool(data.get("present")))

    def _watch_citizen(self, present: bool, delay: float | None = None) -> None:
        """The officer's socket times a citizen's absence: past the grace period the ticket
        goes back to the head of the queue. (The officer's lease covers the rest.)"""
        if present:
            if self.grace_timer is not None:
                self.grace_timer.cancel()
                self.grace_timer = None
            return
        if self.grace_timer is None or self.grace_timer.done():
            grace = self.container.calls.grace.total_seconds()
            self.grace_timer = asyncio.create_task(
                self._grace(grace if delay is None else delay), name="loket-call-grace"
            )

    async def _grace(self, delay: float) -> None:
        await asyncio.sleep(delay)
        ctx = self.container.calls
        call = self.board.find(self.call_id)
        if call is None or call.gone_since(CallRole.CITIZEN) is None:
            return
        officer_id = int(self.grant.participant_id.removeprefix("staff:"))
        try:
            await in_thread(call_service.return_abandoned_call, ctx, self.call_id, officer_id)
        except Exception:  # the call still ends; the officer's lease returns the ticket later
            log.exception("could not return the ticket of an abandoned call")
        await self._publish("call.ended", {"reason": "citizen_gone"})

    # -- sending -------------------------------------------------------------------------

    async def _announce(
        self, *, present: bool, is_reply: bool = False, to: str | None = None, left: bool = False
    ) -> None:
        data: dict[str, Any] = {"role": self.role.value, "present": present, "is_reply": is_reply}
        if left:
            data["left"] = True
        data["participant"] = self.grant.participant_id
        if present and self.resume:
            data["resume"] = self.resume
        await self._publish("call.peer", data, to=to)

    async def _publish(self, kind: str, data: dict[str, Any], to: str | None = None) -> None:
        message = envelope(kind, data, connection=self.connection)
        message["from"] = self.role.value
        if to is not None:
            message["to"] = to
        await self.relay.publish(self.call_id, message)

    async def send(self, kind: str, data: dict[str, Any], sender: Any = None) -> None:
        message = envelope(kind, data)
        if sender is not None:
            message["from"] = sender
        async with self.send_lock:
            if self.websocket.client_state is not WebSocketState.CONNECTED:
                return
            await self.websocket.send_text(json.dumps(message, separators=(",", ":")))
            self.last_sent = time.monotonic()


def _addressee(message: Any) -> str | None:
    """The role a relayed message is for (`to`), if it names a valid one."""
    to = message.get("to") if isinstance(message, dict) else None
    return to if isinstance(to, str) and to in CallRole._value2member_map_ else None


async def remove_participant(container: Container, call_id: str, role: CallRole) -> None:
    """Put a participant (the interpreter) out of a call; the others go on."""
    message = envelope("call.removed", {"role": role.value}, connection="server")
    message["from"] = CallRole.OFFICER.value
    await container.call_relay.publish(call_id, message)


# What the participants' browsers see of each other's messages.
_RELAYED_TO_PEERS = frozenset(
    {
        "call.peer",
        "call.offer",
        "call.answer",
        "call.ice",
        "call.media",
        # Announced by the server when a participant posts (loket/web/api/call_exchange.py).
        "chat.message",
        "document.added",
        # A new version of the report drafted in the call (loket/web/api/call_drafts.py).
        "draft.changed",
    }
)
