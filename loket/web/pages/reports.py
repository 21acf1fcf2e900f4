"""Report and tip pages: one question per page, check your answers, send, and resume by code.

Works without JavaScript: every step is a server-rendered form. The draft's id travels in
the citizen's signed session cookie, never in an address; the answers stay on the server.
The same routes serve the kiosk (/kiosk/{slug}/report/...) and home (/report/...).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from loket.domain.catalogue import IdentificationLevel
from loket.domain.errors import DomainError, Invalid
from loket.domain.forms import (
    ITEM_FIELDS,
    PERSON_PARTS,
    PLACE_PARTS,
    Question,
    QuestionType,
    Upload,
    answer_text,
    part_label,
)
from loket.domain.identification import Method
from loket.domain.locations import Location, LocationKind
from loket.domain.reports import Draft, Route
from loket.domain.statements import Confirmation
from loket.services import handover as handover_service
from loket.services import identification as identification_service
from loket.services import locations as location_service
from loket.services import reports as report_service
from loket.web.deps import ContainerDep, client_address
from loket.web.pages import at_kiosk_and_home, citizen
from loket.web.pages import report_handover as handover_pages
from loket.web.pages import tips as tip_pages
from loket.web.sessions import (
    CitizenSession,
    citizen_session,
    store_citizen_session,
)

router = APIRouter(include_in_schema=False)

_QUESTION_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_FORM_CODE = re.compile(r"^(report|tip)\.[a-z_]{1,40}$")
# How many rows a list of items shows at most without JavaScript (a form may allow more:
# the page then shows one empty row more than is filled in).
_ITEM_ROWS = 3


# -- routes: each twice, at the kiosk and at home --------------------------------------------


@dataclass(frozen=True)
class Submitted:
    """A posted form read in full before the step runs (uploads included), off the event loop."""

    fields: Mapping[str, list[str]]
    uploads: Mapping[str, Upload]

    def get(self, name: str) -> str:
        values = self.fields.get(name)
        return values[0] if values else ""

    def getlist(self, name: str) -> list[str]:
        return list(self.fields.get(name, []))


Step = Callable[..., Response]


def _route(method: str, path: str, step: Step) -> None:
    """Serve `step` at the kiosk (/kiosk/{slug}/...) and at home (/...)."""

    async def endpoint(request: Request, container: ContainerDep) -> Response:
        submitted = await _read(request) if method == "POST" else None
        slug = request.path_params.get("slug")
        mode = "home" if slug is None else "kiosk"
        args = (request, container, mode, submitted)
        # The steps read and write the database: a worker thread, as for plain routes.
        return await run_in_threadpool(_run, step, *args)

    at_kiosk_and_home(router, method, path, endpoint, step.__name__, f"_{method.lower()}")


def _run(
    step: Step,
    request: Request,
    container: ContainerDep,
    mode: str,
    submitted: Submitted | None,
) -> Response:
    slug = request.path_params.get("slug")
    location = _home_desk(container) if slug is None else _desk(container, slug)
    question_id = request.path_params.get("question_id")
    extra: dict[str, Any] = {} if question_id is None else {"question_id": question_id}
    if submitted is not None:
        extra["submitted"] = submitted
    return step(request, container, location, mode, **extra)


async def _read(request: Request) -> Submitted:
    fields: dict[str, list[str]] = {}
    uploads: dict[str, Upload] = {}
    async with request.form() as form:
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                if value.filename:
                    uploads[name] = Upload(value.filename, await value.read())
            else:
                fields.setdefault(name, []).append(value)
    return Submitted(fields, uploads)


# -- the steps -------------------------------------------------------------------------------


def _start(
    request: Request, container: ContainerDep, location: Location, mode: str, submitted: Submitted
) -> Response:
    session = citizen_session(request)
    form = submitted
    base = citizen.base_path(location, mode)
    code = _field(form, "form")
    citizen.check_form(request, session, _field(form, "csrf_token"), location, base or "/")
    if not _FORM_CODE.match(code):
        raise DomainError("form.unknown")
    language = citizen.page_language(request, session)
    try:
        progress = report_service.start_draft(
            container.reports,
            form_code=code,
            location_slug=location.slug,
            language=language,
            channel=mode,
        )
    except DomainError as error:
        if error.code == "report.needs_officer":
            return _redirect(request, session, f"{base}/report/officer")
        raise
    session.draft_id = progress.draft.id
    return _redirect(request, session, f"{base}/report/q/{progress.form.questions[0].id}")


def _current(request: Request, container: ContainerDep, location: Location, mode: str) -> Response:
    session = citizen_session(request)
    progress = _progress(container, session)
    base = citizen.base_path(location, mode)
    if progress is None:
        return RedirectResponse(f"{base}/services/report", status_code=303)
    return RedirectResponse(_next_path(base, progress), status_code=303)


def _question(
    request: Request,
    container: ContainerDep,
    location: Location,
    mode: str,
    question_id: str,
    *,
    error: DomainError | None = None,
    entered: Any = None,
) -> Response:
    session = citizen_session(request)
    base = citizen.base_path(location, mode)
    progress = _progress(container, session)
    if progress is None:
        return _lost(request, container, location, session, mode)
    if not _QUESTION_ID.match(question_id):
        raise DomainError("form.unknown_question")
    question = progress.form.question(question_id)
    position = progress.position(question_id)
    if position == 0:
        # Hidden by an earlier answer (an old link): go on where the citizen really is.
        return RedirectResponse(_next_path(base, progress), status_code=303)
    if (
        error is None
        and question.type is QuestionType.FILE
        and request.query_params.get("too_large")
    ):
        # Sent back by the body limit (app.BodyLimit): say so here, next to the field.
        limit_mb = max(1, container.reports.max_upload_bytes // 1024**2)
        error = Invalid("document.too_large", field=question_id, maximum_mb=limit_mb)
        entered = {"value": progress.draft.answers.get(question_id)}
    if error is None and progress.draft.step != question_id:
        progress = report_service.go_to(container.reports, progress.draft.id, question_id)
    language = citizen.page_language(request, session)
    value = _display_value(
        question, entered["value"] if error is not None else progress.draft.answers.get(question_id)
    )
    status, message = handover_pages.shown_error(error)
    previous = progress.previous(question_id)
    action = f"{base}/report/q/{question_id}"
    if question.type is QuestionType.FILE:
        action += "/documents"
    return citizen._page(
        request,
        container,
        "citizen/report_question.html",
        language,
        location,
        session,
        mode=mode,
        status_code=status,
        form=progress.form,
        form_title=progress.form.title.in_language(language),
        question=question,
        label=question.label.in_language(language),
        help_text=question.help.in_language(language) if question.help else None,
        options=[(o.value, o.label.in_language(language)) for o in question.options],
        value=value,
        position=position,
        total=len(progress.questions),
        previous_id=previous.id if previous else None,
        returning=request.query_params.get("change") == "1" or _field_of(entered, "_change"),
        action=action,
        error=message,
        error_field=error.field if error is not None else None,
        part_labels={name: part_label(name, language) for name in _ALL_PARTS},
        place_parts=PLACE_PARTS,
        person_parts=PERSON_PARTS,
        item_fields=question.fields or ITEM_FIELDS,
        required_labels=[part_label(name, language) for name in question.required_fields],
        item_rows=_item_rows(question, value),
        kept_file=value.get("filename") if isinstance(value, dict) and value else None,
    )


def _answer(
    request: Request,
    container: ContainerDep,
    location: Location,
    mode: str,
    question_id: str,
    submitted: Submitted,
) -> Response:
    session = citizen_session(request)
    base = citizen.base_path(location, mode)
    form = submitted
    citizen.check_form(request, session, _field(form, "csrf_token"), location, f"{base}/report")
    progress = _progress(container, session)
    if progress is None:
        return _lost(request, container, location, session, mode)
    if not _QUESTION_ID.match(question_id):
        raise DomainError("form.unknown_question")
    question = progress.form.question(question_id)
    raw = _raw_answer(question, form)
    going_back = _field(form, "action") == "back"
    returning = _field(form, "change") == "1"
    try:
        progress = report_service.answer(
            container.reports, progress.draft.id, question_id, raw, language=session.language
        )
    except DomainError as error:
        if going_back:
            # Back keeps what was saved; an answer that is not valid yet is not kept.
            previous = progress.previous(question_id)
            target = f"{base}/report/q/{previous.id}" if previous else f"{base}/services/report"
            return RedirectResponse(target, status_code=303)
        if error.field is None or error.code.startswith(("draft.", "form.")):
            raise
        entered = {"value": raw, "_change": returning}
        return _question(
            request, container, location, mode, question_id, error=error, entered=entered
        )
    if progress.route is Route.OFFICER:
        return RedirectResponse(f"{base}/report/officer", status_code=303)
    if going_back:
        previous = progress.previous(question_id)
        target = f"{base}/report/q/{previous.id}" if previous else f"{base}/services/report"
        return RedirectResponse(target, status_code=303)
    if returning and progress.next_question is None:
        return RedirectResponse(f"{base}/report/check", status_code=303)
    # On in the order asked, so after Back the citizen sees each page again, answered or not.
    following = progress.following(question_id)
    if following is None:
        return RedirectResponse(_next_path(base, progress), status_code=303)
    return RedirectResponse(f"{base}/report/q/{following.id}", status_code=303)


def _check(
    request: Request,
    container: ContainerDep,
    location: Location,
    mode: str,
    *,
    error: DomainError | None = None,
    submitted: Submitted | None = None,
) -> Response:
    session = citizen_session(request)
    base = citizen.base_path(location, mode)
    progress = _progress(container, session)
    if progress is None:
        return _lost(request, container, location, session, mode)
    if progress.next_question is not None or progress.needs_identification:
        return RedirectResponse(_next_path(base, progress), status_code=303)
    language = citizen.page_language(request, session)
    answers = progress.draft.answers
    rows = [
        (q.id, q.label.in_language(language), answer_text(q, answers.get(q.id), language))
        for q in progress.questions
    ]
    status, message = handover_pages.shown_error(error)
    return citizen._page(
        request,
        container,
        "citizen/report_check.html",
        language,
        location,
        session,
        mode=mode,
        verified_name=_verified_name(container, progress.draft),
        status_code=status,
        error=message,
        typed_name=submitted.get("full_name")[:200] if submitted else "",
        confirmed=bool(submitted and submitted.get("confirm")),
        form_title=progress.form.title.in_language(language),
        is_tip=progress.form.kind == "tip",
        rows=rows,
        has_code=progress.draft.has_resume_code,
        last_id=progress.questions[-1].id,
    )


def _submit(
    request: Request, container: ContainerDep, location: Location, mode: str, submitted: Submitted
) -> Response:
    session = citizen_session(request)
    base = citizen.base_path(location, mode)
    form = submitted
    citizen.check_form(
        request, session, _field(form, "csrf_token"), location, f"{base}/report/check"
    )
    if session.draft_id is None:
        return _lost(request, container, location, session, mode)
    try:
        if _field(form, "verified") == "yes":
            confirmation: Confirmation | None = _verified_confirmation(container, session.draft_id)
        else:
            confirmation = handover_pages.confirmation_from(form)
        handover_service.submit_report(container.handover, session.draft_id, confirmation)
    except DomainError as error:
        if error.code.startswith("statement."):
            # Not signed (or not readable): the check page again, with what was entered.
            return _check(request, container, location, mode, error=error, submitted=form)
        if error.code == "report.needs_officer":
            return RedirectResponse(f"{base}/report/officer", status_code=303)
        if error.code == "identification.required":
            return RedirectResponse(f"{base}/report/identify", status_code=303)
        if error.code == "draft.incomplete":
            return RedirectResponse(f"{base}/report", status_code=303)
        if error.code in ("draft.unknown", "draft.expired"):
            return _lost(request, container, location, session, mode)
        raise
    return RedirectResponse(f"{base}/report/done", status_code=303)


def _done(
    request: Request,
    container: ContainerDep,
    location: Location,
    mode: str,
    *,
    error: DomainError | None = None,
    email: str = "",
    sent: bool = False,
) -> Response:
    session = citizen_session(request)
    base = citizen.base_path(location, mode)
    if session.draft_id is None:
        return RedirectResponse(base or "/", status_code=303)
    try:
        report = report_service.submitted_report(container.reports, session.draft_id)
    except DomainError:
        return _lost(request, container, location, session, mode)
    form = report_service.get_form(container.reports, report.form_code)
    language = citizen.page_language(request, session)
    status, message = handover_pages.shown_error(error)
    return citizen._page(
        request,
        container,
        "citizen/report_done.html",
        language,
        location,
        session,
        mode=mode,
        status_code=status,
        error=message,
        email=email,
        sent=sent or request.query_params.get("sent") == "1",
        form_title=form.title.in_language(language),
        is_tip=form.kind == "tip",
        reference=report.reference,
        **handover_pages.done_context(container, report),
        **tip_pages.done_context(container, session.draft_id),
    )


def _email(
    request: Request, container: ContainerDep, location: Location, mode: str, submitted: Submitted
) -> Response:
    """Send the acknowledgement's link to an address the citizen gives (optional)."""
    session = citizen_session(request)
    base = citizen.base_path(location, mode)
    citizen.check_form(
        request, session, _field(submitted, "csrf_token"), location, f"{base}/report/done"
    )
    if session.draft_id is None:
        return _lost(request, container, location, session, mode)
    address = _field(submitted, "email")[:254]
    try:
        handover_pages.check_rate(request)
        handover_service.email_acknowledgement(container.handover, session.draft_id, address)
    except DomainError as error:
        if error.code not in ("email.invalid", "request.rate_limited"):
            raise
        return _done(request, container, location, mode, error=error, email=address)
    # After the post a redirect, so a reload does not send the e-mail again.
    return RedirectResponse(f"{base}/report/done?sent=1", status_code=303)


def _code(
    request: Request, container: ContainerDep, location: Location, mode: str, submitted: Submitted
) -> Response:
    session = citizen_session(request)
    base = citizen.base_path(location, mode)
    form = submitted
    back = _field(form, "back")
    back = back if re.fullmatch(r"(/kiosk/[a-z0-9-]+)?/report(/q/[a-z0-9_]+|/check)?", back) else ""
    citizen.check_form(
        request, session, _field(form, "csrf_token"), location, back or f"{base}/report"
    )
    if session.draft_id is None:
        return _lost(request, container, location, session, mode)
    code = report_service.issue_resume_code(container.reports, session.draft_id)
    language = citizen.page_language(request, session)
    hours = int(container.reports.policy.resume_lifetime.total_seconds() // 3600)
    # The code is shown once, in this response only: it is not in any address or log.
    return citizen._page(
        request,
        container,
        "citizen/report_code.html",
        language,
        location,
        session,
        mode=mode,
        code=code,
        hours=hours,
        back_url=back or f"{base}/report",
    )


def _resume_page(
    request: Request,
    container: ContainerDep,
    location: Location,
    mode: str,
    *,
    error: DomainError | None = None,
    typed: str = "",
) -> Response:
    session = citizen_session(request)
    language = citizen.page_language(request, session)
    status, message = handover_pages.shown_error(error)
    return citizen._page(
        request,
        container,
        "citizen/report_resume.html",
        language,
        location,
        session,
        mode=mode,
        status_code=status,
        error=message,
        typed=typed,
    )


def _resume(
    request: Request, container: ContainerDep, location: Location, mode: str, submitted: Submitted
) -> Response:
    session = citizen_session(request)
    base = citizen.base_path(location, mode)
    form = submitted
    citizen.check_form(
        request, session, _field(form, "csrf_token"), location, f"{base}/report/resume"
    )
    typed = _field(form, "code")[:40]
    # Codes are guessable only by many tries: the public rate limit applies per address.
    allowed, retry_after = request.app.state.ticket_limiter.allow(client_address(request))
    try:
        if not allowed:
            raise DomainError("request.rate_limited", retry_after=retry_after)
        progress = report_service.resume_draft(container.reports, typed)
    except DomainError as error:
        return _resume_page(request, container, location, mode, error=error, typed=typed)
    session.draft_id = progress.draft.id
    return _redirect(request, session, _next_path(base, progress))


def _officer(request: Request, container: ContainerDep, location: Location, mode: str) -> Response:
    session = citizen_session(request)
    language = citizen.page_language(request, session)
    offered = {service.code: service for service in citizen._offered(location, mode)}
    talk = offered.get("contact.video")
    return citizen._page(
        request,
        container,
        "citizen/report_officer.html",
        language,
        location,
        session,
        mode=mode,
        talk=talk,
        ticket_key=citizen._new_key(),
    )


# -- helpers ----------------------------------------------------------------------------------


def _verified_name(container: ContainerDep, draft: Draft) -> str | None:
    """The name an identity provider confirmed for this draft, if it was verified online: the
    citizen may confirm the statement with it instead of a signature."""
    if draft.identification < IdentificationLevel.VERIFIED_ONLINE:
        return None
    verification = identification_service.status_of(container.identification, draft.id).verification
    if verification is None or verification.method is not Method.ONLINE:
        return None
    return verification.display_name or None


def _verified_confirmation(container: ContainerDep, draft_id: str) -> Confirmation:
    """The statement confirmed with the identity verified online (the name comes from the
    provider's answer as stored, never from the form)."""
    with container.reports.uow(read_only=True) as uow:
        draft = uow.reports.get_draft(draft_id)
    name = _verified_name(container, draft)
    if name is None:
        raise Invalid("statement.confirmation_required", field="confirmation")
    return Confirmation(verified_identity=name)


_ALL_PARTS = (*PLACE_PARTS, *PERSON_PARTS, *ITEM_FIELDS)


def _desk(container: ContainerDep, slug: str) -> Location:
    location = location_service.get_location(container.queue, slug)
    if location.kind is LocationKind.ONLINE:
        raise DomainError("location.unknown")
    return location


def _home_desk(container: ContainerDep) -> Location:
    return location_service.get_location(container.queue, citizen.ONLINE_DESK)


def _progress(container: ContainerDep, session: CitizenSession) -> report_service.Progress | None:
    if session.draft_id is None:
        return None
    try:
        progress = report_service.load_draft(container.reports, session.draft_id)
    except DomainError:
        return None
    return None if progress.draft.is_submitted else progress


def _next_path(base: str, progress: report_service.Progress) -> str:
    if progress.route is Route.OFFICER:
        return f"{base}/report/officer"
    following = progress.next_question
    if following is None:
        # Before checking and signing, the citizen proves who they are if the type needs it.
        return (
            f"{base}/report/identify" if progress.needs_identification else f"{base}/report/check"
        )
    return f"{base}/report/q/{following.id}"


def _lost(
    request: Request,
    container: ContainerDep,
    location: Location,
    session: CitizenSession,
    mode: str,
) -> Response:
    """No draft in this browser (expired, wiped, or never started): say so, offer a new start."""
    language = citizen.page_language(request, session)
    return citizen._page(
        request,
        container,
        "citizen/report_lost.html",
        language,
        location,
        session,
        mode=mode,
        status_code=404,
    )


def _redirect(request: Request, session: CitizenSession, target: str) -> Response:
    response = RedirectResponse(target, status_code=303)
    store_citizen_session(request, response, session)
    return response


def _field(form: Submitted, name: str) -> str:
    return form.get(name)


def _field_of(entered: Any, name: str) -> bool:
    return isinstance(entered, dict) and bool(entered.get(name))


def _raw_answer(question: Question, form: Submitted) -> Any:
    """The submitted fields of one question in the shape domain.forms.validate_answer takes."""
    kind = question.type
    if kind is QuestionType.MULTI_CHOICE:
        return form.getlist("value")
    if kind is QuestionType.DATETIME:
        return {"date": form.get("date"), "time": form.get("time")}
    if kind is QuestionType.PLACE:
        return {name: form.get(name) for name in PLACE_PARTS}
    if kind is QuestionType.PERSON:
        return {name: form.get(name) for name in PERSON_PARTS}
    if kind is QuestionType.ITEMS:
        fields = question.fields or ITEM_FIELDS
        return [
            {name: form.get(f"{row}-{name}") for name in fields}
            for row in range(question.max_items)
        ]
    if kind is QuestionType.FILE:
        return form.uploads.get("file")
    return form.get("value")


def _display_value(question: Question, value: Any) -> Any:
    """What the inputs show: the saved answer, or what was typed when it was refused."""
    if question.type is QuestionType.DATETIME and isinstance(value, str):
        day, _, moment = value.partition("T")
        return {"date": day, "time": moment}
    if question.type is QuestionType.MULTI_CHOICE:
        return value if isinstance(value, list) else []
    if question.type in (
        QuestionType.FILE,
        QuestionType.PLACE,
        QuestionType.PERSON,
        QuestionType.DATETIME,
    ):
        return value if isinstance(value, dict) else {}
    if question.type is QuestionType.ITEMS:
        return value if isinstance(value, list) else []
    return value if isinstance(value, str) else ""


def _item_rows(question: Question, value: Any) -> int:
    if question.type is not QuestionType.ITEMS:
        return 0
    rows = value if isinstance(value, list) else []
    filled = sum(1 for row in rows if isinstance(row, dict) and any(row.values()))
    return min(question.max_items, max(filled + 1, min(_ITEM_ROWS, question.max_items)))


# Registered after the steps are defined. A file question posts to .../documents: the body
# limit lets only such paths send uploads.
_route("POST", "/reports/start", _start)
_route("GET", "/report", _current)
_route("GET", "/report/q/{question_id}", _question)
_route("POST", "/report/q/{question_id}", _answer)
_route("POST", "/report/q/{question_id}/documents", _answer)
_route("GET", "/report/check", _check)
_route("POST", "/report/submit", _submit)
_route("GET", "/report/done", _done)
_route("POST", "/report/code", _code)
_route("GET", "/report/acknowledgement.pdf", handover_pages.acknowledgement_download)
_route("POST", "/report/acknowledgement/email", _email)
_route("POST", "/report/acknowledgement/code", handover_pages.acknowledgement_code)
_route("GET", "/report/resume", _resume_page)
_route("POST", "/report/resume", _resume)
_route("GET", "/report/officer", _officer)
