"""Staff sign-in in the browser: password, then the authenticator code (or enrolment by QR)."""

from __future__ import annotations

from typing import Annotated

import segno
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from loket.domain.errors import DomainError
from loket.domain.staff import Role, StaffMember
from loket.services import staff as staff_service
from loket.web.deps import ContainerDep, client_address
from loket.web.i18n import negotiate
from loket.web.pages import render
from loket.web.problems import MESSAGES
from loket.web.sessions import (
    STAFF_COOKIE,
    Signer,
    citizen_session,
    clear_cookie,
    csrf_is_valid,
    csrf_token,
    set_cookie,
    store_citizen_session,
)

router = APIRouter(include_in_schema=False)

PENDING_COOKIE = "__Host-loket-pending"
# After both secrets, when an administrator set the password: the step that replaces it.
RENEWAL_COOKIE = "__Host-loket-renewal"
# The step between password and code: long enough to open the app, short enough to expire.
PENDING_SECONDS = 300


class SignInRequired(Exception):
    """A staff page was asked for without a valid sign-in; the handler redirects."""


class PageForbidden(Exception):
    """The signed-in person's role does not include this page; the handler shows a 403."""


def page_member(request: Request) -> StaffMember | None:
    token = request.cookies.get(STAFF_COOKIE)
    if not token:
        return None
    container = request.app.state.container
    return staff_service.staff_for_token(container.staff, token)


def require_staff(*roles: Role):  # type: ignore[no-untyped-def]
    """A page dependency: the signed-in member with one of `roles`."""

    def check(request: Request) -> StaffMember:
        member = page_member(request)
        if member is None:
            raise SignInRequired
        if roles and not member.has_role(*roles):
            raise PageForbidden
        request.state.member = member
        return member

    return Depends(check)


def staff_language(request: Request, member: StaffMember | None) -> str:
    preferred = member.ui_language if member else None
    return negotiate(
        request.headers.get("accept-language"), request.query_params.get("lang") or preferred
    )


def staff_csrf(request: Request) -> str:
    """The CSRF token of a signed-in page: bound to the sign-in token."""
    return csrf_token(request, request.cookies.get(STAFF_COOKIE, ""))


def check_staff_csrf(request: Request, submitted: str | None) -> None:
    if not csrf_is_valid(request, request.cookies.get(STAFF_COOKIE, ""), submitted):
        raise PageForbidden


def home_of(member: StaffMember) -> str:
    """Where a person lands after signing in: the page of their main role."""
    if member.has_role(Role.SUPERVISOR):
        return "/supervisor"
    if member.has_role(Role.OFFICER):
        return "/officer"
    if member.has_role(Role.HOST):
        return "/host"
    if member.has_role(Role.ADMINISTRATOR):
        return "/admin"
    if member.has_role(Role.INTERPRETER):
        return "/interpreter"
    return "/staff/account"


# -- step one: the password ------------------------------------------------------------------


@router.get("/staff/sign-in", response_class=HTMLResponse)
def sign_in_form(request: Request) -> Response:
    member = page_member(request)
    if member is not None:
        return RedirectResponse(home_of(member), status_code=303)
    return _password_page(request, username="", error=None)


@router.post("/staff/sign-in", response_class=HTMLResponse)
def sign_in_password(
    request: Request,
    container: ContainerDep,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token_field: Annotated[str | None, Form(alias="csrf_token")] = None,
) -> Response:
    visitor = citizen_session(request)
    if not csrf_is_valid(request, visitor.id, csrf_token_field):
        return _password_page(request, username=username, error="request.expired_form")
    allowed, _ = request.app.state.sign_in_limiter.allow(client_address(request))
    if not allowed:
        return _password_page(request, username=username, error="request.rate_limited")
    if not username or not password:
        return _password_page(request, username=username, error="auth.missing_fields")
    try:
        checked = staff_service.check_password(
            container.staff, username=username, password=password, address=client_address(request)
        )
    except DomainError as error:
        return _password_page(request, username=username, error=error.code, params=error.params)
    signer: Signer = request.app.state.signer
    now = container.staff.clock.now().timestamp()
    pending = signer.sign(
        "pending",
        {
            "staff_id": checked.staff_id,
            "until": now + PENDING_SECONDS,
            "enrol": checked.needs_enrolment,
        },
    )
    target = "/staff/sign-in/enrol" if checked.needs_enrolment else "/staff/sign-in/code"
    response = RedirectResponse(target, status_code=303)
    set_cookie(response, PENDING_COOKIE, pending, max_age=PENDING_SECONDS)
    return response


# -- step two: the code, or enrolment --------------------------------------------------------


def _pending(request: Request) -> dict[str, object] | None:
    signer: Signer = request.app.state.signer
    data = signer.unsign("pending", request.cookies.get(PENDING_COOKIE))
    if not isinstance(data, dict):
        return None
    now = request.app.state.container.staff.clock.now().timestamp()
    if not isinstance(data.get("until"), (int, float)) or data["until"] < now:
        return None
    return data


@router.get("/staff/sign-in/code", response_class=HTMLResponse)
def code_form(request: Request) -> Response:
    if _pending(request) is None:
        return RedirectResponse("/staff/sign-in", status_code=303)
    return _code_page(request, error=None)


@router.post("/staff/sign-in/code", response_class=HTMLResponse)
def sign_in_code(
    request: Request,
    container: ContainerDep,
    code: Annotated[str, Form(max_length=16)] = "",
    csrf_token_field: Annotated[str | None, Form(alias="csrf_token")] = None,
) -> Response:
    pending = _pending(request)
    if pending is None:
        return RedirectResponse("/staff/sign-in", status_code=303)
    if not csrf_is_valid(request, citizen_session(request).id, csrf_token_field):
        return _code_page(request, error="request.expired_form")
    try:
        signed_in = staff_service.complete_sign_in(
            container.staff,
            staff_id=int(pending["staff_id"]),  # type: ignore[call-overload]
            code=code,
            address=client_address(request),
        )
    except DomainError as error:
        return _code_page(request, error=error.code, params=error.params)
    return _signed_in(signed_in, request)


@router.get("/staff/sign-in/enrol", response_class=HTMLResponse)
def enrol_form(request: Request, container: ContainerDep) -> Response:
    pending = _pending(request)
    if pending is None or not pending.get("enrol"):
        return RedirectResponse("/staff/sign-in", status_code=303)
    return _enrol_page(request, container, int(pending["staff_id"]), error=None)  # type: ignore[call-overload]


@router.post("/staff/sign-in/enrol", response_class=HTMLResponse)
def enrol(
    request: Request,
    container: ContainerDep,
    code: Annotated[str, Form(max_length=16)] = "",
    csrf_token_field: Annotated[str | None, Form(alias="csrf_token")] = None,
) -> Response:
    pending = _pending(request)
    if pending is None or not pending.get("enrol"):
        return RedirectResponse("/staff/sign-in", status_code=303)
    staff_id = int(pending["staff_id"])  # type: ignore[call-overload]
    if not csrf_is_valid(request, citizen_session(request).id, csrf_token_field):
        return _enrol_page(request, container, staff_id, error="request.expired_form")
    try:
        signed_in = staff_service.confirm_enrolment(
            container.staff, staff_id=staff_id, code=code, address=client_address(request)
        )
    except DomainError as error:
        return _enrol_page(request, container, staff_id, error=error.code, params=error.params)
    return _signed_in(signed_in, request)


# -- step three, after an administrator set the password: the person's own ------------------


@router.get("/staff/sign-in/password", response_class=HTMLResponse)
def new_password_form(request: Request) -> Response:
    if _verified(request) is None:
        return RedirectResponse("/staff/sign-in", status_code=303)
    return _new_password_page(request, error=None)


@router.post("/staff/sign-in/password", response_class=HTMLResponse)
def new_password(
    request: Request,
    container: ContainerDep,
    password: Annotated[str, Form(max_length=1024)] = "",
    repeated: Annotated[str, Form(max_length=1024)] = "",
    csrf_token_field: Annotated[str | None, Form(alias="csrf_token")] = None,
) -> Response:
    staff_id = _verified(request)
    if staff_id is None:
        return RedirectResponse("/staff/sign-in", status_code=303)
    if not csrf_is_valid(request, citizen_session(request).id, csrf_token_field):
        return _new_password_page(request, error="request.expired_form")
    if password != repeated:
        return _new_password_page(request, error="staff.passwords_differ")
    try:
        signed_in = staff_service.choose_password(
            container.staff, staff_id=staff_id, password=password, address=client_address(request)
        )
    except DomainError as error:
        return _new_password_page(request, error=error.code, params=error.params)
    response = _signed_in(signed_in, request)
    clear_cookie(response, RENEWAL_COOKIE)
    return response


def _verified(request: Request) -> int | None:
    """The staff id whose password and code were right and whose password must change."""
    signer: Signer = request.app.state.signer
    data = signer.unsign("new-password", request.cookies.get(RENEWAL_COOKIE))
    if not isinstance(data, dict) or not isinstance(data.get("staff_id"), int):
        return None
    now = request.app.state.container.staff.clock.now().timestamp()
    if not isinstance(data.get("until"), (int, float)) or data["until"] < now:
        return None
    return int(data["staff_id"])


def _signed_in(
    signed_in: staff_service.SignedIn | staff_service.NewPasswordNeeded, request: Request
) -> Response:
    if isinstance(signed_in, staff_service.NewPasswordNeeded):
        signer: Signer = request.app.state.signer
        until = request.app.state.container.staff.clock.now().timestamp() + PENDING_SECONDS
        verified = signer.sign("new-password", {"staff_id": signed_in.staff_id, "until": until})
        response = RedirectResponse("/staff/sign-in/password", status_code=303)
        set_cookie(response, RENEWAL_COOKIE, verified, max_age=PENDING_SECONDS)
        clear_cookie(response, PENDING_COOKIE)
        return response
    response = RedirectResponse(home_of(signed_in.member), status_code=303)
    lifetime = int(staff_service.TOKEN_LIFETIME.total_seconds())
    set_cookie(response, STAFF_COOKIE, signed_in.token, max_age=lifetime)
    clear_cookie(response, PENDING_COOKIE)
    return response


# -- signing out -----------------------------------------------------------------------------


@router.post("/staff/sign-out")
def sign_out(
    request: Request,
    container: ContainerDep,
    everywhere: Annotated[str | None, Form()] = None,
    csrf_token_field: Annotated[str | None, Form(alias="csrf_token")] = None,
) -> Response:
    token = request.cookies.get(STAFF_COOKIE)
    if token:
        check_staff_csrf(request, csrf_token_field)
        staff_service.sign_out(container.staff, token, everywhere=everywhere == "yes")
    response = RedirectResponse("/staff/sign-in", status_code=303)
    clear_cookie(response, STAFF_COOKIE)
    return response


# -- rendering -------------------------------------------------------------------------------


def _visitor_page(
    request: Request, template: str, *, error_code: str | None = None, **context: object
) -> Response:
    """Render a sign-in step with a CSRF token bound to the visitor's anonymous cookie.

    A step shown again because of an error answers with that error's status (401, 429…),
    so that monitoring and scripts see the failure too.
    """
    visitor = citizen_session(request)
    language = staff_language(request, None)
    status = MESSAGES.get(error_code, (200, ""))[0] if error_code else 200
    response = render(
        request,
        template,
        language,
        status_code=status,
        personal=True,
        csrf=csrf_token(request, visitor.id),
        **context,
    )
    store_citizen_session(request, response, visitor)
    return response


def _error_text(
    code: str | None, params: dict[str, object] | None
) -> tuple[str, dict[str, object]] | None:
    if code is None:
        return None
    message = MESSAGES.get(code, MESSAGES["auth.failed"])[1]
    return message, {key: value for key, value in (params or {}).items()}


def _password_page(
    request: Request, *, username: str, error: str | None, params: dict[str, object] | None = None
) -> Response:
    return _visitor_page(
        request,
        "staff/sign_in.html",
        error_code=error,
        username=username,
        error=_error_text(error, params),
    )


def _code_page(
    request: Request, *, error: str | None, params: dict[str, object] | None = None
) -> Response:
    return _visitor_page(
        request, "staff/sign_in_code.html", error_code=error, error=_error_text(error, params)
    )


def _new_password_page(
    request: Request, *, error: str | None, params: dict[str, object] | None = None
) -> Response:
    return _visitor_page(
        request,
        "staff/new_password.html",
        error_code=error,
        error=_error_text(error, params),
        minimum=staff_service.MIN_PASSWORD_LENGTH,
    )


def _enrol_page(
    request: Request,
    container: ContainerDep,
    staff_id: int,
    *,
    error: str | None,
    params: dict[str, object] | None = None,
) -> Response:
    enrolment = staff_service.start_enrolment(container.staff, staff_id)
    qr = segno.make(enrolment.uri, error="m")
    # Inline SVG: no request for an image, and the secret never reaches a URL or a log.
    svg = Markup(qr.svg_inline(scale=5, dark="#0b0c0c", light="#ffffff", omitsize=False))  # noqa: S704 - made by segno from our own URI
    return _visitor_page(
        request,
        "staff/enrol.html",
        error_code=error,
        qr_svg=svg,
        secret=" ".join(enrolment.secret[i : i + 4] for i in range(0, len(enrolment.secret), 4)),
        error=_error_text(error, params),
    )
