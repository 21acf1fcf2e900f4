"""Interpreters in video calls: the officer's invitation (an account or a one-time link), the
interpreter's list of invitations (`/interpreter`), and the interpreter's call page, reached
from that list or from a link (`/interpret/{code}`).

A link's code is a bearer secret shown once to the officer. Opening it binds the invitation
to that browser (a random secret in a cookie, stored only as a hash): a reload rejoins, a
second browser is refused.
"""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from loket.adapters.events.hub import in_thread
from loket.domain.calls import CallRole
from loket.domain.errors import DomainError, Invalid
from loket.domain.i18n import N_
from loket.domain.invitations import INVITATION_TTL
from loket.domain.staff import Role, StaffMember
from loket.services import calls as call_service
from loket.web.call_signalling import remove_participant
from loket.web.deps import ContainerDep, client_address
from loket.web.i18n import gettext_for
from loket.web.pages import render
from loket.web.pages.calls import OFFICER_WORDS, _refused, _token_response
from loket.web.pages.staff_auth import (
    check_staff_csrf,
    require_staff,
    staff_csrf,
    staff_language,
)
from loket.web.problems import MESSAGES
from loket.web.sessions import csrf_is_valid, csrf_token

router = APIRouter(include_in_schema=False)

ServingMember = Annotated[StaffMember, require_staff(Role.OFFICER, Role.SUPERVISOR)]
InterpreterMember = Annotated[StaffMember, require_staff(Role.INTERPRETER)]
CsrfField = Annotated[str | None, Form(alias="csrf_token")]
HOLDER_COOKIE = "__Host-loket-interpreter"

INTERPRETER_WORDS = OFFICER_WORDS | {
    "no_camera": N_("No camera found: the others hear you but do not see you."),
    "denied": N_(
        "The browser does not allow this page to use the camera and microphone. Allow them in "
        "the browser's settings and try again."
    ),
    "no_devices": N_("No microphone found. Connect a headset and open the call again."),
    "waiting": N_("Waiting for the officer and the citizen…"),
    "ended": N_("You have left the call."),
    "peer_muted": N_("The officer's microphone is off."),
    "peer_camera_off": N_("The officer's camera is off."),
}


# -- the officer invites ----------------------------------------------------------------------


@router.get("/officer/calls/{ticket_id}/interpreters", response_class=HTMLResponse)
def interpreter_choices(
    request: Request, member: ServingMember, container: ContainerDep
) -> Response:
    """The choices of the invitation form: interpreters' accounts with their languages."""
    return render(
        request,
        "calls/_interpreter_choices.html",
        staff_language(request, member),
        personal=True,
        interpreters=call_service.interpreters(container.calls),
    )


@router.post("/officer/calls/{ticket_id}/interpreter")
def invite(
    request: Request,
    ticket_id: str,
    member: ServingMember,
    container: ContainerDep,
    interpreter: Annotated[str, Form()] = "",
    csrf_token_field: CsrfField = None,
) -> Response:
    """Invite an interpreter's account, or make a one-time link (shown in this answer only)."""
    check_staff_csrf(request, csrf_token_field)
    assert member.id is not None
    try:
        if interpreter != "link" and not interpreter.isdigit():
            raise Invalid("invitation.not_interpreter", field="interpreter")
        staff_id = None if interpreter == "link" else int(interpreter)
        made = call_service.invite_interpreter(container.calls, member.id, ticket_id, staff_id)
    except DomainError as error:
        return _refused(request, error)
    body: dict[str, object] = {
        "kind": made.invitation.kind.value,
        "expires_minutes": int(INVITATION_TTL.total_seconds() // 60),
    }
    if made.code is not None:
        body["link"] = f"{str(request.base_url).rstrip('/')}/interpret/{made.code}"
    return JSONResponse(body, headers={"Cache-Control": "no-store"})


@router.post("/officer/calls/{ticket_id}/interpreter/remove")
async def remove(
    request: Request,
    ticket_id: str,
    member: ServingMember,
    container: ContainerDep,
    csrf_token_field: CsrfField = None,
) -> Response:
    """Withdraw the invitation and put the interpreter out of the call; the call goes on."""
    check_staff_csrf(request, csrf_token_field)
    assert member.id is not None
    try:
        revoked = await in_thread(
            call_service.revoke_interpreter, container.calls, member.id, ticket_id
        )
    except DomainError as error:
        return _refused(request, error)
    await remove_participant(container, ticket_id, CallRole.INTERPRETER)
    return JSONResponse({"removed": len(revoked)}, headers={"Cache-Control": "no-store"})


# -- an interpreter with an account -----------------------------------------------------------


@router.get("/interpreter", response_class=HTMLResponse)
def interpreter_home(
    request: Request, member: InterpreterMember, container: ContainerDep
) -> Response:
    """The interpreter's open invitations; interpreter-home.js refreshes the list."""
    return _invitations(request, member, container, "interpreter/home.html")


@router.get("/interpreter/invitations", response_class=HTMLResponse)
def interpreter_invitations(
    request: Request, member: InterpreterMember, container: ContainerDep
) -> Response:
    return _invitations(request, member, container, "interpreter/_invitations.html")


def _invitations(
    request: Request, member: StaffMember, container: ContainerDep, template: str
) -> Response:
    assert member.id is not None
    return render(
        request,
        template,
        staff_language(request, member),
        personal=True,
        member=member,
        csrf=staff_csrf(request),
        invitations=call_service.open_invitations(container.calls, member.id),
    )


@router.get("/interpreter/calls/{invitation_id}", response_class=HTMLResponse)
def account_call_page(
    request: Request, invitation_id: str, member: InterpreterMember, container: ContainerDep
) -> Response:
    language = staff_language(request, member)
    try:
        invitation, ticket = call_service.interpreter_invitation(container.calls, invitation_id)
        if invitation.staff_id != member.id:
            raise DomainError("invitation.not_yours")
    except DomainError as error:
        return _refused_page(request, language, error)
    return _call_page(
        request,
        language,
        member=member,
        csrf=staff_csrf(request),
        token_url=f"/interpreter/calls/{invitation.id}/token",
        number=ticket.number,
    )


@router.post("/interpreter/calls/{invitation_id}/token")
def account_token(
    request: Request,
    invitation_id: str,
    member: InterpreterMember,
    container: ContainerDep,
    csrf_token_field: CsrfField = None,
) -> Response:
    check_staff_csrf(request, csrf_token_field)
    try:
        issued = call_service.issue_interpreter_token(
            container.calls, invitation_id, staff_id=member.id
        )
    except DomainError as error:
        return _refused(request, error)
    return _token_response(issued)


# -- an interpreter with a one-time link ------------------------------------------------------


@router.get("/interpret/{code}", response_class=HTMLResponse)
def link_call_page(request: Request, code: str, container: ContainerDep) -> Response:
    """Open a one-time link: bind it to this browser and show the call page. Rate limited
    per address, as the citizen's call token: the code is long, and this keeps anyone from
    trying."""
    language = staff_language(request, None)
    holder = request.cookies.get(HOLDER_COOKIE) or secrets.token_urlsafe(32)
    allowed, retry_after = request.app.state.call_token_limiter.allow(client_address(request))
    try:
        if not allowed:
            raise DomainError("request.rate_limited", retry_after=retry_after)
        if not 20 <= len(code) <= 64:
            raise DomainError("invitation.unusable")
        invitation = call_service.accept_link(container.calls, code, holder)
        ticket = call_service.interpreter_invitation(container.calls, invitation.id)[1]
    except DomainError as error:
        return _refused_page(request, language, error)
    response = _call_page(
        request,
        language,
        member=None,
        csrf=csrf_token(request, holder),
        token_url=f"/interpret/calls/{invitation.id}/token",
        number=ticket.number,
    )
    # Lax, not strict: the link is opened from a mail or a chat, another site.
    response.set_cookie(HOLDER_COOKIE, holder, path="/", secure=True, httponly=True, samesite="lax")
    return response


@router.post("/interpret/calls/{invitation_id}/token")
def link_token(
    request: Request,
    invitation_id: str,
    container: ContainerDep,
    csrf_token_field: CsrfField = None,
) -> Response:
    """A call token for the browser that opened the link (its cookie) and no other."""
    holder = request.cookies.get(HOLDER_COOKIE)
    if not holder or not csrf_is_valid(request, holder, csrf_token_field):
        return _refused(request, DomainError("request.expired_form"))
    try:
        issued = call_service.issue_interpreter_token(container.calls, invitation_id, holder=holder)
    except DomainError as error:
        return _refused(request, error)
    return _token_response(issued)


# -- the pages --------------------------------------------------------------------------------


def _call_page(
    request: Request,
    language: str,
    *,
    member: StaffMember | None,
    csrf: str,
    token_url: str,
    number: str,
) -> Response:
    translate = render_words(language)
    return render(
        request,
        "interpreter/call.html",
        language,
        personal=True,
        member=member,
        csrf=csrf,
        token_url=token_url,
        number=number,
        call_role="interpreter",
        call_text=translate,
    )


def render_words(language: str) -> dict[str, str]:
    translate = gettext_for(language).gettext
    return {key: translate(value) for key, value in INTERPRETER_WORDS.items()}


def _refused_page(request: Request, language: str, error: DomainError) -> Response:
    status, message = MESSAGES.get(error.code, (409, error.code))
    text = gettext_for(language).gettext(message) % {k: v for k, v in error.params.items()}
    return render(
        request,
        "interpreter/refused.html",
        language,
        status_code=status,
        personal=True,
        member=None,
        message=text,
    )
