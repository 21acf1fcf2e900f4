"""Storing how drafts' identities were verified, and video tickets taken for an officer's check."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select

from loket.adapters.db import schema as t
from loket.domain.catalogue import IdentificationLevel
from loket.domain.identification import DocumentType, Method, Verification


class SqlIdentityRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def add_verification(
        self, verification_id: str, draft_id: str, verification: Verification
    ) -> None:
        v = verification
        self._conn.execute(
            insert(t.identity_verifications).values(
                id=verification_id,
                draft_id=draft_id,
                level=v.level.value,
                method=v.method.value,
                verified_at=v.verified_at,
                subject_ref=v.subject_ref,
                display_name=v.display_name,
                officer_id=v.officer_id,
                document_type=v.document_type.value if v.document_type else None,
                document_suffix=v.document_suffix,
            )
        )

    def latest_verification(self, draft_id: str) -> Verification | None:
        c = t.identity_verifications.c
        row = self._conn.execute(
            select(t.identity_verifications)
            .where(c.draft_id == draft_id)
            .order_by(c.verified_at.desc(), c.id.desc())
            .limit(1)
        ).first()
        return None if row is None else _verification(row._mapping)

    def add_call_request(self, ticket_id: str, draft_id: str, at: datetime) -> None:
        self._conn.execute(
            insert(t.identity_call_requests).values(
                ticket_id=ticket_id, draft_id=draft_id, created_at=at
            )
        )

    def draft_for_ticket(self, ticket_id: str) -> str | None:
        """The draft a contact is about: taken for an identity check, else shared in the call."""
        c = t.identity_call_requests.c
        found = self._conn.execute(select(c.draft_id).where(c.ticket_id == ticket_id)).scalar()
        if found is None:
            shared = t.call_drafts.c
            query = select(shared.draft_id).where(shared.ticket_id == ticket_id)
            found = self._conn.execute(query).scalar()
        return None if found is None else str(found)


def _verification(m: Any) -> Verification:
    return Verification(
        level=IdentificationLevel(m["level"]),
        method=Method(m["method"]),
        verified_at=m["verified_at"],
        subject_ref=m["subject_ref"],
        display_name=m["display_name"],
        officer_id=m["officer_id"],
        document_type=DocumentType(m["document_type"]) if m["document_type"] else None,
        document_suffix=m["document_suffix"],
    )
