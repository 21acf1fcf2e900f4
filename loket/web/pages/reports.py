"""Report and tip pages: one question per page, check your answers, send, and resume by code.

Works without JavaScript: every step is a server-rendered form. The draft's id travels in
the citizen's signed session cookie, never in an address; the answers stay on the server.
The same routes serve the kiosk (/kiosk/{slug}/report/...) and home (/report/...).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData, UploadFile

from loket.domain.errors import DomainError
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
from loket.domain.locations import Location, LocationKind
from loket.domain.reports import Route
from loket.services import locations as location_service
from loket.services import reports as report_service
from loket.web.deps import ContainerDep, client_address
from loket.web.pages import citizen
from loket.web.problems import MESSAGES
from loket.web.sessions import (
    CitizenSession,
    citizen_session,
    csrf_is_valid,
    store_citizen_session,
)

router = APIRouter(include_in_schema=False)

_QUESTION_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_FORM_CODE = re.compile(r"^(report|tip)\.[a-z_]{1,40}$")
# How many rows a list of items shows at most without JavaScript (a form may allow more:
# the page then shows one empty row more than is filled in).
_ITEM_ROWS = 3


# -- routes: each twice, at the kiosk and at home --------------------------------------------


@router.post("/kiosk/{slug}/reports/start", response_class=HTMLResponse)
async def kiosk_start(request: Request, slug: str, container: ContainerDep) -> Response:
    return await _start(request, container, _desk(container, slug), "kiosk")


@router.post("/reports/start", response_class=HTMLResponse)
async def home_start(request: Request, container: ContainerDep) -> Response:
    return await _start(request, container, _home_desk(container), "home")


@router.get("/kiosk/{slug}/report", response_class=HTMLResponse)
def kiosk_current(request: Request, slug: str, container: ContainerDep) -> Response:
    return _current(request, container, _desk(container, slug), "kiosk")


@router.get("/report", response_class=HTMLResponse)
def home_current(request: Request, container: ContainerDep) -> Response:
    return _current(request, container, _home_desk(container), "home")


@router.get("/kiosk/{slug}/report/q/{question_id}", response_class=HTMLResponse)
def kiosk_question(
    request: Request, slug: str, question_id: str, container: ContainerDep
) -> Response:
    return _question(request, container, _desk(container, slug), "kiosk", question_id)


@router.get("/report/q/{question_id}", response_class=HTMLResponse)
def home_question(request: Request, question_id: str, container: ContainerDep) -> Response:
    return _question(request, container, _home_desk(container), "home", question_id)


# A file question posts to .../documents: the body limit lets only such paths send uploads.
@router.post("/kiosk/{slug}/report/q/{question_id}", response_class=HTMLResponse)
@router.post("/kiosk/{slug}/report/q/{question_id}/documents", response_class=HTMLResponse)
async def kiosk_answer(
    request: Request, slug: str, question_id: str, container: ContainerDep
) -> Response:
    return await _answer(request, container, _desk(container, slug), "kiosk", question_id)


@router.post("/report/q/{question_id}", response_class=HTMLResponse)
@router.post("/report/q/{question_id}/documents", response_class=HTMLResponse)
async def home_answer(request: Request, question_id: str, container: ContainerDep) -> Response:
    return await _answer(request, container, _home_desk(container), "home", question_id)


@router.get("/kiosk/{slug}/report/check", response_class=HTMLResponse)
def kiosk_check(request: Request, slug: str, container: ContainerDep) -> Response:
    return _check(request, container, _desk(container, slug), "kiosk")


@router.get("/report/check", response_class=HTMLResponse)
def home_check(request: Request, container: ContainerDep) -> Response:
    return _check(request, container, _home_desk(container), "home")


@router.post("/kiosk/{slug}/report/submit", response_class=HTMLResponse)
async def kiosk_submit(request: Request, slug: str, container: ContainerDep) -> Response:
    return await _submit(request, container, _desk(container, slug), "kiosk")


@router.post("/report/submit", response_class=HTMLResponse)
async def home_submit(request: Request, container: ContainerDep) -> Response:
    return await _submit(request, container, _home_desk(container), "home")


@router.get("/kiosk/{slug}/report/done", response_class=HTMLResponse)
def kiosk_done(request: Request, slug: str, container: ContainerDep) -> Response:
    return _done(request, container, _desk(container, slug), "kiosk")


@router.get("/report/done", response_class=HTMLResponse)
def home_done(request: Request, container: ContainerDep) -> Response:
    return _done(request, container, _home_desk(container), "home")


@router.post("/kiosk/{slug}/report/code", response_class=HTMLResponse)
async def kiosk_code(request: Request, slug: str, container: ContainerDep) -> Response:
    return await _code(request, container, _desk(container, slug), "kiosk")


@router.post("/report/code", response_class=HTMLResponse)
async def home_code(request: Request, container: ContainerDep) -> Response:
    return await _code(request, container, _home_desk(container), "home")


@router.get("/kiosk/{slug}/report/resume", response_class=HTMLResponse)
def kiosk_resume_page(request: Request, slug: str, container: ContainerDep) -> Response:
    return _resume_page(request, container, _desk(container, slug), "kiosk")


@router.get("/report/resume", response_class=HTMLResponse)
def home_resume_page(request: Request, container: ContainerDep) -> Response:
    return _resume_page(request, container, _home_desk(container), "home")


@router.post("/kiosk/{slug}/report/resume", response_class=HTMLResponse)
async def kiosk_resume(request: Request, slug: str, container: ContainerDep) -> Response:
    return await _resume(request, container, _desk(container, slug), "kiosk")


@router.post("/report/resume", response_class=HTMLResponse)
async def home_resume(request: Request, container: ContainerDep) -> Response:
    return await _resume(request, container, _home_desk(container), "home")


@router.get("/kiosk/{slug}/report/officer", response_class=HTMLResponse)
def kiosk_officer(request: Request, slug: str, container: ContainerDep) -> Response:
    return _officer(request, container, _desk(container, slug), "kiosk")


@router.get("/report/officer", response_class=HTMLResponse)
def home_officer(request: Request, container: ContainerDep) -> Response:
    return _officer(request, container, _home_desk(container), "home")


# -- the steps -------------------------------------------------------------------------------


async def _start(
    request: Request, container: ContainerDep, location: Location, mode: str
) -> Response:
    session = citizen_session(request)
    form = await request.form()
    base = citizen._base_path(location, mode)
    code = _field(form, "form")
    if not csrf_is_valid(request, session.id, _field(form, "csrf_token")):
        return citizen._expired_form(request, location, session, base or "/")
    if not _FORM_CODE.match(code):
        raise DomainError("form.unknown")
    language = citizen._chosen_language(request, session) or citizen._visitor_language(request)
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
    base = citizen._base_path(location, mode)
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
    base = citizen._base_path(location, mode)
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
    if error is None and progress.draft.step != question_id:
        progress = report_service.go_to(container.reports, progress.draft.id, question_id)
    language = citizen._chosen_language(request, session) or citizen._visitor_language(request)
    value = _display_value(
        question, entered["value"] if error is not None else progress.draft.answers.get(question_id)
    )
    status = 200
    message = None
    if error is not None:
        status, template = MESSAGES.get(error.code, (422, error.code))
        message = (template, error.params)
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
        item_rows=_item_rows(question, value),
        kept_file=value.get("filename") if isinstance(value, dict) and value else None,
    )


async def _answer(
    request: Request, container: ContainerDep, location: Location, mode: str, question_id: str
) -> Response:
    session = citizen_session(request)
    base = citizen._base_path(location, mode)
    form = await request.form()
    if not csrf_is_valid(request, session.id, _field(form, "csrf_token")):
        return citizen._expired_form(request, location, session, f"{base}/report")
    progress = _progress(container, session)
    if progress is None:
        return _lost(request, container, location, session, mode)
    if not _QUESTION_ID.match(question_id):
        raise DomainError("form.unknown_question")
    question = progress.form.question(question_id)
    raw = await _raw_answer(question, form)
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
    return RedirectResponse(_next_path(base, progress), status_code=303)


def _check(request: Request, container: ContainerDep, location: Location, mode: str) -> Response:
    session = citizen_session(request)
    base = citizen._base_path(location, mode)
    progress = _progress(container, session)
    if progress is None:
        return _lost(request, container, location, session, mode)
    if progress.next_question is not None:
        return RedirectResponse(_next_path(base, progress), status_code=303)
    language = citizen._chosen_language(request, session) or citizen._visitor_language(request)
    answers = progress.draft.answers
    rows = [
        (q.id, q.label.in_language(language), answer_text(q, answers.get(q.id), language))
        for q in progress.questions
    ]
    return citizen._page(
        request,
        container,
        "citizen/report_check.html",
        language,
        location,
        session,
        mode=mode,
        form_title=progress.form.title.in_language(language),
        is_tip=progress.form.kind == "tip",
        rows=rows,
        has_code=progress.draft.has_resume_code,
        last_id=progress.questions[-1].id,
    )


async def _submit(
    request: Request, container: ContainerDep, location: Location, mode: str
) -> Response:
    session = citizen_session(request)
    base = citizen._base_path(location, mode)
    form = await request.form()
    if not csrf_is_valid(request, session.id, _field(form, "csrf_token")):
        return citizen._expired_form(request, location, session, f"{base}/report/check")
    if session.draft_id is None:
        return _lost(request, container, location, session, mode)
    try:
        report_service.submit_draft(container.reports, session.draft_id)
    except DomainError as error:
        if error.code == "report.needs_officer":
            return RedirectResponse(f"{base}/report/officer", status_code=303)
        if error.code == "draft.incomplete":
            return RedirectResponse(f"{base}/report", status_code=303)
        if error.code in ("draft.unknown", "draft.expired"):
            return _lost(request, container, location, session, mode)
        raise
    return RedirectResponse(f"{base}/report/done", status_code=303)


def _done(request: Request, container: ContainerDep, location: Location, mode: str) -> Response:
    session = citizen_session(request)
    base = citizen._base_path(location, mode)
    if session.draft_id is None:
        return RedirectResponse(base or "/", status_code=303)
    try:
        report = report_service.submitted_report(container.reports, session.draft_id)
    except DomainError:
        return _lost(request, container, location, session, mode)
    form = report_service.get_form(container.reports, report.form_code)
    language = citizen._chosen_language(request, session) or citizen._visitor_language(request)
    return citizen._page(
        request,
        container,
        "citizen/report_done.html",
        language,
        location,
        session,
        mode=mode,
        form_title=form.title.in_language(language),
        is_tip=form.kind == "tip",
        reference=report.reference,
    )


async def _code(
    request: Request, container: ContainerDep, location: Location, mode: str
) -> Response:
    session = citizen_session(request)
    base = citizen._base_path(location, mode)
    form = await request.form()
    back = _field(form, "back")
    back = back if re.fullmatch(r"(/kiosk/[a-z0-9-]+)?/report(/q/[a-z0-9_]+|/check)?", back) else ""
    if not csrf_is_valid(request, session.id, _field(form, "csrf_token")):
        return citizen._expired_form(request, location, session, back or f"{base}/report")
    if session.draft_id is None:
        return _lost(request, container, location, session, mode)
    code = report_service.issue_resume_code(container.reports, session.draft_id)
    language = citizen._chosen_language(request, session) or citizen._visitor_language(request)
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
    language = citizen._chosen_language(request, session) or citizen._visitor_language(request)
    status = 200
    message = None
    if error is not None:
        status, template = MESSAGES.get(error.code, (422, error.code))
        message = (template, error.params)
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


async def _resume(
    request: Request, container: ContainerDep, location: Location, mode: str
) -> Response:
    session = citizen_session(request)
    base = citizen._base_path(location, mode)
    form = await request.form()
    if not csrf_is_valid(request, session.id, _field(form, "csrf_token")):
        return citizen._expired_form(request, location, session, f"{base}/report/resume")
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
    language = citizen._chosen_language(request, session) or citizen._visitor_language(request)
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
        return f"{base}/report/check"
    return f"{base}/report/q/{following.id}"


def _lost(
    request: Request,
    container: ContainerDep,
    location: Location,
    session: CitizenSession,
    mode: str,
) -> Response:
    """No draft in this browser (expired, wiped, or never started): say so, offer a new start."""
    language = citizen._chosen_language(request, session) or citizen._visitor_language(request)
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


def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def _field_of(entered: Any, name: str) -> bool:
    return isinstance(entered, dict) and bool(entered.get(name))


async def _raw_answer(question: Question, form: FormData) -> Any:
    """The submitted fields of one question in the shape domain.forms.validate_answer takes."""
    kind = question.type
    if kind is QuestionType.MULTI_CHOICE:
        return [v for v in form.getlist("value") if isinstance(v, str)]
    if kind is QuestionType.DATETIME:
        return {"date": _field(form, "date"), "time": _field(form, "time")}
    if kind is QuestionType.PLACE:
        return {name: _field(form, name) for name in PLACE_PARTS}
    if kind is QuestionType.PERSON:
        return {name: _field(form, name) for name in PERSON_PARTS}
    if kind is QuestionType.ITEMS:
        fields = question.fields or ITEM_FIELDS
        return [
            {name: _field(form, f"{row}-{name}") for name in fields}
            for row in range(question.max_items)
        ]
    if kind is QuestionType.FILE:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            return None
        try:
            content = await upload.read()
        finally:
            await upload.close()  # its spooled temporary file, now rather than at collection
        return Upload(upload.filename, content) if upload.filename else None
    return _field(form, "value")


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
