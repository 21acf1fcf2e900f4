"""The nodes' running calls in Redis, so a supervisor on any node sees every call.

Each node writes its calls as one JSON value under a key of its own, every few seconds and
with an expiry: a node that stops or dies drops off the board by itself. The supervisor's
page reads every node's key. The values hold no personal data: call ids, states, times and
connection quality.
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import datetime
from typing import Any

import redis

from loket.domain.calls import CallRole, CallState
from loket.services.calls import QualitySample, RunningCall

log = logging.getLogger(__name__)

KEY_PREFIX = "loket:callboard:"
# A node publishes every `PUBLISH_SECONDS` (see loket/web/app.py); its key outlives a few
# missed turns, not a stopped node.
TTL_SECONDS = 10


class RedisCallBoardShare:
    def __init__(self, url: str, node_id: str | None = None) -> None:
        self._client = redis.Redis.from_url(url, socket_timeout=2)
        self._key = KEY_PREFIX + (node_id or uuid.uuid4().hex)

    def publish(self, calls: list[RunningCall]) -> None:
        value = json.dumps([_encoded(call) for call in calls], separators=(",", ":"))
        try:
            self._client.set(self._key, value, ex=TTL_SECONDS)
        except redis.RedisError:
            log.warning("could not share this node's calls over Redis", exc_info=True)

    def withdraw(self) -> None:
        try:
            self._client.delete(self._key)
        except redis.RedisError:
            log.warning("could not withdraw this node's calls from Redis", exc_info=True)

    def everyone(self) -> list[RunningCall]:
        try:
            keys = list(self._client.scan_iter(match=KEY_PREFIX + "*", count=100))
            values = self._client.mget(keys) if keys else []
        except redis.RedisError:
            log.warning("could not read the other nodes' calls from Redis", exc_info=True)
            return []
        calls = []
        for value in values:
            if value is None:  # expired between the scan and the read
                continue
            try:
                calls += [_decoded(item) for item in json.loads(value)]
            except (ValueError, KeyError, TypeError):
                log.warning("a node shared calls this node cannot read; skipped")
        return calls

    def close(self) -> None:
        self._client.close()


def _encoded(call: RunningCall) -> dict[str, Any]:
    return {
        "id": call.call_id,
        "state": call.state.value,
        "started_at": call.started_at.isoformat() if call.started_at else None,
        "quality": {
            role.value: {
                "at": sample.at.isoformat(),
                "rtt_ms": sample.rtt_ms,
                "loss_percent": sample.loss_percent,
                "bitrate_kbps": sample.bitrate_kbps,
                "audio_only": sample.audio_only,
            }
            for role, sample in call.quality.items()
        },
    }


def _decoded(item: dict[str, Any]) -> RunningCall:
    started = item["started_at"]
    return RunningCall(
        call_id=str(item["id"]),
        state=CallState(item["state"]),
        started_at=datetime.fromisoformat(started) if started else None,
        quality={
            CallRole(role): QualitySample(
                role=CallRole(role),
                at=datetime.fromisoformat(sample["at"]),
                rtt_ms=sample["rtt_ms"],
                loss_percent=sample["loss_percent"],
                bitrate_kbps=sample["bitrate_kbps"],
                audio_only=bool(sample["audio_only"]),
            )
            for role, sample in item["quality"].items()
        },
    )
