"""A report drafted together in a video call: the contact's draft, read live by both sides,
corrected by the officer (or answered by the citizen) under optimistic concurrency, confirmed
by both, and submitted by the officer with a statement that names them.

The web layer proves who is calling (the call token: the citizen holding the ticket, or the
officer serving it); these use cases check again that the contact is still theirs. Every
read of the answers is audited; the version probe (`shared_version`) reads no personal data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from loket.domain.audit import AuditAction, DetailValue
from loket.domain.codraft import SharedDraft, Side
from loket.domain.errors import Forbidden, Invalid, NotFound, Refused
from loket.domain.forms import AnswerContext, Form, QuestionType, validate_answer
from loket.domain.reports import Draft, Report, Route, route
from loket.domain.statements import Confirmation, Officer
from loket.domain.tickets import Ticket
from loket.services import handover as handover_service
from loket.services import reports as report_service
from loket.services.calls import CALL_STATES, CITIZEN_STATES, VIDEO_SERVICE
from loket.services.handover import HandoverContext, Submission
from loket.services.ports import UnitOfWork
from loket.services.queue import retrying
from loket.services.reports import CITIZEN, ReportContext, _audit

# The channel of a draft the officer starts in the call.
CALL_CHANNEL = "call"


@dataclass(frozen=True)
class Participant:
    """Who acts: the citizen holding the ticket, or the officer serving it (`staff_id`)."""

    side: Side
    staff_id: int | None = None

    @property
    def actor(self) -> str:
        return CITIZEN if self.side is Side.CITIZEN else f"staff:{self.staff_id}"


@dataclass(frozen=True)
class SharedView:
    """The contact's draft as both sides see it: answers, marks, confirmations, the report."""

    shared: SharedDraft
    draft: Draft
    form: Form
    report: Report | None

    @property
    def route(self) -> Route:
        return route(self.form, self.draft.country, self.draft.answers)

    @property
    def is_complete(self) -> bool:
        return self.form.first_unanswered(self.draft.answers) is None

    def is_confirmed_by(self, side: Side) -> bool:
        return self.shared.is_confirmed_by(side, self.draft.answers)

    @property
    def can_submit(self) -> bool:
        return (
            self.report is None
            and self.is_complete
            and self.shared.is_confirmed_by_both(self.draft.answers)
        )

    @property
    def version_tag(self) -> str:
        return version_tag(self.draft, self.shared)


def version_tag(draft: Draft, shared: SharedDraft) -> str:
    """Changes when the answers, the step or a confirmation change: what live pages compare."""
    return f"{draft.version}.{shared.version}"


def reportable_forms(ctx: ReportContext) -> list[Form]:
    """The report types an officer can take in a call (tips stay anonymous: never in a call)."""
    return sorted((f for f in ctx.forms.values() if f.kind == "report"), key=lambda f: f.code)


# -- linking --------------------------------------------------------------------------------


def link_draft(ctx: ReportContext, ticket_id: str, draft_id: str) -> SharedDraft | None:
    """The citizen takes a video ticket from their draft: the draft comes along to the call.

    Idempotent (a double tap takes one ticket and links once). A tip, or a draft already
    sent or gone, is not linked (None). A contact's earlier link gives way to the newer draft.
    """
    now = ctx.clock.now()

    def attempt() -> SharedDraft | None:
        with ctx.uow() as uow:
            ticket = uow.tickets.get(ticket_id)
            if ticket.service_code != VIDEO_SERVICE:
                return None
            try:
                draft = uow.reports.get_draft(draft_id)
            except NotFound:
                return None
            form = ctx.forms.get(draft.form_code)
            if form is None or form.kind != "report" or draft.is_submitted:
                return None
            if draft.is_expired(now):
                return None
            existing = uow.codrafts.get(ticket.id, for_update=True)
            if existing is not None and existing.draft_id == draft.id:
                return existing
            shared = SharedDraft.link(ticket.id, draft.id, Side.CITIZEN, now)
            uow.codrafts.replace(shared)
            uow.commit()
            return shared

    return retrying(attempt)


def start_draft_in_call(
    ctx: ReportContext, ticket_id: str, participant: Participant, form_code: str
) -> SharedView:
    """The officer starts a report of `form_code` for the citizen in the call.

    Any report type, also those the law keeps from self-service: an officer takes it. A
    second start of the same type while nothing is answered yet returns the first (a double
    click). Errors: contact.not_participant, form.unknown.
    """
    if participant.side is not Side.OFFICER:
        raise Forbidden("contact.not_participant")
    form = report_service.get_form(ctx, form_code)
    if form.kind != "report":
        raise NotFound("form.unknown", field="form")
    now = ctx.clock.now()

    def attempt() -> SharedView:
        with ctx.uow() as uow:
            ticket = _ticket(uow, ticket_id, participant)
            existing = uow.codrafts.get(ticket.id, for_update=True)
            if existing is not None:
                earlier = uow.reports.get_draft(existing.draft_id)
                if earlier.form_code == form.code and not earlier.answers:
                    return _view(ctx, uow, existing, earlier)
            location = uow.locations.get(ticket.location_id)
            draft = Draft.start(
                form,
                language=ticket.language,
                channel=CALL_CHANNEL,
                location_id=ticket.location_id,
                country=location.country,
                at=now,
                policy=ctx.policy,
            )
            uow.reports.add_draft(draft)
            shared = SharedDraft.link(ticket.id, draft.id, Side.OFFICER, now)
            uow.codrafts.replace(shared)
            _record(uow, participant, AuditAction.CREATE, draft, ticket, now, form=form.code)
            uow.commit()
            return _view(ctx, uow, shared, draft)

    return retrying(attempt)


# -- reading --------------------------------------------------------------------------------


def _shared_draft(uow: UnitOfWork, ticket_id: str) -> tuple[SharedDraft, Draft] | None:
    """The contact's shared draft and the draft itself; None before one is started, or
    once the draft is gone (wiped or purged)."""
    shared = uow.codrafts.get(ticket_id)
    if shared is None:
        return None
    try:
        return shared, uow.reports.get_draft(shared.draft_id)
    except NotFound:
        return None


def shared_version(ctx: ReportContext, ticket_id: str, participant: Participant) -> str | None:
    """The contact draft's version tag, or None without a draft: for a page's cheap poll.

    Reads no answers, so it is not audited. Errors: contact.not_participant, call.ended.
    """
    with ctx.uow(read_only=True) as uow:
        ticket = _ticket(uow, ticket_id, participant)
        found = _shared_draft(uow, ticket.id)
        if found is None:
            return None
        shared, draft = found
        return version_tag(draft, shared)


def read_shared(ctx: ReportContext, ticket_id: str, participant: Participant) -> SharedView | None:
    """The contact's draft with its answers (None: none yet); every read is audited.

    Errors: contact.not_participant, call.ended, draft.expired.
    """
    with ctx.uow() as uow:
        ticket = _ticket(uow, ticket_id, participant)
        found = _shared_draft(uow, ticket.id)
        if found is None:
            return None
        shared, draft = found
        _check_alive(draft, ctx.clock.now())
        _record(uow, participant, AuditAction.READ, draft, ticket, ctx.clock.now())
        uow.commit()
        return _view(ctx, uow, shared, draft)


# -- changing -------------------------------------------------------------------------------


def correct_answer(
    ctx: ReportContext,
    ticket_id: str,
    participant: Participant,
    question_id: str,
    raw: Any,
    *,
    seen_version: int,
) -> SharedView:
    """Set one answer, checked by the question's own rules, if the draft is still the version
    the changer saw. Both confirmations are void after it; the officer's change is marked.

    Sending the same answer again (a double click) changes nothing. Errors:
    codraft.changed_meanwhile (with the draft's version: someone else changed it first),
    codraft.none, codraft.file_elsewhere (files are given on the report pages or as a
    document in the call), draft.submitted, form.unknown_question, the answer.* codes.
    """
    now = ctx.clock.now()

    def attempt() -> SharedView:
        with ctx.uow() as uow:
            ticket, shared, draft = _locked(uow, ticket_id, participant, now)
            if draft.is_submitted:
                raise Refused("draft.submitted")
            form = report_service.get_form(ctx, draft.form_code)
            question = form.question(question_id)
            if question not in form.visible(draft.answers):
                raise Invalid("form.unknown_question", field="question")
            if question.type is QuestionType.FILE:
                raise Refused("codraft.file_elsewhere", field=question_id)
            zone = uow.locations.get(draft.location_id).zone
            value = validate_answer(question, raw, AnswerContext(now, zone, ctx.max_upload_bytes))
            unchanged = question_id in draft.answers and draft.answers[question_id] == value
            if unchanged:
                return _view(ctx, uow, shared, draft)
            if draft.version != seen_version:
                raise Refused("codraft.changed_meanwhile", field=question_id, version=draft.version)
            draft.record(form, question_id, value, now, ctx.policy)
            following = form.first_unanswered(draft.answers)
            draft.step = following.id if following is not None else None
            uow.reports.save_draft(draft)
            shared.changed(participant.side, question_id, now)
            uow.codrafts.save(shared)
            _record(uow, participant, AuditAction.UPDATE, draft, ticket, now, question=question_id)
            uow.commit()
            return _view(ctx, uow, shared, draft)

    return retrying(attempt)


def confirm_text(
    ctx: ReportContext,
    ticket_id: str,
    participant: Participant,
    *,
    seen_version: int,
    citizen_name: str | None = None,
) -> SharedView:
    """One side confirms the text of the version it saw (the citizen with their full name).

    Idempotent. Errors: codraft.changed_meanwhile, codraft.name_missing, codraft.none,
    draft.incomplete (every question answered first), draft.submitted.
    """
    now = ctx.clock.now()

    def attempt() -> SharedView:
        with ctx.uow() as uow:
            ticket, shared, draft = _locked(uow, ticket_id, participant, now)
            if draft.is_submitted:
                return _view(ctx, uow, shared, draft)
            form = report_service.get_form(ctx, draft.form_code)
            missing = form.first_unanswered(draft.answers)
            if missing is not None:
                raise Invalid("draft.incomplete", field=missing.id)
            changed = shared.confirm(
                participant.side,
                seen_version=seen_version,
                draft_version=draft.version,
                answers=draft.answers,
                at=now,
                citizen_name=citizen_name,
                officer_id=participant.staff_id,
            )
            if changed:
                uow.codrafts.save(shared)
                _record(uow, participant, AuditAction.UPDATE, draft, ticket, now, confirmed="yes")
                uow.commit()
            return _view(ctx, uow, shared, draft)

    return retrying(attempt)


def submit_with_officer(
    ctx: HandoverContext, ticket_id: str, participant: Participant
) -> Submission:
    """The officer submits the report both confirmed: a reference and a signed statement that
    names the officer and carries the citizen's typed confirmation. Exactly once: a second
    submit returns the first. Errors: codraft.not_confirmed (a confirmation is missing, or
    the text changed after it), contact.not_participant, codraft.none.
    """
    if participant.side is not Side.OFFICER or participant.staff_id is None:
        raise Forbidden("contact.not_participant")
    rctx = ctx.reports
    with rctx.uow(read_only=True) as uow:
        ticket = _ticket(uow, ticket_id, participant)
        shared = _shared(uow, ticket.id)
        draft = uow.reports.get_draft(shared.draft_id)
        member = uow.staff.get(participant.staff_id)
    if not draft.is_submitted:
        shared.check_both_confirmed(draft.answers)
    name = shared.citizen_name
    confirmation = None if name is None else Confirmation(typed_name=name)

    def both_confirmed(locked: Draft) -> None:
        # Checked again on the locked draft: an answer changed since voids the submission.
        shared.check_both_confirmed(locked.answers)

    return handover_service.submit_report(
        ctx,
        draft.id,
        confirmation,
        officer=Officer(name=member.display_name, staff_id=participant.staff_id),
        with_officer=both_confirmed,
    )


# -- helpers --------------------------------------------------------------------------------


def _ticket(
    uow: UnitOfWork, ticket_id: str, participant: Participant, *, writing: bool = False
) -> Ticket:
    ticket = uow.tickets.get(ticket_id)
    if participant.side is Side.OFFICER:
        if ticket.officer_id != participant.staff_id or ticket.state not in CALL_STATES:
            raise Forbidden("contact.not_participant")
    elif ticket.state not in (CALL_STATES if writing else CITIZEN_STATES):
        raise Refused("call.ended")
    return ticket


def _shared(uow: UnitOfWork, ticket_id: str, *, for_update: bool = False) -> SharedDraft:
    shared = uow.codrafts.get(ticket_id, for_update=for_update)
    if shared is None:
        raise NotFound("codraft.none")
    return shared


def _locked(
    uow: UnitOfWork, ticket_id: str, participant: Participant, now: datetime
) -> tuple[Ticket, SharedDraft, Draft]:
    """The contact, its shared draft and the draft, locked for a change by a participant."""
    ticket = _ticket(uow, ticket_id, participant, writing=True)
    shared = _shared(uow, ticket.id, for_update=True)
    draft = uow.reports.get_draft(shared.draft_id, for_update=True)
    _check_alive(draft, now)
    return ticket, shared, draft


def _check_alive(draft: Draft, now: datetime) -> None:
    if draft.is_expired(now) and not draft.is_submitted:
        raise NotFound("draft.expired", field="draft")


def _view(ctx: ReportContext, uow: UnitOfWork, shared: SharedDraft, draft: Draft) -> SharedView:
    form = report_service.get_form(ctx, draft.form_code)
    report = None if draft.report_id is None else uow.reports.get_report(draft.report_id)
    return SharedView(shared, draft, form, report)


def _record(
    uow: UnitOfWork,
    participant: Participant,
    action: AuditAction,
    draft: Draft,
    ticket: Ticket,
    at: datetime,
    **extra: DetailValue,
) -> None:
    details: Mapping[str, DetailValue] = {
        "ticket": ticket.number,
        "role": participant.side.value,
        "form": draft.form_code,
        **extra,
    }
    _audit(uow, action, "draft", draft.id, at, details, participant.actor)
