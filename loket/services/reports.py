"""Guided reports and tips: drafts saved at every step, resume codes, and submitting a report."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from loket.domain.audit import AuditAction, AuditRecord, DetailValue
from loket.domain.errors import Invalid, NotFound, Refused
from loket.domain.exchange import DocumentType
from loket.domain.forms import AnswerContext, Form, Question, QuestionType, Upload, validate_answer
from loket.domain.identification import needs_verification, required_level
from loket.domain.locations import Location
from loket.domain.reports import (
    Draft,
    DraftPolicy,
    Report,
    ReportStep,
    Route,
    hash_resume_code,
    normalise_resume_code,
    route,
)
from loket.domain.statements import Answer, StatementText
from loket.services.ports import (
    Clock,
    NoScanner,
    ScannerUnavailable,
    UnitOfWork,
    UnitOfWorkFactory,
    VirusScanner,
)
from loket.services.queue import retrying

CITIZEN = "citizen"


@dataclass(frozen=True)
class ReportContext:
    """What report use cases need: transactions, the time, the forms and the draft rules."""

    uow: UnitOfWorkFactory
    clock: Clock
    forms: Mapping[str, Form]
    policy: DraftPolicy = field(default_factory=DraftPolicy)
    max_upload_bytes: int = 10 * 1024 * 1024
    # Every uploaded file passes it on upload and again before an officer opens it.
    scanner: VirusScanner = field(default_factory=NoScanner)


@dataclass(frozen=True)
class Progress:
    """A draft with its form: where the citizen is and where the rules send the report."""

    draft: Draft
    form: Form
    route: Route

    @property
    def questions(self) -> list[Question]:
        return self.form.visible(self.draft.answers)

    @property
    def next_question(self) -> Question | None:
        return self.form.first_unanswered(self.draft.answers)

    @property
    def needs_identification(self) -> bool:
        """The citizen's identity is not yet verified as this type needs (see identification)."""
        return needs_verification(required_level(self.form.code), self.draft.identification)

    def position(self, question_id: str) -> int:
        """1-based number of the question among those shown; 0 if it is not shown."""
        ids = [q.id for q in self.questions]
        return ids.index(question_id) + 1 if question_id in ids else 0

    def following(self, question_id: str) -> Question | None:
        """The question after this one in the order asked (answered or not)."""
        questions = self.questions
        ids = [q.id for q in questions]
        if question_id not in ids:
            return self.next_question
        index = ids.index(question_id)
        return questions[index + 1] if index + 1 < len(questions) else None

    def previous(self, question_id: str) -> Question | None:
        questions = self.questions
        ids = [q.id for q in questions]
        if question_id not in ids:
            return None
        index = ids.index(question_id)
        return questions[index - 1] if index > 0 else None


def get_form(ctx: ReportContext, code: str) -> Form:
    """The form of a report or tip type. Errors: form.unknown."""
    form = ctx.forms.get(code)
    if form is None:
        raise NotFound("form.unknown", field="form")
    return form


def route_at(ctx: ReportContext, code: str, location: Location) -> Route:
    """Where a report of this type goes at this desk before any question is answered."""
    return route(get_form(ctx, code), location.country)


# -- the draft ------------------------------------------------------------------------------


def start_draft(
    ctx: ReportContext, *, form_code: str, location_slug: str, language: str, channel: str
) -> Progress:
    """Start filling in a report or tip at a desk.

    Errors: form.unknown, location.unknown, location.inactive, location.service_not_offered,
    report.needs_officer (the law of the desk's country wants an officer for this type).
    """
    form = get_form(ctx, form_code)
    with ctx.uow() as uow:
        location = uow.locations.by_slug(location_slug)
        if location.id is None:
            raise NotFound("location.unknown")
        if not location.is_active:
            raise Refused("location.inactive")
        if not location.offers(form_code):
            raise Refused("location.service_not_offered", field="service")
        if route(form, location.country) is Route.OFFICER:
            raise Refused("report.needs_officer", field="service")
        draft = Draft.start(
            form,
            language=language,
            channel=channel,
            location_id=location.id,
            country=location.country,
            at=ctx.clock.now(),
            policy=ctx.policy,
        )
        uow.reports.add_draft(draft)
        uow.commit()
    return Progress(draft, form, Route.SELF_SERVICE)


def load_draft(ctx: ReportContext, draft_id: str) -> Progress:
    """The citizen's own draft (from their session). Errors: draft.unknown, draft.expired."""
    with ctx.uow(read_only=True) as uow:
        draft = _open_draft(uow, draft_id, ctx)
    return _progress(ctx, draft)


def answer(
    ctx: ReportContext,
    draft_id: str,
    question_id: str,
    raw: Any,
    *,
    language: str | None = None,
) -> Progress:
    """Check and keep one answer; the draft is saved at once, so a restart loses nothing.

    A file question without a new file keeps the file given before; a new file passes the
    virus scanner first.
    Errors: draft.unknown, draft.expired, draft.submitted, form.unknown_question, and the
    answer.* and document.* codes of the question's type (with the field at fault), among
    them document.infected and document.scanner_unavailable (nothing is stored).
    """
    now = ctx.clock.now()
    if isinstance(raw, Upload) and 0 < len(raw.content) <= ctx.max_upload_bytes:
        # Before the transaction: a slow scanner must not hold the draft's row lock. An
        # oversized file is refused by its size below, without bothering the scanner.
        _check_clean(ctx.scanner, raw.content, question_id)

    def attempt() -> Progress:
        with ctx.uow() as uow:
            draft = _open_draft(uow, draft_id, ctx, for_update=True)
            form = get_form(ctx, draft.form_code)
            question = form.question(question_id)
            if question not in form.visible(draft.answers):
                raise Invalid("form.unknown_question", field="question")
            location = uow.locations.get(draft.location_id)
            check = AnswerContext(now, location.zone, ctx.max_upload_bytes)
            keeps_file = (
                question.type is QuestionType.FILE
                and not (isinstance(raw, Upload) and raw.content)
                and isinstance(draft.answers.get(question_id), dict)
            )
            if keeps_file:
                value = draft.answers[question_id]
            else:
                value = validate_answer(question, raw, check)
                if question.type is QuestionType.FILE:
                    if value is None:
                        uow.reports.delete_file(draft.id, question_id)
                    else:
                        assert isinstance(raw, Upload)
                        uow.reports.put_file(draft.id, question_id, raw.content)
            if language:
                draft.language = language
            draft.record(form, question_id, value, now, ctx.policy)
            following = form.first_unanswered(draft.answers)
            draft.step = following.id if following is not None else None
            uow.reports.save_draft(draft)
            uow.commit()
            return _progress(ctx, draft)

    return retrying(attempt)


def go_to(ctx: ReportContext, draft_id: str, question_id: str) -> Progress:
    """Remember the question on screen (Back, Change) so a resumed draft opens there.

    Errors: draft.unknown, draft.expired, draft.submitted, form.unknown_question.
    """

    def attempt() -> Progress:
        with ctx.uow() as uow:
            draft = _open_draft(uow, draft_id, ctx, for_update=True)
            form = get_form(ctx, draft.form_code)
            if form.question(question_id) not in form.visible(draft.answers):
                raise Invalid("form.unknown_question", field="question")
            if draft.step != question_id:
                draft.show(question_id, ctx.clock.now(), ctx.policy)
                uow.reports.save_draft(draft)
                uow.commit()
            return _progress(ctx, draft)

    return retrying(attempt)


def issue_resume_code(ctx: ReportContext, draft_id: str) -> str:
    """A code to finish the draft on another device; only its hash is stored.

    A kiosk draft with a code survives the kiosk's idle reset.
    Errors: draft.unknown, draft.expired, draft.submitted.
    """

    def attempt() -> str:
        with ctx.uow() as uow:
            draft = _open_draft(uow, draft_id, ctx, for_update=True)
            code = draft.issue_resume_code(ctx.clock.now(), ctx.policy)
            uow.reports.save_draft(draft)
            uow.commit()
            return code

    return retrying(attempt)


def resume_draft(ctx: ReportContext, typed_code: str) -> Progress:
    """The draft a resume code opens, on any device.

    Errors: resume.invalid (unknown, expired, or already submitted: the same answer for
    each, so a guesser learns nothing). Audited as a read of personal data.
    """
    code = normalise_resume_code(typed_code)
    if code is None:
        raise NotFound("resume.invalid", field="code")
    now = ctx.clock.now()
    with ctx.uow() as uow:
        draft = uow.reports.draft_by_resume_hash(hash_resume_code(code))
        if draft is None or not draft.can_resume_at(now):
            raise NotFound("resume.invalid", field="code")
        _audit(uow, AuditAction.READ, "draft", draft.id, now, {"form": draft.form_code})
        uow.commit()
    return _progress(ctx, draft)


def discard_kiosk_draft(ctx: ReportContext, draft_id: str) -> bool:
    """At a kiosk's reset: wipe the draft unless the citizen took a resume code.

    Returns whether it was wiped. A submitted draft stays (its report refers to it).
    """
    with ctx.uow() as uow:
        try:
            draft = uow.reports.get_draft(draft_id, for_update=True)
        except NotFound:
            return False
        if draft.has_resume_code or draft.is_submitted:
            return False
        uow.reports.delete_draft(draft.id)
        uow.commit()
    return True


# -- submitting -----------------------------------------------------------------------------


def submit_draft(
    ctx: ReportContext, draft_id: str, *, with_officer: Callable[[Draft], None] | None = None
) -> Report:
    """Turn a finished draft into a report with a reference.

    Submitting again (a double click, a reload) returns the same report. A report made with
    an officer (`with_officer`: its check runs on the locked draft, see services/codraft.py)
    may be of a type the law keeps from self-service.
    Errors: draft.unknown, draft.expired, draft.incomplete, report.needs_officer, and those
    of `with_officer`. Audited as the creation of a record with personal data.
    """
    now = ctx.clock.now()

    def attempt() -> Report:
        with ctx.uow() as uow:
            draft = uow.reports.get_draft(draft_id, for_update=True)
            if draft.report_id is not None:
                return uow.reports.get_report(draft.report_id)
            _check_not_expired(draft, now)
            form = get_form(ctx, draft.form_code)
            if with_officer is not None:
                with_officer(draft)
            elif route(form, draft.country, draft.answers) is Route.OFFICER:
                raise Refused("report.needs_officer")
            report = Report.submit(draft, form, now)
            uow.reports.add_report(report)
            draft.report_id = report.id
            draft.resume_code_hash = None  # a code must not reopen a submitted report
            draft.resume_expires_at = None
            uow.reports.save_draft(draft)
            _audit(
                uow,
                AuditAction.CREATE,
                "report",
                report.reference,
                now,
                {"form": report.form_code, "channel": report.channel},
            )
            uow.commit()
            return report

    return retrying(attempt)


def submitted_report(ctx: ReportContext, draft_id: str) -> Report:
    """The report a draft became, for the confirmation page. Errors: report.unknown."""
    with ctx.uow() as uow:
        draft = uow.reports.get_draft(draft_id)
        if draft.report_id is None:
            raise NotFound("report.unknown")
        report = uow.reports.get_report(draft.report_id)
        _audit(uow, AuditAction.READ, "report", report.reference, ctx.clock.now(), {})
        uow.commit()
    return report


def read_report(ctx: ReportContext, reference: str, *, actor: str) -> Report:
    """A report by its reference, for staff. Errors: report.unknown. Audited as a read."""
    with ctx.uow() as uow:
        report = uow.reports.report_by_reference(reference)
        _audit(uow, AuditAction.READ, "report", report.reference, ctx.clock.now(), {}, actor)
        uow.commit()
    return report


def move_report(ctx: ReportContext, reference: str, step: ReportStep, *, actor: str) -> Report:
    """Move a report along its workflow. Errors: report.unknown, report.illegal_transition."""

    def attempt() -> Report:
        with ctx.uow() as uow:
            report = uow.reports.report_by_reference(reference)
            now = ctx.clock.now()
            report.move(step, now)
            uow.reports.save_report(report)
            details: dict[str, DetailValue] = {"step": step.value, "state": report.state.value}
            _audit(uow, AuditAction.UPDATE, "report", reference, now, details, actor)
            uow.commit()
            return report

    return retrying(attempt)


def statement_text(ctx: ReportContext, report: Report, language: str) -> StatementText:
    """The report's answers as the statement's ordered (question, answer) lines in `language`."""
    form = get_form(ctx, report.form_code)
    lines = form.statement_lines(report.answers, language)
    return StatementText(language, tuple(Answer(label, text) for label, text in lines))


# -- files, for officers ---------------------------------------------------------------------


@dataclass(frozen=True)
class ReportFile:
    """A file a citizen attached to a report, as an officer downloads it."""

    filename: str
    content_type: DocumentType
    content: bytes


def open_report_file(
    ctx: ReportContext, reference: str, question_id: str, *, actor: str
) -> ReportFile:
    """The file attached to one answer of a report, scanned again before it is served.

    Scanned at every opening, not only on upload: the scanner's signatures are newer now,
    and a file stored while no scanner was configured is checked too. Fail closed: a
    configured scanner that does not answer means nothing is served.
    Errors: report.unknown, document.unknown, document.scanner_unavailable, document.blocked
    (the scanner flags it). Audited as a download.
    """
    with ctx.uow(read_only=True) as uow:
        report = uow.reports.report_by_reference(reference)
        described = report.answers.get(question_id)
        content = uow.reports.file(report.draft_id, question_id)
    if not isinstance(described, dict) or content is None:
        raise NotFound("document.unknown", field="document")
    try:
        verdict = ctx.scanner.scan(content)
    except ScannerUnavailable:
        raise Refused("document.scanner_unavailable") from None
    if not verdict.is_clean:
        raise Refused("document.blocked")
    with ctx.uow() as uow:
        details: dict[str, DetailValue] = {
            "question": question_id,
            "sha256": described["sha256"],
            "size": len(content),
        }
        now = ctx.clock.now()
        _audit(uow, AuditAction.DOWNLOAD, "report_file", reference, now, details, actor)
        uow.commit()
    content_type = DocumentType(described["content_type"])
    return ReportFile(str(described.get("filename") or question_id), content_type, content)


# -- helpers --------------------------------------------------------------------------------


def _check_clean(scanner: VirusScanner, content: bytes, question_id: str) -> None:
    try:
        verdict = scanner.scan(content)
    except ScannerUnavailable:
        raise Refused("document.scanner_unavailable", field=question_id) from None
    if not verdict.is_clean:
        raise Invalid("document.infected", field=question_id)


def _open_draft(
    uow: UnitOfWork, draft_id: str, ctx: ReportContext, *, for_update: bool = False
) -> Draft:
    draft = uow.reports.get_draft(draft_id, for_update=for_update)
    _check_not_expired(draft, ctx.clock.now())
    return draft


def _check_not_expired(draft: Draft, now: datetime) -> None:
    if draft.is_expired(now):
        raise NotFound("draft.expired", field="draft")


def _progress(ctx: ReportContext, draft: Draft) -> Progress:
    form = get_form(ctx, draft.form_code)
    return Progress(draft, form, route(form, draft.country, draft.answers))


def _audit(
    uow: UnitOfWork,
    action: AuditAction,
    subject_type: str,
    subject_id: str,
    at: datetime,
    details: Mapping[str, DetailValue],
    actor: str = CITIZEN,
) -> None:
    uow.audit.record(
        AuditRecord(
            actor=actor,
            action=action,
            subject_type=subject_type,
            subject_id=subject_id,
            at=at,
            details=details,
            personal_data=True,
        )
    )
