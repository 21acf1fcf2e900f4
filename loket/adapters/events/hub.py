"""This node's event hub: tails the event log and hands each event to its live subscribers.

The database log is the single source of order; what wakes the hub is only a hint: a local
commit, a Redis message from another node, or a periodic poll that catches anything a
crashed publisher never announced.

A subscriber starts with a queue (while it replays what it missed); once it has caught up it
hands the hub a `deliver` coroutine function, and the hub's own task then sends each event
to it in turn. Waking a thousand tasks per event cost more than the thousand sends
(benchmarks/fanout.py, docs/benchmarks.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
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
# Direct deliveries that wait this long have a client that stopped reading (its connection's
# buffers are full): it is dropped, as above, so that one dead screen holds up the others
# for at most this long. A healthy send does not wait at all.
DELIVERY_SECONDS = 0.5
# Direct deliveries run in the hub's task; between chunks of this many it lets the event
# loop serve other work (the kiosk's answer, other requests) before going on.
DELIVERY_CHUNK = 100

Deliver = Callable[[StoredEvent], Awaitable[None]]


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


async def cancel_and_wait(*tasks: asyncio.Task[Any] | None) -> None:
    """Cancel the tasks and wait until they have ended.

    Unlike `await task` under `suppress(CancelledError)`, this keeps a cancel of the caller
    itself: a shutdown that is cancelled stops.
    """
    running = {task for task in tasks if task is not None}
    for task in running:
        task.cancel()
    if running:
        await asyncio.wait(running)


@dataclass(eq=False)
class Subscription:
    # One place more than the backlog, so that the `None` that ends a dropped subscription
    # always fits.
    queue: asyncio.Queue[StoredEvent | None] = field(
        default_factory=lambda: asyncio.Queue(SUBSCRIBER_BACKLOG + 1)
    )
    is_dropped: bool = False
    # Set by `EventHub.deliver_directly`: the hub then sends events itself, the queue only
    # carries the final `None`.
    deliver: Deliver | None = None
    location_id: int | None = None

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
        # Not asyncio.wait_for: in Python 3.11 it loses a cancel that arrives as the flag is
        # set, and a hub that missed its cancel never stops.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._flag.wait()
        self._flag.clear()

    async def ping(self) -> bool:
        return self._flag is not None


class EventHub:
    def __init__(self, log_reader: EventLog, wake: Wake, poll_seconds: float = POLL_SECONDS):
        self._log = log_reader
        self.wake = wake
        self._poll = poll_seconds
        self._subscribers: set[Subscription] = set()  # those still reading their queue
        # Direct subscribers by the desk whose events they want; None: every event. A dict
        # keeps them in the order they caught up.
        self._direct: dict[int | None, dict[Subscription, None]] = {}
        self._task: asyncio.Task[None] | None = None
        self.cursor = 0
        self.delivered = 0

    async def start(self) -> None:
        # A hub belongs to one event loop: a second app started on the same container would
        # share its wake-up flag across loops and fail at random later.
        if self.is_running:
            raise RuntimeError("this event hub already runs: one app per container")
        await self.wake.start()
        self.cursor = await anyio.to_thread.run_sync(self._log.last_seq)
        self._task = asyncio.create_task(self._run(), name="loket-event-hub")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        for subscription in [*self._subscribers, *self._direct_subscribers()]:
            self._drop(subscription)
        await self.wake.stop()

    @property
    def is_running(self) -> bool:
        return self._task is not None and not self._task.done()

    def subscribe(self) -> Subscription:
        subscription = Subscription()
        self._subscribers.add(subscription)
        return subscription

    def deliver_directly(
        self, subscription: Subscription, deliver: Deliver, location_id: int | None
    ) -> None:
        """From now on the hub awaits `deliver(event)` for the events of `location_id` (None:
        all) instead of queueing them.

        Call it when the subscription's queue is empty, with no await since it was found
        empty: then no event is lost or handed over twice. The hub drops the subscription
        if `deliver` raises or waits too long (`DELIVERY_SECONDS`).
        """
        if subscription.is_dropped or subscription not in self._subscribers:
            return
        if not subscription.queue.empty():
            raise RuntimeError("deliver_directly: the subscription still has queued events")
        self._subscribers.discard(subscription)
        subscription.deliver = deliver
        subscription.location_id = location_id
        self._direct.setdefault(location_id, {})[subscription] = None

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscribers.discard(subscription)
        self._forget_direct(subscription)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers) + sum(len(group) for group in self._direct.values())

    def _direct_subscribers(self) -> list[Subscription]:
        return [subscription for group in self._direct.values() for subscription in group]

    def _forget_direct(self, subscription: Subscription) -> None:
        if subscription.deliver is None:
            return
        subscription.deliver = None
        group = self._direct.get(subscription.location_id)
        if group is not None:
            group.pop(subscription, None)
            if not group:
                del self._direct[subscription.location_id]

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
                await self._fan_out(event)
                # Only now: every subscriber has had every event up to here.
                self.cursor = event.seq
            if len(batch) < 500:
                return

    async def _fan_out(self, event: StoredEvent) -> None:
        self.delivered += 1
        # Who gets the event directly is settled before the first await, together with the
        # queues: a subscriber that switches while the hub sends below has this event in its
        # queue, and is not handed it a second time.
        direct = [*self._direct.get(event.location_id, ())]
        if event.location_id is not None:
            direct += self._direct.get(None, ())
        for subscription in list(self._subscribers):
            if subscription.queue.qsize() >= SUBSCRIBER_BACKLOG:
                self._drop(subscription)
            else:
                subscription.queue.put_nowait(event)
        await self._deliver(event, direct)

    async def _deliver(self, event: StoredEvent, subscribers: list[Subscription]) -> None:
        """Send to each direct subscriber in turn, in the hub's task.

        A send to a client that reads normally completes without suspending (the frame goes
        to the transport's buffer), so this costs no task switch per subscriber.
        """
        for start in range(0, len(subscribers), DELIVERY_CHUNK):
            if start:
                await asyncio.sleep(0)
            await self._deliver_chunk(event, iter(subscribers[start : start + DELIVERY_CHUNK]))

    async def _deliver_chunk(self, event: StoredEvent, subscribers: Iterator[Subscription]) -> None:
        """One timer for a chunk of sends rather than one per send: arming and cancelling a
        timer (about 5 µs) is a fifth of what the whole fan-out costs per socket.

        The timer can only fire while a send waits, so the subscriber in flight then is the
        one whose client stopped reading; it is dropped and the rest get a fresh budget.
        """
        subscription: Subscription | None = None
        while True:
            try:
                async with asyncio.timeout(DELIVERY_SECONDS):
                    for subscription in subscribers:
                        deliver = subscription.deliver
                        if deliver is None:
                            continue  # it left while the hub was sending to others
                        try:
                            await deliver(event)
                        except Exception:  # a socket that closed meanwhile
                            log.debug("dropped a stream that could not be sent to", exc_info=True)
                            self._drop(subscription)
                return
            except TimeoutError:
                log.warning("dropped a stream whose client stopped reading")
                if subscription is not None:
                    self._drop(subscription)

    def _drop(self, subscription: Subscription) -> None:
        self._subscribers.discard(subscription)
        self._forget_direct(subscription)
        subscription.is_dropped = True
        with contextlib.suppress(asyncio.QueueFull):
            subscription.queue.put_nowait(None)


OnCommit = Callable[[], None]
