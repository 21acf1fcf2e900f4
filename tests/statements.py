"""Factories for statements shared by the unit and integration tests."""

from __future__ import annotations

import struct
import zlib
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from loket.domain.catalogue import IdentificationLevel
from loket.domain.statements import (
    Answer,
    Confirmation,
    Officer,
    Place,
    Statement,
    StatementText,
)

# Wednesday 13 January 2027, 14:30 in Brussels (UTC+1).
MADE_AT = datetime(2027, 1, 13, 13, 30, tzinfo=UTC)
MARKUP = '<b>bold</b> <script>alert("x")</script> & <font size=40>big</font>'


def signature_png(width: int = 240, height: int = 80) -> bytes:
    """A real PNG as a signature pad sends it: a black stroke on white, greyscale."""
    rows = []
    for y in range(height):
        row = bytearray(b"\xff" * width)
        for x in range(width):
            if abs(y - height // 2 - (x % 40 - 20) // 2) < 2:
                row[x] = 0
        rows.append(b"\x00" + bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


def dutch_text() -> StatementText:
    return StatementText(
        "nl",
        (
            Answer("Wanneer is uw fiets gestolen?", "12 januari 2027 rond 18:00"),
            Answer("Merk en kleur", "Gazelle, blauw"),
            Answer("Framenummer", "GZ123456789"),
            Answer("Wat is er gebeurd?", MARKUP),
        ),
    )


def english_text() -> StatementText:
    return StatementText(
        "en",
        (
            Answer("When was your bicycle stolen?", "12 January 2027 around 18:00"),
            Answer("Brand and colour", "Gazelle, blue"),
            Answer("Frame number", "GZ123456789"),
            Answer("What happened?", MARKUP),
        ),
    )


def make_statement(**overrides: Any) -> Statement:
    statement = Statement(
        case_reference="PL0100-2027-000123",
        report_type="report.bicycle_theft",
        texts=(dutch_text(),),
        identification=IdentificationLevel.VERIFIED_BY_OFFICER,
        officer=Officer("Inspecteur J. Peeters", 12),
        place=Place("Politiehuis Genk", "Genk", "Europe/Brussels"),
        made_at=MADE_AT,
        confirmation=Confirmation(signature_png=signature_png()),
    )
    return replace(statement, **overrides)
