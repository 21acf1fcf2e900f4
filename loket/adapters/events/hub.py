"""This node's event hub: tails the event log and hands each event to its live subscribers.

The database log is the single source of order; what wakes the hub is only a hint: a local
commit, a Redis message from another node, or a periodic poll that catches anything a
crashed publisher never announced.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import anyio.to_thread

from loket.adapters.db.event_log import EventLog, StoredEvent

log = logging.getLogger(__name__)
T = TypeVar("T")

# How often the hub looks at the log without being woken: the upper bound on how late an
# event from a node that crashed between commit and announcement reaches screens.
POLL_SECONDS = 1.0
# A subscriber that falls this far behind (a stuck socket) is dropped; it reconnects and
# resumes from its last sequence number, so dropping loses nothing.
SUBSCRIBER_BACKLOG = 1000


async def in_thread(func: Callable[..., T], *args: Any) -> T:
    """Run `func` in a worker thread; a caller cancelled meanwhile still waits for it.

    A plain cancelled `to_thread.run_sync` leaves its thread running, so at shutdown a
    query could still hold a connection when the engine is disposed.
    """
    work = asyncio.ensure_future(anyio.to_thread.run_sync(func, *args))
    try:
        return await asyncio.shield(work)
    except asyncio.CancelledError:
        await asyncio.wait({work})
        raise


@dataclass(eq=False)
class Subscription:
    queue: asyncio.Queue[StoredEvent | None] = field(
        default_factory=lambda: asyncio.Queue(SUBSCRIBER_BACKLOG)
    )
    is_dropped: bool = False

    async def __aiter__(self) -> AsyncIterator[StoredEvent]:
        while True:
            item = await self.queue.get()
            if item is None:
                return
            yield item


class Wake:
    """How a hub is told that the log grew. The in-process kind only wakes this node."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._flag: asyncio.Event | None = None

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._flag = asyncio.Event()

    async def stop(self) -> None:
        return None

    def announce(self) -> None:
        """Called from any thread after a commit."""
        self.wake_local()

    def wake_local(self) -> None:
        loop, flag = self._loop, self._flag
        if loop is None or flag is None or loop.is_closed():
            return
        loop.call_soon_threadsafe(flag.set)

    async def wait(self, timeout: float) -> None:
        assert self._flag is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._flag.wait(), timeout)
        self._flag.clear()

    async def ping(self) -> bool:
        return self._flag is not None


class EventHub:
    def __init__(self, log_reader: EventLog, wake: Wake, poll_seconds: float = POLL_SECONDS):
        self._log = log_reader
        self.wake = wake
        self._poll = poll_seconds
        self._subscribers: set[Subscription] = set()
        self._task: asyncio.Task[None] | None = None
        self.cursor = 0
        self.delivered = 0

    async def start(self) -> None:
        await self.wake.start()
        self.cursor = await anyio.to_thread.run_sync(self._log.last_seq)
        self._task = asyncio.create_task(self._run(), name="loket-event-hub")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for subscription in list(self._subscribers):
            self._drop(subscription)
        await self.wake.stop()

    @property
    def is_running(self) -> bool:
        return self._task is not None and not self._task.done()

    def subscribe(self) -> Subscription:
        subscription = Subscription()
        self._subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscribers.discard(subscription)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    async def _run(self) -> None:
        while True:
            try:
                await self._relay()
            except Exception:  # the database may be briefly away; keep relaying
                log.exception("event hub could not read the log")
            await self.wake.wait(self._poll)

    async def _relay(self) -> None:
        while True:
            batch = await in_thread(self._log.after, self.cursor)
            for event in batch:
                self._fan_out(event)
                self.cursor = event.seq
            if len(batch) < 500:
                return

    def _fan_out(self, event: StoredEvent) -> None:
        self.delivered += 1
        for subscription in list(self._subscribers):
            try:
                subscription.queue.put_nowait(event)
            except asyncio.QueueFull:
                self._drop(subscription)

    def _drop(self, subscription: Subscription) -> None:
        self._subscribers.discard(subscription)
        subscription.is_dropped = True
        with contextlib.suppress(asyncio.QueueFull):
            subscription.queue.put_nowait(None)


OnCommit = Callable[[], None]
