"""The event hub's fan-out: queued and direct subscribers, hand-over, stalled clients."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from loket.adapters.db.event_log import StoredEvent
from loket.adapters.events import hub as hub_module
from loket.adapters.events.hub import EventHub, Subscription, Wake

DESK, OTHER_DESK = 1, 2


class MemoryLog:
    """The two reads the hub makes of the event log, over a list."""

    def __init__(self) -> None:
        self.events: list[StoredEvent] = []

    def append(self, location_id: int | None, **payload: Any) -> StoredEvent:
        event = StoredEvent(
            seq=len(self.events) + 1,
            type="ticket.taken",
            version=1,
            location_id=location_id,
            at=datetime(2027, 1, 12, 9, 0, tzinfo=UTC),
            payload=payload,
        )
        self.events.append(event)
        return event

    def after(self, seq: int, *, limit: int = 500) -> list[StoredEvent]:
        return self.events[seq : seq + limit]

    def last_seq(self) -> int:
        return len(self.events)


class Recorder:
    """A subscriber's `deliver` that notes what it got."""

    def __init__(self) -> None:
        self.seqs: list[int] = []

    async def deliver(self, event: StoredEvent) -> None:
        self.seqs.append(event.seq)


def run(scenario: Callable[[EventHub, MemoryLog], Awaitable[None]]) -> None:
    async def main() -> None:
        log = MemoryLog()
        hub = EventHub(log, Wake(), poll_seconds=60)  # type: ignore[arg-type]
        await hub.start()
        try:
            await scenario(hub, log)
        finally:
            await hub.stop()

    asyncio.run(main())


async def relayed(hub: EventHub, log: MemoryLog) -> None:
    """Wake the hub and wait until it has handed every logged event to every subscriber."""
    hub.wake.wake_local()
    async with asyncio.timeout(10):  # a failure, not a hang
        while hub.cursor < log.last_seq():
            await asyncio.sleep(0.001)


def direct(hub: EventHub, location_id: int | None, deliver: Any) -> Subscription:
    subscription = hub.subscribe()
    hub.deliver_directly(subscription, deliver, location_id)
    return subscription


def test_every_subscriber_gets_every_event_of_its_desk_once_and_in_order_across_the_hand_over(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(hub_module, "DELIVERY_CHUNK", 7)  # many chunks, many chances to switch
    rng = random.Random(3)

    async def scenario(hub: EventHub, log: MemoryLog) -> None:
        screens = [Recorder() for _ in range(40)]
        staff = [Recorder() for _ in range(5)]
        for recorder in screens:
            direct(hub, DESK, recorder.deliver)
        for recorder in staff:
            direct(hub, None, recorder.deliver)

        # Late joiners read their queue at their own pace, then switch to direct delivery
        # in the middle of the hub's sending: as a stream does after its replay.
        late: list[tuple[Recorder, int | None, int]] = []

        async def join(location_id: int | None) -> None:
            recorder = Recorder()
            late.append((recorder, location_id, log.last_seq()))
            subscription = hub.subscribe()
            while True:
                event = await subscription.queue.get()
                assert event is not None
                if location_id is None or event.location_id == location_id:
                    await recorder.deliver(event)
                for _ in range(rng.randrange(3)):
                    await asyncio.sleep(0)
                if subscription.queue.empty():
                    hub.deliver_directly(subscription, recorder.deliver, location_id)
                    return

        joiners = []
        for burst in range(60):
            for _ in range(rng.randrange(1, 6)):
                log.append(rng.choice([DESK, DESK, OTHER_DESK, None]))
            if burst % 2 == 0:
                for location_id in (DESK, None):
                    joiners.append(asyncio.create_task(join(location_id)))
            hub.wake.wake_local()
            await asyncio.sleep(0)
        log.append(DESK)  # the last joiners' first
        await relayed(hub, log)
        async with asyncio.timeout(10):
            await asyncio.gather(*joiners)

        def expected(location_id: int | None, after: int = 0) -> list[int]:
            return [
                e.seq
                for e in log.events
                if e.seq > after and (location_id is None or e.location_id == location_id)
            ]

        for recorder in screens:
            assert recorder.seqs == expected(DESK)
        for recorder in staff:
            assert recorder.seqs == expected(None)
        for recorder, location_id, joined_at in late:
            # In order, without gaps or repeats, from some event on; and every event logged
            # after it subscribed (those before, the stream's replay covers).
            got = recorder.seqs
            assert got and got == expected(location_id)[-len(got) :]
            assert set(expected(location_id, after=joined_at)) <= set(got)
        assert hub.subscriber_count == 40 + 5 + len(late)

    run(scenario)


def test_a_subscriber_that_stops_reading_is_dropped_holding_the_others_up_only_for_the_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    budget = 0.2
    monkeypatch.setattr(hub_module, "DELIVERY_SECONDS", budget)

    async def scenario(hub: EventHub, log: MemoryLog) -> None:
        never: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        stalled_calls = []

        async def stalled(event: StoredEvent) -> None:
            stalled_calls.append(event.seq)
            await never  # a client whose buffers are full: the send never completes

        async def broken(event: StoredEvent) -> None:
            raise ConnectionResetError

        healthy = [Recorder() for _ in range(250)]  # three chunks
        subscriptions = [direct(hub, DESK, r.deliver) for r in healthy[:10]]
        stuck = direct(hub, DESK, stalled)
        subscriptions += [direct(hub, DESK, r.deliver) for r in healthy[10:200]]
        gone = direct(hub, DESK, broken)
        subscriptions += [direct(hub, DESK, r.deliver) for r in healthy[200:]]

        log.append(DESK)
        began = time.monotonic()
        await relayed(hub, log)
        first = time.monotonic() - began
        assert budget <= first < budget + 1.0  # waited for the stalled one once, not longer
        assert all(recorder.seqs == [1] for recorder in healthy)
        for subscription in (stuck, gone):
            assert subscription.is_dropped
            assert subscription.queue.get_nowait() is None  # its stream wakes and closes 1013
        assert not any(s.is_dropped for s in subscriptions)
        assert hub.subscriber_count == len(healthy)

        log.append(DESK)
        began = time.monotonic()
        await relayed(hub, log)
        assert time.monotonic() - began < budget  # no one waits for the dropped any more
        assert all(recorder.seqs == [1, 2] for recorder in healthy)
        assert stalled_calls == [1]

    run(scenario)


def test_a_queued_subscriber_a_backlog_behind_is_dropped_and_told_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(hub_module, "SUBSCRIBER_BACKLOG", 5)

    async def scenario(hub: EventHub, log: MemoryLog) -> None:
        subscription = hub.subscribe()  # never reads its queue
        for _ in range(8):
            log.append(DESK)
        await relayed(hub, log)
        assert subscription.is_dropped
        items = [subscription.queue.get_nowait() for _ in range(subscription.queue.qsize())]
        # The end marker fits even though the queue was full: the stream learns it was dropped.
        assert items == [*log.events[:5], None]
        hub.deliver_directly(subscription, Recorder().deliver, DESK)
        assert subscription.deliver is None

    run(scenario)


def test_a_subscriber_with_queued_events_cannot_switch_to_direct_delivery() -> None:
    async def scenario(hub: EventHub, log: MemoryLog) -> None:
        subscription = hub.subscribe()
        log.append(DESK)
        await relayed(hub, log)
        with pytest.raises(RuntimeError):
            hub.deliver_directly(subscription, Recorder().deliver, DESK)
        assert subscription.queue.get_nowait() is log.events[0]
        recorder = Recorder()
        hub.deliver_directly(subscription, recorder.deliver, DESK)
        log.append(DESK)
        await relayed(hub, log)
        assert recorder.seqs == [2] and subscription.queue.empty()

    run(scenario)


def test_a_running_hub_refuses_a_second_start() -> None:
    async def scenario(hub: EventHub, log: MemoryLog) -> None:
        with pytest.raises(RuntimeError, match="already runs"):
            await hub.start()
        log.append(DESK)
        await relayed(hub, log)  # the first start still relays

    run(scenario)


@pytest.mark.parametrize("turns", range(4))
def test_a_hub_woken_just_as_it_stops_still_stops(turns: int) -> None:
    # asyncio.wait_for in Python 3.11 loses a cancel that meets a finished wait; a lost
    # cancel left the hub relaying forever and an app's shutdown hanging.
    async def scenario(hub: EventHub, log: MemoryLog) -> None:
        await asyncio.sleep(0.01)  # the hub waits for a wake-up
        hub.wake.wake_local()
        for _ in range(turns):
            await asyncio.sleep(0)
        stopping = asyncio.ensure_future(hub.stop())
        done, _ = await asyncio.wait({stopping}, timeout=3)
        assert stopping in done and not hub.is_running

    run(scenario)
