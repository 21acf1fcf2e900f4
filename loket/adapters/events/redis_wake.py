"""Cross-node wake-ups over Redis pub/sub: every node's hub hears every node's commits."""

from __future__ import annotations

import asyncio
import logging

import redis
import redis.asyncio as aioredis

from loket.adapters.events.hub import Wake, cancel_and_wait

log = logging.getLogger(__name__)

CHANNEL = "loket:events"


class RedisWake(Wake):
    def __init__(self, url: str, channel: str = CHANNEL) -> None:
        super().__init__()
        self._url = url
        self._channel = channel
        # Commits happen in worker threads; a small synchronous client publishes from there.
        self._publisher = redis.Redis.from_url(url, socket_timeout=2)
        self._listener: asyncio.Task[None] | None = None
        self._client: aioredis.Redis | None = None

    async def start(self) -> None:
        await super().start()
        self._client = aioredis.Redis.from_url(self._url)
        self._listener = asyncio.create_task(self._listen(), name="loket-redis-wake")

    async def stop(self) -> None:
        await cancel_and_wait(self._listener)
        if self._client is not None:
            await self._client.aclose()
        self._publisher.close()

    def announce(self) -> None:
        self.wake_local()
        try:
            self._publisher.publish(self._channel, b"1")
        except redis.RedisError:
            # Other nodes still find the event at their next poll of the log.
            log.warning("could not announce an event on Redis", exc_info=True)

    async def ping(self) -> bool:
        if self._client is None:
            return False
        try:
            return bool(await self._client.ping())
        except redis.RedisError:
            return False

    async def _listen(self) -> None:
        assert self._client is not None
        while True:
            try:
                async with self._client.pubsub() as pubsub:
                    await pubsub.subscribe(self._channel)
                    async for message in pubsub.listen():
                        if message.get("type") == "message":
                            self.wake_local()
            except (redis.RedisError, OSError):
                log.warning("Redis wake-up listener lost its connection; retrying", exc_info=True)
                await asyncio.sleep(1)
