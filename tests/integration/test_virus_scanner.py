"""Uploads pass the virus scanner (clamd's INSTREAM protocol), and fail closed when it is down.

ClamAV itself cannot run here: its signatures are downloaded at install (freshclam) and this
machine reaches only package registries. The peer below speaks clamd's wire protocol as
documented (zINSTREAM, 4-byte big-endian chunk lengths, a zero-length end, a NUL-terminated
reply; zPING/PONG), so the adapter's framing, chunking and reply parsing are exercised over
a real socket.
"""

from __future__ import annotations

import socket
import socketserver
import struct
import threading
from collections.abc import Iterator
from typing import ClassVar

import pytest

from loket.adapters.scanning.clamd import CHUNK, ClamdScanner
from loket.domain.errors import DomainError, Invalid, Refused
from loket.services import exchange
from loket.services.ports import ScannerUnavailable
from tests.conftest import World, add_officer
from tests.integration.test_exchange import CITIZEN, contact_in_service, officer_author
from tests.unit.test_exchange import PDF, PNG

# The anti-virus test file every scanner recognises (harmless by design).
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


class ClamdPeer(socketserver.BaseRequestHandler):
    # Chunk lengths the peer received, for the test that checks the framing.
    seen: ClassVar[list[int]] = []

    def handle(self) -> None:
        command = b""
        while not command.endswith(b"\0"):
            command += self.request.recv(1)
        if command == b"zPING\0":
            self.request.sendall(b"PONG\0")
            return
        assert command == b"zINSTREAM\0", command
        data = b""
        while True:
            (length,) = struct.unpack("!L", self._exactly(4))
            if length == 0:
                break
            assert length <= CHUNK
            ClamdPeer.seen.append(length)
            data += self._exactly(length)
        found = b"Eicar-Test-Signature FOUND" if EICAR in data else b"OK"
        self.request.sendall(b"stream: " + found + b"\0")

    def _exactly(self, count: int) -> bytes:
        data = b""
        while len(data) < count:
            part = self.request.recv(count - len(data))
            if not part:
                raise ConnectionError("the client left mid-stream")
            data += part
        return data


@pytest.fixture
def clamd() -> Iterator[str]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), ClamdPeer)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"tcp://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def a_closed_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"tcp://127.0.0.1:{probe.getsockname()[1]}"


def test_clean_content_passes_and_a_virus_is_named(clamd: str) -> None:
    scanner = ClamdScanner(clamd)
    scanner.check()
    assert scanner.scan(PDF).is_clean
    ClamdPeer.seen.clear()
    large = PNG + b"\x00" * (3 * CHUNK) + EICAR
    verdict = scanner.scan(large)
    assert not verdict.is_clean and verdict.signature == "Eicar-Test-Signature"
    assert len(ClamdPeer.seen) == 4 and sum(ClamdPeer.seen) == len(large)


def test_a_scanner_that_is_down_is_unavailable_not_clean() -> None:
    scanner = ClamdScanner(a_closed_port(), timeout=1.0)
    with pytest.raises(ScannerUnavailable):
        scanner.scan(PDF)
    with pytest.raises(ScannerUnavailable):
        scanner.check()
    with pytest.raises(ValueError):
        ClamdScanner("http://127.0.0.1:3310")


def test_an_infected_upload_is_refused_and_nothing_is_stored(world: World, clamd: str) -> None:
    ctx = world.container.queue
    officer = add_officer(world, "an")
    ticket = contact_in_service(world, officer)
    scanner = ClamdScanner(clamd)
    infected = PDF[:-6] + EICAR + b"\n%%EOF\n"  # a PDF by its bytes, a virus inside
    with pytest.raises(Invalid) as refused:
        exchange.add_document(
            ctx, ticket.id, CITIZEN, filename="bon.pdf", content=infected, scanner=scanner
        )
    assert (refused.value.code, refused.value.field) == ("document.infected", "file")
    clean = exchange.add_document(
        ctx, ticket.id, CITIZEN, filename="bon.pdf", content=PDF, scanner=scanner
    )
    assert [d.id for d in exchange.list_documents(ctx, ticket.id, CITIZEN)] == [clean.id]


def test_with_the_scanner_down_nothing_is_stored_or_served(world: World, clamd: str) -> None:
    ctx = world.container.queue
    officer = add_officer(world, "an")
    ticket = contact_in_service(world, officer)
    stored = exchange.add_document(
        ctx, ticket.id, CITIZEN, filename="a", content=PNG, scanner=ClamdScanner(clamd)
    )
    down = ClamdScanner(a_closed_port(), timeout=1.0)
    with pytest.raises(Refused) as refused:
        exchange.add_document(ctx, ticket.id, CITIZEN, filename="b", content=PDF, scanner=down)
    assert refused.value.code == "document.scanner_unavailable"
    with pytest.raises(Refused):
        exchange.fetch_document(ctx, ticket.id, stored.id, officer_author(officer), down)
    assert len(exchange.list_documents(ctx, ticket.id, CITIZEN)) == 1
    opened = exchange.fetch_document(
        ctx, ticket.id, stored.id, officer_author(officer), ClamdScanner(clamd)
    )
    assert opened.content == PNG


def test_someone_outside_the_contact_learns_nothing_about_the_scanner(world: World) -> None:
    ctx = world.container.queue
    officer = add_officer(world, "an")
    ticket = contact_in_service(world, officer)
    stored = exchange.add_document(ctx, ticket.id, CITIZEN, filename="a", content=PNG)
    outsider = officer_author(add_officer(world, "bo"))
    down = ClamdScanner(a_closed_port(), timeout=1.0)
    with pytest.raises(DomainError) as refused:
        exchange.fetch_document(ctx, ticket.id, stored.id, outsider, down)
    assert refused.value.code == "contact.not_participant"
