"""Handing a report over: the signed statement at submission, the citizen's acknowledgement
(downloaded, e-mailed, or fetched with a one-time code), and the officer's reading of both."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass

from loket.domain.audit import AuditAction, DetailValue
from loket.domain.errors import ConcurrentUpdate, Invalid, NotFound
from loket.domain.forms import QuestionType, answer_text
from loket.domain.handover import (
    Acknowledgement,
    DownloadCode,
    StoredStatement,
    hash_download_code,
    normalise_download_code,
)
from loket.domain.i18n import N_
from loket.domain.reports import Draft, Report
from loket.domain.statements import (
    AUTHORITATIVE_LANGUAGE,
    Answer,
    Confirmation,
    Officer,
    Place,
    SignedStatement,
    Statement,
)
from loket.services import reports as report_service
from loket.services.ports import AcknowledgementRenderer, Notification, Notifier
from loket.services.queue import retrying
from loket.services.reports import CITIZEN, ReportContext, _audit
from loket.services.statements import StatementContext, sign_statement

MAX_LISTED_REPORTS = 200


@dataclass(frozen=True)
class HandoverContext:
    reports: ReportContext
    statements: StatementContext
    acknowledgements: AcknowledgementRenderer
    notifier: Notifier
    public_url: str


@dataclass(frozen=True)
class Submission:
    report: Report
    statement: StoredStatement | None  # None for a tip: tips have no statement


def submit_report(
    ctx: HandoverContext,
    draft_id: str,
    confirmation: Confirmation | None,
    *,
    officer: Officer | None = None,
    with_officer: Callable[[Draft], None] | None = None,
) -> Submission:
    """Submit a draft and, for a report, sign and store its statement, exactly once.

    A tip needs no confirmation. A report without one is refused before it is submitted
    (statement.not_signed). A second submit (double click, reload, a race) returns
    the report and the statement of the first. Made with an officer in a call, the
    statement names `officer` (see services/codraft.py). Errors: those of submit_draft.
    """
    rctx = ctx.reports
    with rctx.uow(read_only=True) as uow:
        draft = uow.reports.get_draft(draft_id)
    form = report_service.get_form(rctx, draft.form_code)
    if form.kind == "tip":
        return Submission(
            report_service.submit_draft(rctx, draft_id, with_officer=with_officer), None
        )
    if not draft.is_submitted and confirmation is None:
        raise Invalid("statement.not_signed", field="signature")
    report = report_service.submit_draft(rctx, draft_id, with_officer=with_officer)
    with rctx.uow(read_only=True) as uow:
        stored = uow.handover.statement_for(report.id)
        location = uow.locations.get(report.location_id)
    if stored is not None or confirmation is None:
        return Submission(report, stored)
    texts = [report_service.statement_text(rctx, report, AUTHORITATIVE_LANGUAGE)]
    if report.language != AUTHORITATIVE_LANGUAGE:
        texts.append(report_service.statement_text(rctx, report, report.language))
    statement = Statement(
        case_reference=report.reference,
        report_type=report.form_code,
        texts=tuple(texts),
        # The level the citizen reached (online or on camera), as stored with the report.
        identification=report.identification,
        officer=officer,
        place=Place.of(location),
        made_at=report.submitted_at,
        confirmation=confirmation,
    )
    signed = sign_statement(ctx.statements, statement, actor=CITIZEN)
    return Submission(report, _store(ctx, report, signed))


def _store(ctx: HandoverContext, report: Report, signed: SignedStatement) -> StoredStatement:
    stored = StoredStatement(
        id=secrets.token_hex(16),
        report_id=report.id,
        reference=report.reference,
        version=signed.statement.version,
        sha256=signed.sha256,
        created_at=ctx.reports.clock.now(),
    )
    try:
        with ctx.reports.uow() as uow:
            uow.handover.add_statement(stored, signed.document)
            uow.commit()
    except ConcurrentUpdate:
        # Two submits raced past the check: the first one stored wins, this signature is dropped.
        with ctx.reports.uow(read_only=True) as uow:
            first = uow.handover.statement_for(report.id)
        assert first is not None
        return first
    return stored


# -- the acknowledgement --------------------------------------------------------------------


def acknowledgement_for(ctx: HandoverContext, report: Report, language: str) -> Acknowledgement:
    """The basic elements of a report in `language`: where and when, from the answers."""
    form = report_service.get_form(ctx.reports, report.form_code)
    elements = tuple(
        Answer(q.label.in_language(language), answer_text(q, report.answers[q.id], language))
        for q in form.visible(report.answers)
        if q.type in (QuestionType.PLACE, QuestionType.DATETIME, QuestionType.DATE)
        and q.id in report.answers
    )
    with ctx.reports.uow(read_only=True) as uow:
        location = uow.locations.get(report.location_id)
    return Acknowledgement(
        reference=report.reference,
        language=language,
        offence=form.title.in_language(language),
        reported_at=report.submitted_at,
        desk=location.name,
        time_zone=location.time_zone,
        country=location.country,
        elements=elements,
    )


def acknowledgement_pdf(ctx: HandoverContext, draft_id: str) -> tuple[Report, bytes]:
    """The citizen's own acknowledgement (their session names the draft), in their language.

    Errors: report.unknown (a tip, or not submitted). Audited as a download.
    """
    report = report_service.submitted_report(ctx.reports, draft_id)
    return report, _render(ctx, report, actor=CITIZEN)


def issue_download_code(ctx: HandoverContext, draft_id: str) -> str:
    """A one-time code (valid 24 hours) to fetch the acknowledgement elsewhere; only its
    hash is stored. Errors: report.unknown."""
    with ctx.reports.uow() as uow:
        draft = uow.reports.get_draft(draft_id)
        if draft.report_id is None:
            raise NotFound("report.unknown")
        report = uow.reports.get_report(draft.report_id)
        _check_is_report(ctx, report)
        issued, code = DownloadCode.issue(secrets.token_hex(16), report.id, ctx.reports.clock.now())
        uow.handover.add_code(issued)
        uow.commit()
    return code


def redeem_download_code(ctx: HandoverContext, typed: str) -> tuple[Report, bytes]:
    """The acknowledgement a one-time code opens; the code is spent.

    Errors: download.invalid (unknown or malformed), download.expired, download.used.
    """
    code = normalise_download_code(typed)
    if code is None:
        raise NotFound("download.invalid", field="code")
    now = ctx.reports.clock.now()

    def attempt() -> Report:
        with ctx.reports.uow() as uow:
            issued = uow.handover.code_by_hash(hash_download_code(code), for_update=True)
            if issued is None:
                raise NotFound("download.invalid", field="code")
            issued.use(now)
            uow.handover.save_code(issued)
            report = uow.reports.get_report(issued.report_id)
            uow.commit()
        return report

    report = retrying(attempt)
    return report, _render(ctx, report, actor=CITIZEN)


def email_acknowledgement(ctx: HandoverContext, draft_id: str, address: str) -> None:
    """Send the citizen a link with a one-time code to their acknowledgement.

    The e-mail holds the reference and a link, never the answers. Errors: email.invalid,
    report.unknown.
    """
    address = address.strip()
    local, _, domain = address.partition("@")
    if not local or "." not in domain or len(address) > 254 or any(c.isspace() for c in address):
        raise Invalid("email.invalid", field="email")
    code = issue_download_code(ctx, draft_id)
    report = report_service.submitted_report(ctx.reports, draft_id)
    ctx.notifier.send(
        Notification(
            kind="report.acknowledgement",
            to=address,
            language=report.language,
            subject=N_("Acknowledgement of your report %(reference)s"),
            body=N_(
                "The police received your report %(reference)s.\n\n"
                "Download your acknowledgement, with your rights as a victim, within 24 hours"
                " (the link works once):\n%(link)s\n"
            ),
            params={
                "reference": report.reference,
                "link": f"{ctx.public_url.rstrip('/')}/acknowledgement/{code}",
            },
        )
    )


def _render(ctx: HandoverContext, report: Report, *, actor: str) -> bytes:
    _check_is_report(ctx, report)
    pdf = ctx.acknowledgements.render(acknowledgement_for(ctx, report, report.language))
    with ctx.reports.uow() as uow:
        _audit(
            uow,
            AuditAction.DOWNLOAD,
            "acknowledgement",
            report.reference,
            ctx.reports.clock.now(),
            {},
            actor,
        )
        uow.commit()
    return pdf


def _check_is_report(ctx: HandoverContext, report: Report) -> None:
    if report_service.get_form(ctx.reports, report.form_code).kind == "tip":
        raise NotFound("report.unknown")


# -- for officers ---------------------------------------------------------------------------


def list_reports(ctx: HandoverContext, *, actor: str) -> list[Report]:
    """Submitted reports, newest first. Audited as a search."""
    with ctx.reports.uow() as uow:
        found = uow.handover.submitted_reports(MAX_LISTED_REPORTS)
        details: dict[str, DetailValue] = {"kind": "reports", "count": len(found)}
        _audit(uow, AuditAction.SEARCH, "report", "*", ctx.reports.clock.now(), details, actor)
        uow.commit()
    return found


def statement_of(ctx: HandoverContext, reference: str) -> StoredStatement | None:
    """The report's stored statement (its hash and version), without its content."""
    with ctx.reports.uow(read_only=True) as uow:
        report = uow.reports.report_by_reference(reference)
        return uow.handover.statement_for(report.id)


def download_statement(ctx: HandoverContext, reference: str, *, actor: str) -> bytes:
    """The signed statement PDF of a report. Errors: report.unknown, statement.unknown.
    Audited as a download."""
    with ctx.reports.uow() as uow:
        report = uow.reports.report_by_reference(reference)
        stored = uow.handover.statement_for(report.id)
        if stored is None:
            raise NotFound("statement.unknown")
        document = uow.handover.statement_document(stored.id)
        details: dict[str, DetailValue] = {"version": stored.version, "sha256": stored.sha256}
        now = ctx.reports.clock.now()
        _audit(uow, AuditAction.DOWNLOAD, "statement", reference, now, details, actor)
        uow.commit()
    return document
