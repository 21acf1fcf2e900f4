"""Identification pages: the citizen proves who they are before checking and signing a report.

Two ways, never a dead end: log in with an OpenID provider (DigiD, itsme, eID through a
broker; the built-in test provider in the demo), or, without those (no DigiD, a foreign
passport), a video call in which an officer checks the identity document on camera; the
draft is kept meanwhile. The officer's half is a form in the console for such a ticket.

The OIDC login's secrets (state, nonce, PKCE verifier) travel in a short-lived signed cookie
with SameSite=Lax: the provider sends the browser back cross-site, and the citizen's own
cookie is SameSite=Strict, so it is not sent on that request. The callback therefore answers
with a page that continues on this site, where the citizen's cookie is sent again.
"""

from __future__ import annotations

import logging
import re
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from loket.domain.catalogue import IdentificationLevel
from loket.domain.errors import DomainError
from loket.domain.i18n import N_
from loket.domain.identification import DocumentType
from loket.domain.locations import Location
from loket.domain.staff import Role, StaffMember
from loket.services import identification as identification_service
from loket.services import reports as report_service
from loket.web.deps import ContainerDep, client_address
from loket.web.pages import at_kiosk_and_home, citizen
from loket.web.pages import report_handover as handover_pages
from loket.web.pages import reports as report_pages
from loket.web.pages.staff_auth import check_staff_csrf, require_staff
from loket.web.sessions import CitizenSession, citizen_session, store_citizen_session

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

LOGIN_COOKIE = "__Host-loket-oidc"
LOGIN_PURPOSE = "oidc-login"
# Long enough to log in with DigiD's app; the provider's code lives shorter still.
LOGIN_SECONDS = 600
_BASE = re.compile(r"^(/kiosk/[a-z0-9]+(?:-[a-z0-9]+)*)?$")

# The same words as the administrator's service list (admin.py).
LEVEL_LABELS = {
    IdentificationLevel.ANONYMOUS: N_("Anonymous"),
    IdentificationLevel.SELF_DECLARED: N_("Name given by the citizen"),
    IdentificationLevel.VERIFIED_ONLINE: N_("Verified online (DigiD, itsme, eID)"),
    IdentificationLevel.VERIFIED_BY_OFFICER: N_("Checked by an officer on camera"),
}
DOCUMENT_LABELS = {
    DocumentType.PASSPORT: N_("Passport"),
    DocumentType.ID_CARD: N_("Identity card"),
    DocumentType.DRIVING_LICENCE: N_("Driving licence"),
    DocumentType.RESIDENCE_PERMIT: N_("Residence permit"),
    DocumentType.FOREIGN_PASSPORT: N_("Foreign passport"),
}


def _route(method: str, path: str, name: str) -> Any:
    """Serve a step at the kiosk (/kiosk/{slug}/...) and at home (/...), like the report pages."""

    def register(step: Any) -> Any:
        async def endpoint(request: Request, container: ContainerDep) -> Response:
            submitted = await report_pages._read(request) if method == "POST" else None
            return await run_in_threadpool(_run, step, request, container, submitted)

        at_kiosk_and_home(router, method, path, endpoint, name)
        return step

    return register


def _run(step: Any, request: Request, container: ContainerDep, submitted: Any) -> Response:
    slug = request.path_params.get("slug")
    mode = "home" if slug is None else "kiosk"
    location = (
        report_pages._home_desk(container) if slug is None else report_pages._desk(container, slug)
    )
    extra = {} if submitted is None else {"submitted": submitted}
    return step(request, container, location, mode, **extra)


# -- the citizen's choice ---------------------------------------------------------------------


@_route("GET", "/report/identify", "identify")
def choice_page(
    request: Request,
    container: ContainerDep,
    location: Location,
    mode: str,
    *,
    error: DomainError | None = None,
) -> Response:
    session = citizen_session(request)
    base = citizen.base_path(location, mode)
    progress = report_pages._progress(container, session)
    if progress is None:
        return report_pages._lost(request, container, location, session, mode)
    if progress.next_question is not None or not progress.needs_identification:
        return RedirectResponse(report_pages._next_path(base, progress), status_code=303)
    status = identification_service.status_of(container.identification, progress.draft.id)
    offered = {service.code: service for service in citizen._offered(location, mode)}
    if error is None and request.query_params.get("failed") == "1":
        error = DomainError("identification.online_failed")
    status_code, message = handover_pages.shown_error(error)
    language = citizen.page_language(request, session)
    return citizen._page(
        request,
        container,
        "citizen/report_identify.html",
        language,
        location,
        session,
        mode=mode,
        status_code=status_code,
        error=message,
        form_title=progress.form.title.in_language(language),
        can_verify_online=container.oidc is not None and status.can_verify_online,
        can_call=identification_service.VIDEO_SERVICE in offered,
        ticket_key=citizen._new_key(),
        last_id=progress.questions[-1].id,
        hours=int(container.reports.policy.resume_lifetime.total_seconds() // 3600),
    )


def _posted(
    request: Request, container: ContainerDep, location: Location, mode: str, submitted: Any
) -> tuple[CitizenSession, str, report_service.Progress] | Response:
    """A choice posted on the identification page: the session, the page's base path and the
    draft's progress, or the page that answers instead (an expired form, a lost draft)."""
    session = citizen_session(request)
    base = citizen.base_path(location, mode)
    citizen.check_form(
        request, session, submitted.get("csrf_token"), location, f"{base}/report/identify"
    )
    progress = report_pages._progress(container, session)
    if progress is None:
        return report_pages._lost(request, container, location, session, mode)
    return session, base, progress


@_route("POST", "/report/identify/online", "identify_online")
def start_online(
    request: Request, container: ContainerDep, location: Location, mode: str, submitted: Any
) -> Response:
    """Send the browser to the OpenID provider, with this login's secrets in a Lax cookie."""
    posted = _posted(request, container, location, mode, submitted)
    if isinstance(posted, Response):
        return posted
    session, base, progress = posted
    client = container.oidc
    if client is None or not progress.needs_identification:
        return RedirectResponse(f"{base}/report/identify", status_code=303)
    allowed, retry_after = request.app.state.ticket_limiter.allow(client_address(request))
    try:
        if not allowed:
            raise DomainError("request.rate_limited", retry_after=retry_after)
        login = client.start()
    except DomainError as error:
        if error.code != "request.rate_limited":
            log.warning("OpenID provider unavailable: %s", error.params.get("reason"))
        return choice_page(request, container, location, mode, error=error)
    signer = request.app.state.signer
    value = signer.sign(
        LOGIN_PURPOSE,
        {
            "state": login.state,
            "nonce": login.nonce,
            "verifier": login.code_verifier,
            "draft": progress.draft.id,
            "base": base,
            "language": citizen.page_language(request, session),
        },
    )
    response = RedirectResponse(login.url, status_code=303)
    response.set_cookie(
        LOGIN_COOKIE,
        value,
        max_age=LOGIN_SECONDS,
        path="/",
        secure=True,
        httponly=True,
        samesite="lax",
    )
    # A form's redirect must be allowed by form-action: add the provider's origin.
    response.headers["Content-Security-Policy"] = _csp_allowing(client.settings.issuer_origin)
    return response


@router.get("/identification/callback", response_class=HTMLResponse)
def callback(request: Request, container: ContainerDep) -> Response:
    """Where the provider sends the browser back: check everything, record, continue.

    Any failure records nothing and continues at the choice page with a message, where the
    officer-on-camera route stays open.
    """
    signer = request.app.state.signer
    login = signer.unsign(LOGIN_PURPOSE, request.cookies.get(LOGIN_COOKIE))
    if not isinstance(login, dict) or not _BASE.match(str(login.get("base", "-"))):
        return _continue(request, container, "", None, failed=True, reason="no_login")
    base = str(login["base"])
    client = container.oidc
    # A login's cookie can be replayed by its holder: each try costs a call to the provider.
    allowed, _ = request.app.state.ticket_limiter.allow(client_address(request))
    try:
        if not allowed:
            raise DomainError("request.rate_limited", reason="rate_limited")
        if client is None:
            raise DomainError("identification.online_failed", reason="not_configured")
        claims = client.finish(
            dict(request.query_params),
            state=str(login.get("state", "")),
            nonce=str(login.get("nonce", "")),
            code_verifier=str(login.get("verifier", "")),
        )
        identification_service.record_online(
            container.identification,
            str(login.get("draft", "")),
            claims,
            issuer=client.settings.issuer,
        )
    except DomainError as error:
        reason = str(error.params.get("reason", error.code))
        return _continue(request, container, base, login, failed=True, reason=reason)
    return _continue(request, container, base, login, failed=False)


@_route("POST", "/report/identify/officer", "identify_officer")
def request_officer(
    request: Request, container: ContainerDep, location: Location, mode: str, submitted: Any
) -> Response:
    """Take a video ticket for an officer to check the identity document; the draft stays."""
    posted = _posted(request, container, location, mode, submitted)
    if isinstance(posted, Response):
        return posted
    session, _base, progress = posted
    allowed, retry_after = request.app.state.ticket_limiter.allow(client_address(request))
    try:
        if not allowed:
            raise DomainError("request.rate_limited", retry_after=retry_after)
        ticket = identification_service.request_officer_check(
            container.identification,
            progress.draft.id,
            location_slug=location.slug,
            language=_spoken_language(request, session, location),
            channel="kiosk" if mode == "kiosk" else "home",
            idempotency_key=(submitted.get("idempotency_key") or None),
        )
    except DomainError as error:
        return choice_page(request, container, location, mode, error=error)
    session.ticket_id = ticket.id
    if mode != "kiosk":
        return _redirect(request, session, f"/t/{ticket.id}")
    # The citizen leaves the kiosk for the booth, and the kiosk starts again for the next
    # person meanwhile: a resume code keeps the answers for after the check, to finish at a
    # kiosk or on a phone. Shown once, in this response only (a double tap shows a new one).
    code = report_service.issue_resume_code(container.reports, progress.draft.id)
    hours = int(container.reports.policy.resume_lifetime.total_seconds() // 3600)
    return citizen._page(
        request,
        container,
        "citizen/report_identify_ticket.html",
        citizen.page_language(request, session),
        location,
        session,
        mode=mode,
        ticket=ticket,
        code=code,
        hours=hours,
    )


# -- the officer's check ----------------------------------------------------------------------

ServingMember = Annotated[StaffMember, require_staff(Role.OFFICER, Role.SUPERVISOR)]
CsrfField = Annotated[str | None, Form(alias="csrf_token")]


def officer_identity_checks(
    container: ContainerDep, contacts: list[dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """For the console: the identity check each video contact was taken for, by ticket id."""
    checks: dict[str, dict[str, Any]] = {}
    for contact in contacts:
        if not contact.get("is_video"):
            continue
        found = identification_service.check_for_ticket(container.identification, contact["id"])
        if found is None:
            continue
        checks[contact["id"]] = {
            "form": found.form,
            "required": LEVEL_LABELS[found.required],
            "reached": LEVEL_LABELS[found.reached],
            "is_done": found.is_done,
            "document": (
                DOCUMENT_LABELS[found.verification.document_type]
                if found.verification and found.verification.document_type
                else None
            ),
        }
    return checks


@router.post("/officer/tickets/{ticket_id}/identity", response_class=HTMLResponse)
def verify_identity(
    request: Request,
    ticket_id: str,
    member: ServingMember,
    container: ContainerDep,
    document_type: Annotated[str, Form(max_length=32)] = "",
    document_suffix: Annotated[str, Form(max_length=16)] = "",
    face_matches: Annotated[str, Form(max_length=8)] = "",
    csrf_token_field: CsrfField = None,
) -> Response:
    """The officer saw the document on camera: record the check (no image is kept)."""
    from loket.web.pages import officer  # officer imports this module for its panel

    check_staff_csrf(request, csrf_token_field)
    assert member.id is not None
    try:
        identification_service.verify_by_officer(
            container.identification,
            ticket_id,
            officer_id=member.id,
            document_type=document_type,
            document_suffix=document_suffix,
            face_matches=face_matches == "yes",
        )
    except DomainError as error:
        entered = {
            ticket_id: {
                "document_type": document_type,
                "document_suffix": document_suffix[:4],
            }
        }
        field = (error.field or "document_type").replace("_", "-")
        return officer._console(
            request,
            member,
            container,
            error=error,
            field_id=f"identity-{field}-{ticket_id}",
            entered=entered,
        )
    return officer._back(request)


# -- helpers ----------------------------------------------------------------------------------


def _continue(
    request: Request,
    container: ContainerDep,
    base: str,
    login: dict[str, Any] | None,
    *,
    failed: bool,
    reason: str = "",
) -> Response:
    """A page that goes on at once (meta refresh, and a link) on this site, where the
    citizen's own cookie is sent again; the login cookie is spent."""
    if failed:
        # The reason is for the log; the citizen reads one message and keeps both routes.
        log.info("online identification refused: %s", reason)
    location = (
        report_pages._home_desk(container)
        if not base
        else report_pages._desk(container, base.removeprefix("/kiosk/"))
    )
    language = str(
        (login or {}).get("language") or citizen.page_language(request, CitizenSession(id="-"))
    )
    target = f"{base}/report/identify?failed=1" if failed else f"{base}/report/check"
    # This request may lack the citizen's cookie: render without touching it.
    session = CitizenSession(id="oidc-callback", language=language)
    response = citizen._page(
        request,
        container,
        "citizen/report_identified.html",
        language,
        location,
        session,
        mode="kiosk" if base else "home",
        remember=False,
        failed=failed,
        next_url=target,
    )
    response.delete_cookie(LOGIN_COOKIE, path="/", secure=True, httponly=True, samesite="lax")
    return response


def _spoken_language(request: Request, session: CitizenSession, location: Location) -> str:
    language = citizen.page_language(request, session)
    if language in location.languages:
        return language
    return location.languages[0] if location.languages else language


def _redirect(request: Request, session: CitizenSession, target: str) -> Response:
    response = RedirectResponse(target, status_code=303)
    store_citizen_session(request, response, session)
    return response


def _csp_allowing(origin: str) -> str:
    from loket.web.app import SECURITY_HEADERS  # the app imports this module's router

    policy = SECURITY_HEADERS["Content-Security-Policy"]
    return policy.replace("form-action 'self'", f"form-action 'self' {origin}")
