"""The access log without client addresses.

An address beside the time of a request would tie an anonymous tipster to their tip (the
tip's time is stored, and so would be "POST /report/submit from 203.0.113.7" at that second).
So the access log names no client at all, for any path: a rule per path would miss the page
views around the tip, which tie the address to the same minute just as well. Failed staff
sign-ins keep their address where it is needed, in the sign-in throttle.
"""

from __future__ import annotations

import copy
import logging
from typing import Any

HIDDEN = "-"


class DropClientAddress(logging.Filter):
    """Replaces the client address that uvicorn puts first in its request lines: the access
    log's ('%s - "GET / HTTP/1.1" 200') and the WebSocket handshakes it logs as errors'
    neighbours ('%s - "WebSocket /ws/..." [accepted]')."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and args and str(record.msg).startswith('%s - "'):
            record.args = (HIDDEN, *args[1:])
        return True


def logging_config() -> dict[str, Any]:
    """uvicorn's own logging configuration with the filter on the access handler."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["drop_client_address"] = {
        "()": "loket.web.access_log.DropClientAddress"
    }
    for handler in ("access", "default"):
        config["handlers"][handler].setdefault("filters", []).append("drop_client_address")
    return config
