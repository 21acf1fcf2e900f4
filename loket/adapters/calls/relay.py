"""Call relays: each call is a channel; every socket of a call's participants listens on it.

The in-process relay serves one node. With Redis each call has its own pub/sub channel, so
a citizen and an officer connected to different nodes still reach each other; a node
subscribes to a call's channel while it has a socket of that call, and no longer.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any

import redis
import redis.asyncio as aioredis

from loket.adapters.events.hub import cancel_and_wait

log = logging.getLogger(__name__)

CHANNEL_PREFIX = "loket:call:"
# Signalling is small and bursty (a dozen ICE candidates at once); a socket that falls this
# far behind is stuck, and its messages are dropped rather than held without end.
BACKLOG = 256

Observer = Callable[[str, dict[str, Any]], None]


class Subscription:
    """One socket's view of a call: its messages in the order the relay saw them."""

    def __init__(self, relay: InProcessRelay, call_id: str) -> None:
        self._relay = relay
        self.call_id = call_id
        self.queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(BACKLOG)

    async def __aenter__(self) -> Subscription:
        await self._relay._attach(self)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._relay._detach(self)

    async def get(self) -> dict[str, Any]:
        return await self.queue.get()

    def deliver(self, message: dict[str, Any]) -> None:
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(message)


class InProcessRelay:
    """A call's messages go to the sockets of that call on this node."""

    def __init__(self, observer: Observer | None = None) -> None:
        self._rooms: dict[str, set[Subscription]] = {}
        # Sees every message once, before the sockets do (the node's call board).
        self.observer = observer

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def publish(self, call_id: str, message: dict[str, Any]) -> None:
        self._fan_out(call_id, message)

    def subscribe(self, call_id: str) -> Subscription:
        return Subscription(self, call_id)

    def room_count(self) -> int:
        return len(self._rooms)

    def _fan_out(self, call_id: str, message: dict[str, Any]) -> None:
        if self.observer is not None:
            self.observer(call_id, message)
        for subscription in list(self._rooms.get(call_id, ())):
            subscription.deliver(message)

    async def _attach(self, subscription: Subscription) -> None:
        self._rooms.setdefault(subscription.call_id, set()).add(subscription)

    async def _detach(self, subscription: Subscription) -> None:
        room = self._rooms.get(subscription.call_id)
        if room is None:
            return
        room.discard(subscription)
        if not room:
            del self._rooms[subscription.call_id]


class RedisRelay(InProcessRelay):
    """Every message goes through Redis (also to this node's own sockets, so all sockets of
    a call see one order); one pub/sub connection per node, a channel per call."""

    def __init__(self, url: str, observer: Observer | None = None) -> None:
        super().__init__(observer)
        self._url = url
        self._client: aioredis.Redis | None = None
        self._pubsub: Any = None
        self._listener: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._client = aioredis.Redis.from_url(self._url)
        self._pubsub = self._client.pubsub()
        # A pub/sub connection cannot listen before it subscribes to something: a channel
        # of this node's own keeps it listening while no call runs.
        await self._pubsub.subscribe(f"{CHANNEL_PREFIX}_node")
        self._listener = asyncio.create_task(self._listen(), name="loket-call-relay")

    async def stop(self) -> None:
        await cancel_and_wait(self._listener)
        if self._pubsub is not None:
            await self._pubsub.aclose()
        if self._client is not None:
            await self._client.aclose()

    async def publish(self, call_id: str, message: dict[str, Any]) -> None:
        assert self._client is not None, "start() the relay first"
        text = json.dumps(message, separators=(",", ":"))
        try:
            await self._client.publish(CHANNEL_PREFIX + call_id, text)
        except redis.RedisError:
            # The peer is then reached only if it is on this node; the sockets' own
            # recovery (rejoin, renegotiate) takes over when Redis is back.
            log.warning("could not relay a call message over Redis", exc_info=True)
            self._fan_out(call_id, message)

    async def _attach(self, subscription: Subscription) -> None:
        is_first = subscription.call_id not in self._rooms
        await super()._attach(subscription)
        if is_first:
            await self._pubsub.subscribe(CHANNEL_PREFIX + subscription.call_id)

    async def _detach(self, subscription: Subscription) -> None:
        await super()._detach(subscription)
        if subscription.call_id not in self._rooms:
            with contextlib.suppress(redis.RedisError):
                await self._pubsub.unsubscribe(CHANNEL_PREFIX + subscription.call_id)

    async def _listen(self) -> None:
        while True:
            try:
                message = await self._pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=1.0
                )
            except (redis.RedisError, OSError):
                log.warning("call relay lost Redis; retrying", exc_info=True)
                await asyncio.sleep(1)
                continue
            if message is None or message.get("type") != "message":
                continue
            channel = message["channel"]
            if isinstance(channel, bytes):
                channel = channel.decode()
            try:
                body = json.loads(message["data"])
            except (ValueError, TypeError):
                continue
            self._fan_out(channel.removeprefix(CHANNEL_PREFIX), body)
