"""What the citizen and the staff exchange during a contact: chat messages and documents.

Both are kept with the contact (the ticket) for the officer's record. Documents are accepted
only as PDF, JPEG or PNG, recognised by their content, never by their name or the type the
browser claims: a renamed executable is refused whatever it is called.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import threading
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from loket.domain.errors import Invalid

MAX_MESSAGE_LENGTH = 2000
MAX_FILENAME_LENGTH = 120
# A photo from a phone camera is 3–8 MB; a scanned statement a few hundred KB.
DEFAULT_MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
# A contact is a conversation, not a file store: enough for a receipt, photos and a letter.
MAX_DOCUMENTS_PER_CONTACT = 20


class AuthorRole(StrEnum):
    """Who wrote a message or added a document, as the other side sees it."""

    CITIZEN = "citizen"
    OFFICER = "officer"
    INTERPRETER = "interpreter"


class DocumentType(StrEnum):
    PDF = "application/pdf"
    JPEG = "image/jpeg"
    PNG = "image/png"


# Signatures at the start of each accepted format (PDF allows a little leading junk, which
# some scanners write; the PDF specification tolerates the header within the first 1 KB).
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_SIGNATURE = b"\xff\xd8\xff"
_PDF_SIGNATURE = b"%PDF-"
_PDF_HEADER_WINDOW = 1024
_EXTENSIONS = {DocumentType.PDF: ".pdf", DocumentType.JPEG: ".jpg", DocumentType.PNG: ".png"}
# Control characters and the bidirectional overrides that can disguise "gpj.exe" as "exe.jpg".
_UNSAFE_CHARACTERS = re.compile(r"[\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
_PATH_SEPARATORS = re.compile(r"[\\/:]")


def sniff_document_type(content: bytes) -> DocumentType | None:
    """The accepted format this content is, by its leading bytes; None for anything else."""
    if content.startswith(_PNG_SIGNATURE):
        return DocumentType.PNG
    if content.startswith(_JPEG_SIGNATURE):
        return DocumentType.JPEG
    if _PDF_SIGNATURE in content[:_PDF_HEADER_WINDOW] and b"%%EOF" in content[-1024:]:
        return DocumentType.PDF
    return None


def clean_filename(name: str | None, document_type: DocumentType) -> str:
    """A display name safe to show and to offer as a download name.

    Keeps the citizen's own name where it can ("receipt bike"), drops any folder part and
    control characters, and gives it the extension of what the content really is.
    """
    text = unicodedata.normalize("NFC", name or "")
    text = _PATH_SEPARATORS.split(text)[-1]
    text = _UNSAFE_CHARACTERS.sub("", text).strip().strip(".")
    stem = text.rsplit(".", 1)[0].strip() if "." in text else text
    extension = _EXTENSIONS[document_type]
    stem = stem[: MAX_FILENAME_LENGTH - len(extension)].strip() or "document"
    return stem + extension


def clean_message(text: str) -> str:
    """The message as it will be kept: trimmed, without control characters except new lines.

    Raises Invalid("chat.empty") or Invalid("chat.too_long").
    """
    kept = "".join(
        ch for ch in unicodedata.normalize("NFC", text) if ch in "\n\t" or not _is_control(ch)
    ).strip()
    if not kept:
        raise Invalid("chat.empty", field="text")
    if len(kept) > MAX_MESSAGE_LENGTH:
        raise Invalid("chat.too_long", field="text", maximum=MAX_MESSAGE_LENGTH)
    return kept


def _is_control(ch: str) -> bool:
    return bool(_UNSAFE_CHARACTERS.match(ch)) or unicodedata.category(ch) == "Cc"


@dataclass(frozen=True)
class Author:
    """A participant of the contact: their role, and the name the other side sees."""

    role: AuthorRole
    name: str
    staff_id: int | None = None

    @property
    def actor(self) -> str:
        """The audit trail's name for them: staff by id; a citizen is not identified here."""
        if self.staff_id is not None:
            return f"staff:{self.staff_id}"
        return str(self.role)


@dataclass(frozen=True)
class ChatMessage:
    id: str
    ticket_id: str
    author: Author
    text: str
    at: datetime

    @classmethod
    def write(cls, *, ticket_id: str, author: Author, text: str, at: datetime) -> ChatMessage:
        return cls(
            id=_new_id(at), ticket_id=ticket_id, author=author, text=clean_message(text), at=at
        )


@dataclass(frozen=True)
class Document:
    """An uploaded file's record; its content is stored beside it, addressed by this id."""

    id: str
    ticket_id: str
    author: Author
    filename: str
    content_type: DocumentType
    size: int
    sha256: str
    at: datetime

    @classmethod
    def accept(
        cls,
        *,
        ticket_id: str,
        author: Author,
        filename: str | None,
        content: bytes,
        at: datetime,
        max_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES,
    ) -> Document:
        """Check an upload and describe it.

        Raises Invalid("document.empty"), Invalid("document.too_large") or
        Invalid("document.type_not_allowed").
        """
        if not content:
            raise Invalid("document.empty", field="file")
        if len(content) > max_bytes:
            raise Invalid(
                "document.too_large", field="file", maximum_mb=max(1, max_bytes // 1024**2)
            )
        document_type = sniff_document_type(content)
        if document_type is None:
            raise Invalid("document.type_not_allowed", field="file")
        return cls(
            id=_new_id(at),
            ticket_id=ticket_id,
            author=author,
            filename=clean_filename(filename, document_type),
            content_type=document_type,
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            at=at,
        )


class _IdSequence:
    """Ids that sort in the order things were said, and are not guessable from one another.

    Time first (milliseconds), then a counter, so two messages of the same millisecond on
    one node keep their order (a quick reply, a clock that a test holds still); then random.
    Across nodes, messages within one millisecond may sort either way.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = (0, 0)

    def next(self, at: datetime) -> str:
        millis = int(at.timestamp() * 1000)
        with self._lock:
            last_millis, counter = self._last
            counter = counter + 1 if millis <= last_millis else 0
            millis = max(millis, last_millis)
            self._last = (millis, counter)
        return f"{millis:013x}{counter:04x}{secrets.token_hex(6)}"


_IDS = _IdSequence()


def _new_id(at: datetime) -> str:
    return _IDS.next(at)
