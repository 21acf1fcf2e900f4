"""A clamd client for uploads: the INSTREAM command over TCP, one connection per scan.

clamd answers `stream: OK`, `stream: <signature> FOUND` or `... ERROR`. Anything else, a refused
connection or a timeout means the scanner is down: the caller then refuses to store or serve
(fail closed), because an upload nobody could check must not reach an officer's computer.
"""

from __future__ import annotations

import socket
import struct
from urllib.parse import urlsplit

from loket.services.ports import ScannerUnavailable, ScanVerdict

# clamd's StreamMaxLength defaults to 25 MB; uploads are at most 10 MB, sent in 64 KB chunks.
CHUNK = 64 * 1024
DEFAULT_PORT = 3310


class ClamdScanner:
    def __init__(self, url: str, timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        if parts.scheme != "tcp" or not parts.hostname:
            raise ValueError(f"a clamd address looks like tcp://host:3310, not {url!r}")
        self.address = (parts.hostname, parts.port or DEFAULT_PORT)
        self.timeout = timeout

    def scan(self, content: bytes) -> ScanVerdict:
        reply = self._ask(content)
        if reply.endswith(" FOUND"):
            return ScanVerdict(is_clean=False, signature=reply.removeprefix("stream: ")[:-6])
        if reply == "stream: OK":
            return ScanVerdict(is_clean=True, signature=None)
        raise ScannerUnavailable(f"clamd answered {reply[:200]!r}")

    def check(self) -> None:
        """Raise ScannerUnavailable unless clamd answers PING with PONG."""
        try:
            with socket.create_connection(self.address, timeout=self.timeout) as conn:
                conn.sendall(b"zPING\0")
                answer = _read_reply(conn)
        except OSError as error:
            raise ScannerUnavailable(f"clamd at {self.address} is not reachable") from error
        if answer != "PONG":
            raise ScannerUnavailable(f"clamd answered {answer[:200]!r} to PING")

    def _ask(self, content: bytes) -> str:
        try:
            with socket.create_connection(self.address, timeout=self.timeout) as conn:
                conn.sendall(b"zINSTREAM\0")
                for start in range(0, len(content), CHUNK):
                    chunk = content[start : start + CHUNK]
                    conn.sendall(struct.pack("!L", len(chunk)) + chunk)
                conn.sendall(struct.pack("!L", 0))
                return _read_reply(conn)
        except OSError as error:
            raise ScannerUnavailable(f"clamd at {self.address} is not reachable") from error


def _read_reply(conn: socket.socket) -> str:
    reply = b""
    while not reply.endswith(b"\0"):
        part = conn.recv(4096)
        if not part:
            break
        reply += part
        if len(reply) > 64 * 1024:
            break
    return reply.rstrip(b"\0").decode("utf-8", "replace").strip()
