"""Exporting a report to the police back-end: its JSON document by the published schema and
the signed statement, handed to the configured exporter, recorded and audited."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from loket.domain.audit import AuditAction, DetailValue
from loket.domain.export import (
    REPORT_FILE,
    STATEMENT_FILE,
    ExportFile,
    ExportRecord,
    export_bytes,
    export_document,
)
from loket.services import reports as report_service
from loket.services.ports import ReportExporter
from loket.services.reports import ReportContext, _audit


@dataclass(frozen=True)
class ExportContext:
    reports: ReportContext
    exporter: ReportExporter


def export_files(ctx: ExportContext, reference: str) -> list[ExportFile]:
    """The files of a report's export: report.json, and statement.pdf when it has one.

    Errors: report.unknown. Not audited by itself: export_report is the use case.
    """
    with ctx.reports.uow(read_only=True) as uow:
        report = uow.reports.report_by_reference(reference)
        desk = uow.locations.get(report.location_id)
        stored = uow.handover.statement_for(report.id)
        follow_ups = uow.follow_up.follow_ups(report.id)
        pdf = None if stored is None else uow.handover.statement_document(stored.id)
    form = report_service.get_form(ctx.reports, report.form_code)
    document = export_document(report, form, desk, stored, follow_ups)
    files = [ExportFile(REPORT_FILE, export_bytes(document))]
    if pdf is not None:
        files.insert(0, ExportFile(STATEMENT_FILE, pdf))
    return files


def export_report(ctx: ExportContext, reference: str, *, actor: str) -> ExportRecord:
    """Send a report to the back-end through the exporter; record and audit the export.

    Exporting again sends the same files (the document holds no export time) and records
    another export. Errors: report.unknown; the exporter's own failure is raised unchanged
    and nothing is recorded.
    """
    files = export_files(ctx, reference)
    destination = ctx.exporter.export(reference, files)
    by_name = {item.name: item for item in files}
    statement = by_name.get(STATEMENT_FILE)
    now = ctx.reports.clock.now()
    with ctx.reports.uow() as uow:
        report = uow.reports.report_by_reference(reference)
        record = ExportRecord(
            id=secrets.token_hex(16),
            report_id=report.id,
            reference=reference,
            exported_at=now,
            actor=actor,
            destination=destination[:500],
            report_sha256=by_name[REPORT_FILE].sha256,
            statement_sha256=None if statement is None else statement.sha256,
        )
        uow.follow_up.add_export(record)
        details: dict[str, DetailValue] = {
            "report_sha256": record.report_sha256,
            "statement_sha256": record.statement_sha256,
        }
        _audit(uow, AuditAction.EXPORT, "report", reference, now, details, actor)
        uow.commit()
    return record


def exports_of(ctx: ExportContext, reference: str) -> list[ExportRecord]:
    """The report's exports, newest first. Errors: report.unknown."""
    with ctx.reports.uow(read_only=True) as uow:
        report = uow.reports.report_by_reference(reference)
        return uow.follow_up.exports(report.id)
