"""Chat messages and documents of a contact: content checks, names, limits."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from loket.domain.errors import Invalid
from loket.domain.exchange import (
    Author,
    AuthorRole,
    ChatMessage,
    Document,
    DocumentType,
    clean_filename,
    sniff_document_type,
)

AT = datetime(2027, 1, 12, 9, 0, tzinfo=UTC)
CITIZEN = Author(AuthorRole.CITIZEN, "Citizen")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64 + b"\xff\xd9"
PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


def accept(content: bytes, filename: str | None = "upload", **limits: int) -> Document:
    return Document.accept(
        ticket_id="t1", author=CITIZEN, filename=filename, content=content, at=AT, **limits
    )


@pytest.mark.parametrize(
    ("content", "expected"),
    [(PNG, DocumentType.PNG), (JPEG, DocumentType.JPEG), (PDF, DocumentType.PDF)],
)
def test_accepted_formats_are_recognised_by_their_bytes(
    content: bytes, expected: DocumentType
) -> None:
    assert sniff_document_type(content) is expected
    document = accept(content, "scan")
    assert document.content_type is expected
    assert document.size == len(content)
    assert len(document.sha256) == 64


@pytest.mark.parametrize(
    "content",
    [
        b"MZ\x90\x00" + b"\x00" * 64,  # a Windows executable
        b"<html><script>alert(1)</script></html>",
        b"GIF89a" + b"\x00" * 32,
        b"PK\x03\x04" + b"\x00" * 32,  # a zip, or an Office document
        b"%PDF-1.7\n no end marker",  # a truncated PDF
        b"\x89PNX\r\n\x1a\n",
    ],
)
def test_anything_else_is_refused_whatever_its_name(content: bytes) -> None:
    with pytest.raises(Invalid) as refused:
        accept(content, "holiday.jpg")
    assert refused.value.code == "document.type_not_allowed"
    assert refused.value.field == "file"


def test_empty_and_oversized_uploads_are_refused_with_the_limit() -> None:
    with pytest.raises(Invalid) as empty:
        accept(b"")
    assert empty.value.code == "document.empty"
    with pytest.raises(Invalid) as large:
        accept(PNG + b"\x00" * (2 * 1024 * 1024), max_bytes=2 * 1024 * 1024)
    assert large.value.code == "document.too_large"
    assert large.value.params == {"maximum_mb": 2}


def test_a_file_name_keeps_the_citizens_words_but_gets_the_real_extension() -> None:
    assert clean_filename("Bon fiets.JPG", DocumentType.PDF) == "Bon fiets.pdf"
    assert clean_filename("C:\\Users\\an\\receipt.png", DocumentType.PNG) == "receipt.png"
    assert clean_filename("../../etc/passwd", DocumentType.PDF) == "passwd.pdf"
    # A right-to-left override would show "photo\u202egpj.exe" as "photoexe.jpg".
    assert clean_filename("photo\u202egpj.exe", DocumentType.JPEG) == "photogpj.jpg"
    assert clean_filename(None, DocumentType.PNG) == "document.png"
    assert clean_filename("...", DocumentType.PNG) == "document.png"
    assert len(clean_filename("x" * 500, DocumentType.PDF)) == 120


def test_a_chat_message_is_trimmed_and_bounded() -> None:
    message = ChatMessage.write(
        ticket_id="t1", author=CITIZEN, text="  Hallo\u0007\nik ben er ", at=AT
    )
    assert message.text == "Hallo\nik ben er"
    for text, code in [("   \n ", "chat.empty"), ("x" * 2001, "chat.too_long")]:
        with pytest.raises(Invalid) as refused:
            ChatMessage.write(ticket_id="t1", author=CITIZEN, text=text, at=AT)
        assert refused.value.code == code


def test_ids_sort_in_the_order_things_were_said() -> None:
    first = ChatMessage.write(ticket_id="t1", author=CITIZEN, text="a", at=AT)
    later = ChatMessage.write(ticket_id="t1", author=CITIZEN, text="b", at=AT.replace(second=1))
    assert first.id < later.id
    # Two in the same millisecond (a quick reply; a clock held still) keep their order too.
    again = [ChatMessage.write(ticket_id="t1", author=CITIZEN, text="a", at=AT) for _ in range(3)]
    assert [m.id for m in again] == sorted(m.id for m in again)
    assert len({first.id, *(m.id for m in again)}) == 4


def test_an_author_appears_in_the_audit_trail_by_staff_id_or_role() -> None:
    assert Author(AuthorRole.OFFICER, "An", staff_id=7).actor == "staff:7"
    assert CITIZEN.actor == "citizen"
