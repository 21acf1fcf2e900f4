"""Storing reports' signed statements (sealed with the vault) and acknowledgement download codes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.exc import IntegrityError

from loket.adapters.db import schema as t
from loket.adapters.db.report_repository import _report
from loket.adapters.vault import Vault
from loket.domain.errors import ConcurrentUpdate, NotFound
from loket.domain.handover import DownloadCode, StoredStatement
from loket.domain.reports import Report


class SqlHandoverRepository:
    def __init__(self, conn: Connection, vault: Vault | None) -> None:
        self._conn = conn
        self._vault = vault
        self._locks = conn.dialect.name == "postgresql"

    def add_statement(self, stored: StoredStatement, document: bytes) -> None:
        if self._vault is None:
            raise RuntimeError("statements are stored only sealed: configure the vault")
        values: dict[str, Any] = {
            "id": stored.id,
            "report_id": stored.report_id,
            "reference": stored.reference,
            "version": stored.version,
            "sha256": stored.sha256,
            "created_at": stored.created_at,
            "content": self._vault.seal_statement(stored.id, document),
        }
        try:
            self._conn.execute(insert(t.statements).values(**values))
        except IntegrityError:
            raise ConcurrentUpdate("statement.changed") from None

    def statement_for(self, report_id: str) -> StoredStatement | None:
        c = t.statements.c
        row = self._conn.execute(
            select(c.id, c.report_id, c.reference, c.version, c.sha256, c.created_at)
            .where(c.report_id == report_id)
            .order_by(c.version.desc())
            .limit(1)
        ).first()
        return None if row is None else StoredStatement(**dict(row._mapping))

    def statement_document(self, statement_id: str) -> bytes:
        c = t.statements.c
        sealed = self._conn.execute(select(c.content).where(c.id == statement_id)).scalar()
        if sealed is None:
            raise NotFound("statement.unknown")
        if self._vault is None:
            raise RuntimeError("statements are stored only sealed: configure the vault")
        return self._vault.open_statement(statement_id, sealed)

    def add_code(self, code: DownloadCode) -> None:
        self._conn.execute(insert(t.acknowledgement_codes).values(**vars(code)))

    def code_by_hash(self, code_hash: str, *, for_update: bool = False) -> DownloadCode | None:
        c = t.acknowledgement_codes.c
        query = select(t.acknowledgement_codes).where(c.code_hash == code_hash)
        if for_update and self._locks:
            query = query.with_for_update()
        row = self._conn.execute(query).first()
        return None if row is None else DownloadCode(**dict(row._mapping))

    def save_code(self, code: DownloadCode) -> None:
        c = t.acknowledgement_codes.c
        self._conn.execute(
            update(t.acknowledgement_codes).where(c.id == code.id).values(uses_left=code.uses_left)
        )

    def submitted_reports(self, limit: int) -> list[Report]:
        c = t.reports.c
        rows = self._conn.execute(
            select(t.reports)
            .where(c.form_code.like("report.%"))
            .order_by(c.submitted_at.desc())
            .limit(limit)
        )
        return [_report(row) for row in rows]
