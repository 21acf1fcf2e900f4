"""Live streams over WebSockets: one per location (info screens) and one for staff.

Every message carries the event's sequence number. A client that reconnects with
`after=<last seq>` gets exactly what it missed; one that is too far behind, or new, gets
the current state as a snapshot first, then live events. Once a stream has caught up, the
hub's task sends it events itself (see `loket/adapters/events/hub.py`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import anyio.to_thread
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from fastapi.encoders import jsonable_encoder

from loket.adapters.db.event_log import StoredEvent
from loket.adapters.events.hub import in_thread
from loket.bootstrap import Container
from loket.domain.errors import NotFound
from loket.domain.staff import Role
from loket.services import locations as location_service
from loket.services import queue as queue_service
from loket.services import staff as staff_service
from loket.web.api import routes
from loket.web.sessions import STAFF_COOKIE

router = APIRouter()

# Close codes (4000–4999 are the application's): clients show a message and do not retry
# on 4401/4403/4404, and retry with backoff on anything else.
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
AUTH_TIMEOUT_SECONDS = 10
# Proxies and NAT routers drop connections that stay silent for 30-60 s; a heartbeat after
# this much silence keeps them open and lets a screen tell "quiet" from "cut off".
HEARTBEAT_SECONDS = 15.0
# A staff stream asks this often whether its sign-in still holds: after a closed account, a
# new password or "sign out everywhere" the console stops receiving within this time.
STAFF_RECHECK_SECONDS = 30.0
# Ticket fields the public stream leaves out: the id is the citizen's key to follow or
# cancel their ticket, and who serves whom is back-office business.
PRIVATE_TICKET_FIELDS = ("id", "officer_id")
PAGE = 500


def origin_allowed(websocket: WebSocket, container: Container) -> bool:
    """Browsers send Origin; a page of another site must not read our streams."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True  # not a browser: API clients authenticate on their own
    if origin in container.settings.allowed_origins:
        return True
    host = websocket.headers.get("host", "")
    return urlsplit(origin).netloc == host


@router.websocket("/ws/locations/{slug}")
async def location_stream(websocket: WebSocket, slug: str) -> None:
    container: Container = websocket.app.state.container
    if not origin_allowed(websocket, container):
        await websocket.close(code=CLOSE_FORBIDDEN)
        return
    try:
        location = await anyio.to_thread.run_sync(
            location_service.get_location, container.queue, slug
        )
    except NotFound:
        # Accepted first: a close before the handshake reaches a browser as a bare failure
        # (1006), and the screen would retry a desk that does not exist forever.
        await websocket.accept()
        await websocket.close(code=CLOSE_NOT_FOUND)
        return
    await websocket.accept()
    location_id = location.id

    def snapshot() -> dict[str, Any]:
        tickets = queue_service.location_board(container.queue, slug)
        return jsonable_encoder(tickets)

    await _stream(
        websocket,
        container,
        after=_after(websocket),
        matches=lambda event: event.location_id == location_id,
        snapshot=snapshot,
        public=True,
        location_id=location_id,
    )


@router.websocket("/ws/staff")
async def staff_stream(websocket: WebSocket) -> None:
    """Staff stream; the first message is {"token": "...", "after": <seq or null>}.

    A browser signed in with its cookie may leave the token out.
    """
    container: Container = websocket.app.state.container
    if not origin_allowed(websocket, container):
        await websocket.close(code=CLOSE_FORBIDDEN)
        return
    await websocket.accept()
    try:
        hello = await asyncio.wait_for(websocket.receive_json(), AUTH_TIMEOUT_SECONDS)
    except (TimeoutError, json.JSONDecodeError, WebSocketDisconnect, KeyError):
        with contextlib.suppress(RuntimeError):
            await websocket.close(code=CLOSE_UNAUTHORIZED)
        return
    # Browsers authenticate with their sign-in cookie (sent with the handshake); API
    # clients put their token in the first message.
    token = hello.get("token") if isinstance(hello, dict) else None
    if not isinstance(token, str):
        token = websocket.cookies.get(STAFF_COOKIE)
    member = None
    if isinstance(token, str):
        member = await anyio.to_thread.run_sync(
            staff_service.staff_for_token, container.staff, token
        )
    if member is None:
        await websocket.close(code=CLOSE_UNAUTHORIZED)
        return
    if not member.has_role(Role.OFFICER, Role.SUPERVISOR, Role.HOST):
        await websocket.close(code=CLOSE_FORBIDDEN)
        return
    after = hello.get("after")

    def snapshot() -> dict[str, Any]:
        return jsonable_encoder(routes.get_queue(container, member))

    def still_signed_in() -> bool:
        current = staff_service.staff_for_token(container.staff, token)
        return current is not None and current.has_role(Role.OFFICER, Role.SUPERVISOR, Role.HOST)

    await _stream(
        websocket,
        container,
        after=after if isinstance(after, int) and after >= 0 else None,
        matches=lambda event: True,
        snapshot=snapshot,
        public=False,
        still_allowed=still_signed_in,
    )


def _after(websocket: WebSocket) -> int | None:
    raw = websocket.query_params.get("after")
    if raw is None or not raw.isdigit():
        return None
    return int(raw)


async def _stream(
    websocket: WebSocket,
    container: Container,
    *,
    after: int | None,
    matches: Any,
    snapshot: Any,
    public: bool,
    location_id: int | None = None,
    still_allowed: Callable[[], bool] | None = None,
) -> None:
    """Replay or snapshot, then live events until the client leaves.

    `location_id` narrows what the hub hands this stream (None: every event); `matches`
    decides what is sent. `still_allowed`, asked every `STAFF_RECHECK_SECONDS` (in a worker
    thread), closes the stream with 4401 once it says no.
    """
    hub = container.hub
    log = container.event_log
    # Subscribe before reading the log, so nothing committed in between can slip past.
    subscription = hub.subscribe()
    receiver = asyncio.create_task(_drain_incoming(websocket, subscription))
    try:
        first = await anyio.to_thread.run_sync(log.first_seq)
        last = await anyio.to_thread.run_sync(log.last_seq)
        # Behind the oldest kept event, it missed pruned ones; ahead of the newest, its number
        # comes from another database (a restore): both get the current state instead.
        if after is not None and first - 1 <= after <= last:
            cursor = after
            while True:
                page = await anyio.to_thread.run_sync(lambda c=cursor: log.after(c, limit=PAGE))
                for event in page:
                    if matches(event):
                        await websocket.send_json(_message(event, public))
                    cursor = event.seq
                if len(page) < PAGE:
                    break
        else:
            cursor = await anyio.to_thread.run_sync(log.last_seq)
            state = await anyio.to_thread.run_sync(snapshot)
            await websocket.send_json(
                {"seq": cursor, "type": "snapshot", "version": 1, "data": state}
            )
        sender = _Sender(websocket, matches, public, cursor)
        recheck_at = time.monotonic() + STAFF_RECHECK_SECONDS
        # The live events queued meanwhile come from the queue; once it is empty the hub
        # sends the next ones itself (no task wakes per event), and this task only waits
        # for the end and keeps the socket from falling silent.
        while not subscription.is_dropped:
            if subscription.deliver is None and subscription.queue.empty():
                hub.deliver_directly(subscription, sender.deliver, location_id)
            wait = sender.until_heartbeat()
            if still_allowed is not None:
                if time.monotonic() >= recheck_at:
                    if not await in_thread(still_allowed):
                        await websocket.close(code=CLOSE_UNAUTHORIZED)
                        break
                    recheck_at = time.monotonic() + STAFF_RECHECK_SECONDS
                wait = min(wait, recheck_at - time.monotonic())
            event = await _next_or_none(subscription, max(0.0, wait))
            if event is _CLOSED:
                break
            if event is not None:
                await sender.deliver(event)
            elif subscription.deliver is None:
                await sender.heartbeat(sender.cursor)
            else:
                # Direct: every event up to the hub's cursor has been handed to this stream.
                await sender.heartbeat(max(sender.cursor, hub.cursor))
        if subscription.is_dropped:
            await websocket.close(code=1013)  # try again later: resume from the last seq
    except (WebSocketDisconnect, RuntimeError):
        pass
    finally:
        hub.unsubscribe(subscription)
        receiver.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await receiver


class _Sender:
    """What one socket has been sent; the hub awaits `deliver` once the stream caught up."""

    __slots__ = ("cursor", "is_sending", "last_sent", "matches", "public", "websocket")

    def __init__(self, websocket: WebSocket, matches: Any, public: bool, cursor: int) -> None:
        self.websocket = websocket
        self.matches = matches
        self.public = public
        self.cursor = cursor
        # Silence is measured on this socket: events of other desks do not reach a screen.
        self.last_sent = time.monotonic()
        self.is_sending = False

    async def deliver(self, event: StoredEvent) -> None:
        # An event can come both from the queue and from the hub around the hand-over.
        if event.seq <= self.cursor:
            return
        if self.matches(event):
            self.is_sending = True
            try:
                await self.websocket.send_text(_encoded(event, self.public))
            finally:
                self.is_sending = False
            self.last_sent = time.monotonic()
        # Only once sent: a heartbeat must not claim an event the client never got.
        self.cursor = event.seq

    def until_heartbeat(self) -> float:
        return max(0.0, self.last_sent + HEARTBEAT_SECONDS - time.monotonic())

    async def heartbeat(self, seq: int) -> None:
        # A send in flight (the hub's, to a slow client) is not silence.
        if self.until_heartbeat() > 0.0 or self.is_sending:
            return
        self.last_sent = time.monotonic()
        await self.websocket.send_json({"type": "heartbeat", "seq": seq})


_CLOSED: Any = object()


async def _next_or_none(subscription: Any, timeout: float) -> Any:
    """The next queued event; None if `timeout` seconds pass first; `_CLOSED` when the queue
    says the subscription ended or the client went away (the receiver puts None in it).

    One awaited queue read per event, and none at all once the hub delivers directly:
    creating a task and an `asyncio.wait` per event on every socket was a quarter of the
    fan-out's CPU time (benchmarks/fanout.py).
    """
    try:
        async with asyncio.timeout(timeout):
            event = await subscription.queue.get()
    except TimeoutError:
        return None
    return _CLOSED if event is None else event


async def _drain_incoming(websocket: WebSocket, subscription: Any) -> None:
    """Read (and ignore) what the client sends, so a closed socket is noticed at once."""
    try:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            while True:
                await websocket.receive_text()
    finally:
        # Wake the sending loop so it ends now rather than at the next event.
        with contextlib.suppress(asyncio.QueueFull):
            subscription.queue.put_nowait(None)


# The hub hands the same event object to every subscriber: a desk's thousand screens share
# one encoding of it (as Starlette's send_json encodes) instead of a thousand. Holding the
# event keeps its id from being reused while it is cached.
_ENCODED: dict[tuple[int, bool], tuple[StoredEvent, str]] = {}
ENCODED_KEPT = 64


def _encoded(event: StoredEvent, public: bool) -> str:
    key = (id(event), public)
    cached = _ENCODED.get(key)
    if cached is None:
        if len(_ENCODED) >= ENCODED_KEPT:
            _ENCODED.clear()
        text = json.dumps(_message(event, public), separators=(",", ":"), ensure_ascii=False)
        cached = _ENCODED[key] = (event, text)
    return cached[1]


def _message(event: StoredEvent, public: bool) -> dict[str, Any]:
    message = event.message()
    if public and isinstance(message["data"].get("ticket"), dict):
        ticket = dict(message["data"]["ticket"])
        for name in PRIVATE_TICKET_FIELDS:
            ticket.pop(name, None)
        message["data"] = {**message["data"], "ticket": ticket}
    return message
