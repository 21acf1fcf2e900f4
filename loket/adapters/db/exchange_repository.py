"""Storing a contact's chat messages and documents over SQLAlchemy Core.

A document's content is sealed with the vault (AES-GCM, the key outside the database) before
it is written, and opened when it is read: a copy of the database alone reveals no upload.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, bindparam, func, insert, select

from loket.adapters.db import schema as t
from loket.adapters.vault import Vault
from loket.domain.exchange import Author, AuthorRole, ChatMessage, Document, DocumentType

_m = t.contact_messages.c
_d = t.contact_documents.c
_INSERT_MESSAGE = insert(t.contact_messages)
_MESSAGES = select(t.contact_messages).where(_m.ticket_id == bindparam("ticket_id")).order_by(_m.id)
_INSERT_DOCUMENT = insert(t.contact_documents)
# Listing never loads the content: a contact's photos can be tens of megabytes.
_DOCUMENT_RECORDS = [column for column in t.contact_documents.c if column.key != "content"]
_DOCUMENTS = (
    select(*_DOCUMENT_RECORDS).where(_d.ticket_id == bindparam("ticket_id")).order_by(_d.id)
)
_COUNT_DOCUMENTS = (
    select(func.count())
    .select_from(t.contact_documents)
    .where(_d.ticket_id == bindparam("ticket_id"))
)
_DOCUMENT = select(t.contact_documents).where(_d.id == bindparam("document_id"))


class SqlExchangeRepository:
    def __init__(self, conn: Connection, vault: Vault | None) -> None:
        self._conn = conn
        self._vault = vault

    @property
    def vault(self) -> Vault:
        # Built by bootstrap for every node; a unit of work without one cannot touch uploads.
        if self._vault is None:
            raise RuntimeError("this unit of work has no vault for document contents")
        return self._vault

    def add_message(self, message: ChatMessage) -> None:
        self._conn.execute(
            _INSERT_MESSAGE,
            {
                "id": message.id,
                "ticket_id": message.ticket_id,
                **_author_values(message.author),
                "body": message.text,
                "at": message.at,
            },
        )

    def messages(self, ticket_id: str) -> list[ChatMessage]:
        return [
            ChatMessage(
                id=row.id, ticket_id=row.ticket_id, author=_author(row), text=row.body, at=row.at
            )
            for row in self._conn.execute(_MESSAGES, {"ticket_id": ticket_id})
        ]

    def add_document(self, document: Document, content: bytes) -> None:
        self._conn.execute(
            _INSERT_DOCUMENT,
            {
                "id": document.id,
                "ticket_id": document.ticket_id,
                **_author_values(document.author),
                "filename": document.filename,
                "content_type": document.content_type.value,
                "size": document.size,
                "sha256": document.sha256,
                "at": document.at,
                "content": self.vault.seal_document(document.id, content),
            },
        )

    def documents(self, ticket_id: str) -> list[Document]:
        return [_document(row) for row in self._conn.execute(_DOCUMENTS, {"ticket_id": ticket_id})]

    def count_documents(self, ticket_id: str) -> int:
        return int(self._conn.execute(_COUNT_DOCUMENTS, {"ticket_id": ticket_id}).scalar_one())

    def document(self, document_id: str) -> tuple[Document, bytes] | None:
        row = self._conn.execute(_DOCUMENT, {"document_id": document_id}).first()
        if row is None:
            return None
        return _document(row), self.vault.open_document(row.id, bytes(row.content))


def _author_values(author: Author) -> dict[str, Any]:
    return {
        "author_role": author.role.value,
        "author_name": author.name,
        "author_staff_id": author.staff_id,
    }


def _author(row: Row[Any]) -> Author:
    return Author(
        role=AuthorRole(row.author_role), name=row.author_name, staff_id=row.author_staff_id
    )


def _document(row: Row[Any]) -> Document:
    return Document(
        id=row.id,
        ticket_id=row.ticket_id,
        author=_author(row),
        filename=row.filename,
        content_type=DocumentType(row.content_type),
        size=row.size,
        sha256=row.sha256,
        at=row.at,
    )
