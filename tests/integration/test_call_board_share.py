"""The nodes' running calls shared through the real Redis: what one node publishes, another
reads back the same; a stopped node's calls go; a value no node can read is skipped."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import redis

from loket.adapters.calls.board_share import KEY_PREFIX, TTL_SECONDS, RedisCallBoardShare
from loket.domain.calls import CallRole, CallState
from loket.services.calls import QualitySample, RunningCall
from tests.conftest import REDIS_URL, unavailable

pytestmark = pytest.mark.redis
AT = datetime(2027, 1, 12, 9, 30, tzinfo=UTC)


@pytest.fixture
def nodes() -> Iterator[tuple[RedisCallBoardShare, RedisCallBoardShare]]:
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError as error:
        unavailable(f"Redis is not reachable at {REDIS_URL}: {error.__class__.__name__}")
    a, b = RedisCallBoardShare(REDIS_URL), RedisCallBoardShare(REDIS_URL)
    yield a, b
    for node in (a, b):
        node.withdraw()
        node.close()


def a_call(call_id: str, with_quality: bool = True) -> RunningCall:
    sample = QualitySample(CallRole.CITIZEN, AT, 35.5, 0.4, 1200.0, audio_only=True)
    return RunningCall(
        call_id=call_id,
        state=CallState.ACTIVE if with_quality else CallState.WAITING,
        started_at=AT if with_quality else None,
        quality={CallRole.CITIZEN: sample} if with_quality else {},
    )


def mine(node: RedisCallBoardShare, ids: set[str]) -> list[RunningCall]:
    # Other tests' nodes may share the Redis database: look only at this test's calls.
    return sorted((c for c in node.everyone() if c.call_id in ids), key=lambda c: c.call_id)


def test_what_one_node_publishes_another_reads_back_the_same(
    nodes: tuple[RedisCallBoardShare, RedisCallBoardShare],
) -> None:
    a, b = nodes
    first, second = a_call(uuid.uuid4().hex), a_call(uuid.uuid4().hex, with_quality=False)
    ids = {first.call_id, second.call_id}
    a.publish([first])
    b.publish([second])
    assert mine(a, ids) == mine(b, ids) == sorted([first, second], key=lambda c: c.call_id)

    a.publish([])  # its call ended: replaced, not added to
    assert mine(b, ids) == [second]
    b.withdraw()  # the node stops
    assert mine(a, ids) == []


def test_a_node_that_stops_without_withdrawing_drops_off_by_itself(
    nodes: tuple[RedisCallBoardShare, RedisCallBoardShare],
) -> None:
    a, _ = nodes
    a.publish([a_call(uuid.uuid4().hex)])
    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=KEY_PREFIX + "*"))
    assert keys and all(0 < client.ttl(key) <= TTL_SECONDS for key in keys)


def test_a_value_no_node_can_read_is_skipped(
    nodes: tuple[RedisCallBoardShare, RedisCallBoardShare],
) -> None:
    a, b = nodes
    client = redis.Redis.from_url(REDIS_URL)
    client.set(KEY_PREFIX + "broken-" + uuid.uuid4().hex, "not json", ex=TTL_SECONDS)
    call = a_call(uuid.uuid4().hex)
    a.publish([call])
    assert mine(b, {call.call_id}) == [call]
