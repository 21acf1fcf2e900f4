"""Storing report drafts, their files and submitted reports over SQLAlchemy Core.

Attached files are sealed with the vault (AES-GCM, the key outside the database), bound to
their draft and question, so a copy of the database alone reveals no upload.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from loket.adapters.db import schema as t
from loket.adapters.vault import Vault
from loket.domain.catalogue import IdentificationLevel
from loket.domain.errors import ConcurrentUpdate, NotFound
from loket.domain.reports import Draft, Report, ReportState

_FILE = "report-file"


class SqlReportRepository:
    def __init__(self, conn: Connection, vault: Vault | None) -> None:
        self._conn = conn
        self._vault = vault
        self._locks = conn.dialect.name == "postgresql"

    # -- drafts -----------------------------------------------------------------------------

    def add_draft(self, draft: Draft) -> None:
        self._conn.execute(insert(t.report_drafts).values(**_draft_values(draft)))

    def get_draft(self, draft_id: str, *, for_update: bool = False) -> Draft:
        query = select(t.report_drafts).where(t.report_drafts.c.id == draft_id)
        if for_update and self._locks:
            query = query.with_for_update()
        row = self._conn.execute(query).first()
        if row is None:
            raise NotFound("draft.unknown", field="draft")
        return _draft(row)

    def save_draft(self, draft: Draft) -> None:
        """Write the draft if nobody changed it since it was read; else ConcurrentUpdate."""
        values = _draft_values(draft)
        values["version"] = draft.version + 1
        c = t.report_drafts.c
        try:
            result = self._conn.execute(
                update(t.report_drafts)
                .where(c.id == draft.id, c.version == draft.version)
                .values(**values)
            )
        except IntegrityError:
            # Two drafts drew the same resume code (about 2^-59): try again with a new one.
            raise ConcurrentUpdate("draft.changed") from None
        if result.rowcount != 1:
            raise ConcurrentUpdate("draft.changed")
        draft.version += 1

    def delete_draft(self, draft_id: str) -> None:
        self._conn.execute(delete(t.report_files).where(t.report_files.c.draft_id == draft_id))
        self._conn.execute(delete(t.report_drafts).where(t.report_drafts.c.id == draft_id))

    def draft_by_resume_hash(self, code_hash: str) -> Draft | None:
        c = t.report_drafts.c
        row = self._conn.execute(
            select(t.report_drafts).where(c.resume_code_hash == code_hash)
        ).first()
        return None if row is None else _draft(row)

    def put_file(self, draft_id: str, question: str, content: bytes) -> None:
        c = t.report_files.c
        self._conn.execute(
            delete(t.report_files).where(c.draft_id == draft_id, c.question == question)
        )
        self._conn.execute(
            insert(t.report_files).values(
                draft_id=draft_id,
                question=question,
                content=self._seal(draft_id, question, content),
            )
        )

    def file(self, draft_id: str, question: str) -> bytes | None:
        c = t.report_files.c
        sealed = self._conn.execute(
            select(c.content).where(c.draft_id == draft_id, c.question == question)
        ).scalar()
        if sealed is None:
            return None
        if self._vault is None:
            return bytes(sealed)
        return self._vault.open(_FILE, f"{draft_id}/{question}", bytes(sealed))

    def delete_file(self, draft_id: str, question: str) -> None:
        c = t.report_files.c
        self._conn.execute(
            delete(t.report_files).where(c.draft_id == draft_id, c.question == question)
        )

    def _seal(self, draft_id: str, question: str, content: bytes) -> bytes:
        if self._vault is None:
            return content
        return self._vault.seal(_FILE, f"{draft_id}/{question}", content)

    # -- reports ----------------------------------------------------------------------------

    def add_report(self, report: Report) -> None:
        """Store a new report; ConcurrentUpdate if its draft or reference was taken."""
        try:
            self._conn.execute(insert(t.reports).values(**_report_values(report)))
        except IntegrityError:
            raise ConcurrentUpdate("report.changed") from None

    def get_report(self, report_id: str) -> Report:
        return self._one(t.reports.c.id == report_id)

    def report_by_draft(self, draft_id: str) -> Report | None:
        row = self._conn.execute(select(t.reports).where(t.reports.c.draft_id == draft_id)).first()
        return None if row is None else _report(row)

    def report_by_reference(self, reference: str) -> Report:
        return self._one(t.reports.c.reference == reference)

    def save_report(self, report: Report) -> None:
        values = _report_values(report)
        values["version"] = report.version + 1
        c = t.reports.c
        result = self._conn.execute(
            update(t.reports).where(c.id == report.id, c.version == report.version).values(**values)
        )
        if result.rowcount != 1:
            raise ConcurrentUpdate("report.changed")
        report.version += 1

    def _one(self, condition: Any) -> Report:
        row = self._conn.execute(select(t.reports).where(condition)).first()
        if row is None:
            raise NotFound("report.unknown", field="report")
        return _report(row)


def _draft_values(draft: Draft) -> dict[str, Any]:
    return {
        "id": draft.id,
        "form_code": draft.form_code,
        "form_version": draft.form_version,
        "language": draft.language,
        "channel": draft.channel,
        "location_id": draft.location_id,
        "country": draft.country,
        "answers": draft.answers,
        "step": draft.step,
        "created_at": draft.created_at,
        "updated_at": draft.updated_at,
        "expires_at": draft.expires_at,
        "resume_code_hash": draft.resume_code_hash,
        "resume_expires_at": draft.resume_expires_at,
        "report_id": draft.report_id,
        "version": draft.version,
        "identification": draft.identification.value,
    }


def _draft(row: Row[Any]) -> Draft:
    m = row._mapping
    values = {name: m[name] for name in _DRAFT_COLUMNS}
    values["identification"] = IdentificationLevel(values["identification"])
    return Draft(**values)


_DRAFT_COLUMNS = tuple(c.name for c in t.report_drafts.columns)


def _report_values(report: Report) -> dict[str, Any]:
    return {
        "id": report.id,
        "reference": report.reference,
        "draft_id": report.draft_id,
        "form_code": report.form_code,
        "form_version": report.form_version,
        "language": report.language,
        "channel": report.channel,
        "location_id": report.location_id,
        "answers": report.answers,
        "state": report.state.value,
        "submitted_at": report.submitted_at,
        "changed_at": report.changed_at,
        "version": report.version,
        "identification": report.identification.value,
    }


def _report(row: Row[Any]) -> Report:
    values = dict(row._mapping)
    values["state"] = ReportState(values["state"])
    values["identification"] = IdentificationLevel(values["identification"])
    return Report(**values)
