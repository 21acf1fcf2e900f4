"""The satisfaction survey's pages: offered after a contact, answered once, anonymously.

A finished ticket's page links to /t/{ticket_id}/survey and a sent report's page to
/survey/report; both redirect to /survey/{token}, so the address of the survey itself says
nothing about the contact. At a kiosk (?mode=kiosk) the survey keeps the kiosk's idle reset
and its last page ends with the kiosk's own "finish and start again".
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from loket.domain.errors import DomainError, Refused
from loket.domain.locations import Location, LocationKind
from loket.domain.surveys import QuestionKind, SurveyContext
from loket.services import locations as location_service
from loket.services import reports as report_service
from loket.services import surveys as survey_service
from loket.web.deps import ContainerDep, client_address
from loket.web.pages import citizen
from loket.web.problems import MESSAGES
from loket.web.sessions import citizen_session, csrf_is_valid

router = APIRouter(include_in_schema=False)

KIOSK = "kiosk"


@router.get("/t/{ticket_id}/survey")
def ticket_survey(request: Request, ticket_id: str, container: ContainerDep) -> Response:
    """The survey of a finished contact: a redirect to its own address."""
    citizen.check_ticket_id(ticket_id)
    kiosk = request.query_params.get("mode") == KIOSK
    try:
        token = survey_service.offer_for_ticket(container.surveys, ticket_id)
    except Refused as refused:
        found = citizen.ticket_status(container, ticket_id)
        location = location_service.get_location(container.queue, found.location_slug)
        return _closed(request, container, location, refused, kiosk=kiosk)
    return RedirectResponse(_survey_path(token, kiosk), status_code=303)


@router.get("/survey/report")
def report_survey(request: Request, container: ContainerDep) -> Response:
    return _report_survey(request, container, kiosk_slug=None)


@router.get("/kiosk/{slug}/survey/report")
def kiosk_report_survey(request: Request, slug: str, container: ContainerDep) -> Response:
    return _report_survey(request, container, kiosk_slug=slug)


def _report_survey(request: Request, container: ContainerDep, kiosk_slug: str | None) -> Response:
    """The survey after a report or tip sent from this browser (the draft is in the session)."""
    session = citizen_session(request)
    if session.draft_id is None:
        return RedirectResponse(f"/kiosk/{kiosk_slug}" if kiosk_slug else "/", status_code=303)
    report = report_service.submitted_report(container.reports, session.draft_id)
    try:
        token = survey_service.offer_for_report(container.surveys, report)
    except Refused as refused:
        location = _location(container, report.location_id)
        return _closed(request, container, location, refused, kiosk=kiosk_slug is not None)
    return RedirectResponse(_survey_path(token, kiosk_slug is not None), status_code=303)


@router.get("/survey/{token}", response_class=HTMLResponse)
def survey_page(request: Request, token: str, container: ContainerDep) -> Response:
    kiosk = request.query_params.get("mode") == KIOSK
    try:
        context = survey_service.open_survey(container.surveys, token)
    except Refused as refused:
        return _closed(request, container, None, refused, kiosk=kiosk)
    return _form(request, container, token, context, kiosk=kiosk)


@router.post("/survey/{token}", response_class=HTMLResponse)
async def answer(request: Request, token: str, container: ContainerDep) -> Response:
    # A public form: limited per address like taking tickets, from a budget of its own.
    allowed, retry_after = request.app.state.survey_limiter.allow(client_address(request))
    if not allowed:
        raise DomainError("request.rate_limited", retry_after=retry_after)
    async with request.form() as form:
        posted = {key: str(value) for key, value in form.items() if isinstance(value, str)}
    return await run_in_threadpool(_answer, request, token, container, posted)


def _answer(
    request: Request, token: str, container: ContainerDep, posted: dict[str, str]
) -> Response:
    kiosk = request.query_params.get("mode") == KIOSK
    session = citizen_session(request)
    try:
        context = survey_service.open_survey(container.surveys, token)
    except Refused as refused:
        return _closed(request, container, None, refused, kiosk=kiosk)
    if not csrf_is_valid(request, session.id, posted.get("csrf_token")):
        error = DomainError("request.expired_form")
        return _form(request, container, token, context, kiosk=kiosk, error=error, posted=posted)
    answers = {key: value for key, value in posted.items() if key != "csrf_token"}
    try:
        survey_service.answer_survey(container.surveys, token, answers)
    except Refused as refused:
        # A double submit lands here: the first one counted.
        return _closed(request, container, None, refused, kiosk=kiosk)
    except DomainError as error:
        return _form(request, container, token, context, kiosk=kiosk, error=error, posted=posted)
    location = _location(container, context.location_id)
    return _page(request, container, location, "citizen/survey_done.html", kiosk=kiosk)


# -- rendering -------------------------------------------------------------------------------


def _form(
    request: Request,
    container: ContainerDep,
    token: str,
    context: SurveyContext,
    *,
    kiosk: bool,
    error: DomainError | None = None,
    posted: dict[str, str] | None = None,
) -> Response:
    location = _location(container, context.location_id)
    session = citizen_session(request)
    if request.query_params.get("lang") is None and session.language is None:
        session.language = context.language  # asked in the language of the contact
    language = citizen.page_language(request, session)
    survey = container.surveys.survey
    questions = [
        {
            "id": q.id,
            "kind": q.kind.value,
            "text": q.text.in_language(language),
            "hint": q.hint.in_language(language) if q.hint else None,
            "low": q.low_label.in_language(language) if q.low_label else None,
            "high": q.high_label.in_language(language) if q.high_label else None,
            "required": q.required,
        }
        for q in survey.questions
    ]
    shown = None
    status = 200
    if error is not None:
        status, message = MESSAGES.get(error.code, (422, error.code))
        shown = (message, error.params)
    return citizen.citizen_page(
        request,
        container,
        "citizen/survey.html",
        location,
        session,
        mode=KIOSK if kiosk and location.kind is not LocationKind.ONLINE else "home",
        status_code=status,
        title=survey.title.in_language(language),
        intro=survey.intro.in_language(language),
        questions=questions,
        action=_survey_path(token, kiosk),
        error=shown,
        error_field=None if error is None else (error.field or questions[0]["id"]),
        posted=posted or {},
        scale=(1, 2, 3, 4, 5),
        text_kind=QuestionKind.TEXT.value,
    )


def _closed(
    request: Request,
    container: ContainerDep,
    location: Location | None,
    refused: DomainError,
    *,
    kiosk: bool,
) -> Response:
    status, message = MESSAGES.get(refused.code, (409, refused.code))
    return _page(
        request,
        container,
        location or _location(container, None),
        "citizen/survey_done.html",
        kiosk=kiosk,
        status_code=status if refused.code != "survey.already_answered" else 200,
        message=message,
        params=refused.params,
    )


def _page(
    request: Request,
    container: ContainerDep,
    location: Location,
    template: str,
    *,
    kiosk: bool,
    status_code: int = 200,
    message: str | None = None,
    params: dict[str, object] | None = None,
) -> Response:
    return citizen.citizen_page(
        request,
        container,
        template,
        location,
        citizen_session(request),
        mode=KIOSK if kiosk and location.kind is not LocationKind.ONLINE else "home",
        status_code=status_code,
        message=message,
        params=params or {},
    )


def _location(container: ContainerDep, location_id: int | None) -> Location:
    if location_id is not None:
        with container.queue.uow(read_only=True) as uow:
            return uow.locations.get(location_id)
    return location_service.get_location(container.queue, citizen.ONLINE_DESK)


def _survey_path(token: str, kiosk: bool) -> str:
    return f"/survey/{token}" + ("?mode=kiosk" if kiosk else "")
