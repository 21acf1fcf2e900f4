"""A report as it leaves the desk for the police back-end: one JSON document by a published
schema (docs/schemas/report-export.schema.json), beside the signed statement PDF if any.

The document holds no moment of export, so the same report exported twice is the same bytes:
a back-end that receives it again can tell it is a repeat by its hash.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from loket.domain.follow_up import FollowUp
from loket.domain.forms import Form, answer_text
from loket.domain.handover import StoredStatement
from loket.domain.locations import Location
from loket.domain.reports import Report

SCHEMA_VERSION = 1
SCHEMA_ID = "https://loket.example/schemas/report-export.schema.json"
# Dutch is the authoritative language of a statement; English helps a back-end reader.
EXPORT_LANGUAGES = ("nl", "en")
REPORT_FILE = "report.json"
STATEMENT_FILE = "statement.pdf"


@dataclass(frozen=True)
class ExportFile:
    name: str
    content: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclass(frozen=True)
class ExportRecord:
    """That a report was exported: when, by whom, where to, and the hashes of what was sent."""

    id: str
    report_id: str
    reference: str
    exported_at: datetime
    actor: str
    destination: str
    report_sha256: str
    statement_sha256: str | None


def export_document(
    report: Report,
    form: Form,
    desk: Location,
    statement: StoredStatement | None,
    follow_ups: Sequence[FollowUp] = (),
) -> dict[str, Any]:
    """The JSON value of the export (see the schema for every field's meaning)."""
    answers = []
    for question in form.visible(report.answers):
        if question.id not in report.answers:
            continue
        value = report.answers[question.id]
        answers.append(
            {
                "question": question.id,
                "type": question.type.value,
                "label": {lang: question.label.in_language(lang) for lang in EXPORT_LANGUAGES},
                "value": value,
                "text": {lang: answer_text(question, value, lang) for lang in EXPORT_LANGUAGES},
            }
        )
    return {
        "$schema": SCHEMA_ID,
        "schema_version": SCHEMA_VERSION,
        "reference": report.reference,
        "kind": form.kind,
        "form": {"code": form.code, "version": report.form_version},
        "title": {lang: form.title.in_language(lang) for lang in EXPORT_LANGUAGES},
        "language": report.language,
        "channel": report.channel,
        "desk": {
            "code": desk.code,
            "name": desk.name,
            "municipality": desk.municipality,
            "country": desk.country,
        },
        "submitted_at": _instant(report.submitted_at),
        "state": report.state.value,
        "state_changed_at": _instant(report.changed_at or report.submitted_at),
        "answers": answers,
        "statement": None
        if statement is None
        else {
            "file": STATEMENT_FILE,
            "version": statement.version,
            "sha256": statement.sha256,
        },
        "follow_ups": [
            {"added_at": _instant(item.added_at), "text": item.text} for item in follow_ups
        ],
    }


def export_bytes(document: dict[str, Any]) -> bytes:
    """Canonical JSON: sorted keys, UTF-8, a final newline; the same value gives the same bytes."""
    text = json.dumps(document, ensure_ascii=False, sort_keys=True, indent=2)
    return (text + "\n").encode()


def _instant(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
