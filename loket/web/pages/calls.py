"""Call pages and call tokens: the citizen's call page (device check, waiting room, call),
the token each side's page fetches before it opens /ws/calls, and the supervisor's list of
running calls with their quality.

A token is handed out only to a participant: the officer holding the video contact (staff
sign-in) or whoever holds the ticket id (the citizen's bearer key, as for /t/{id}).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from loket.domain.calls import CallRole, CallState
from loket.domain.errors import DomainError, Refused
from loket.domain.i18n import N_
from loket.domain.staff import Role, StaffMember
from loket.services import calls as call_service
from loket.services import locations as location_service
from loket.services import queue as queue_service
from loket.services.calls import IssuedToken
from loket.web.deps import ContainerDep, client_address
from loket.web.i18n import gettext_for
from loket.web.pages import citizen, render
from loket.web.pages.staff_auth import check_staff_csrf, require_staff, staff_language
from loket.web.problems import MESSAGES, language_of
from loket.web.sessions import citizen_session, csrf_is_valid

router = APIRouter(include_in_schema=False)

ServingMember = Annotated[StaffMember, require_staff(Role.OFFICER, Role.SUPERVISOR)]
SupervisorMember = Annotated[StaffMember, require_staff(Role.SUPERVISOR)]
CsrfField = Annotated[str | None, Form(alias="csrf_token")]
NO_STORE = {"Cache-Control": "no-store"}

CALL_STATES = {
    CallState.WAITING: N_("Waiting for the other side"),
    CallState.CONNECTING: N_("Connecting"),
    CallState.ACTIVE: N_("In the call"),
    CallState.RECONNECTING: N_("Reconnecting"),
    CallState.ENDED: N_("Ended"),
}


# -- tokens -----------------------------------------------------------------------------------


@router.post("/officer/calls/{ticket_id}/token")
def officer_token(
    request: Request,
    ticket_id: str,
    member: ServingMember,
    container: ContainerDep,
    csrf_token_field: CsrfField = None,
) -> Response:
    """A call token for the officer serving this video contact (JSON, never cached)."""
    check_staff_csrf(request, csrf_token_field)
    assert member.id is not None
    try:
        issued = call_service.issue_officer_token(container.calls, member.id, ticket_id)
    except DomainError as error:
        return _refused(request, error)
    return _token_response(issued)


@router.post("/t/{ticket_id}/call/token")
def citizen_token(
    request: Request,
    ticket_id: str,
    container: ContainerDep,
    csrf_token_field: CsrfField = None,
) -> Response:
    """A call token for whoever holds the ticket. Rate limited per address: the ticket id is
    unguessable, and this keeps anyone from trying."""
    session = citizen_session(request)
    if not csrf_is_valid(request, session.id, csrf_token_field):
        return _refused(request, DomainError("request.expired_form"))
    allowed, retry_after = request.app.state.call_token_limiter.allow(client_address(request))
    try:
        if not allowed:
            raise DomainError("request.rate_limited", retry_after=retry_after)
        citizen.check_ticket_id(ticket_id)
        issued = call_service.issue_citizen_token(container.calls, ticket_id)
    except DomainError as error:
        return _refused(request, error)
    return _token_response(issued)


def _token_response(issued: IssuedToken) -> Response:
    return JSONResponse(
        {"token": issued.token, "expires_at": issued.grant.expires_at.isoformat()},
        headers=NO_STORE,
    )


def _refused(request: Request, error: DomainError) -> Response:
    status, message = MESSAGES.get(error.code, (409, error.code))
    text = gettext_for(language_of(request)).gettext(message)
    return JSONResponse({"code": error.code, "message": text}, status_code=status, headers=NO_STORE)


# -- the citizen's call page ------------------------------------------------------------------


@router.get("/t/{ticket_id}/call", response_class=HTMLResponse)
def call_page(request: Request, ticket_id: str, container: ContainerDep) -> Response:
    """Device check, waiting room (the ticket's status) and the call, for a video ticket.

    `?mode=kiosk` is the booth: full screen, and it joins by itself.
    """
    found = citizen.ticket_status(container, ticket_id)
    if found.ticket.service_code != call_service.VIDEO_SERVICE:
        raise Refused("call.not_video", ticket=found.ticket.number)
    location = location_service.get_location(container.queue, found.location_slug)
    kiosk = request.query_params.get("mode") == "kiosk"
    session = citizen_session(request)
    return citizen.citizen_page(
        request,
        container,
        "citizen/call.html",
        location,
        session,
        mode="kiosk" if kiosk else "phone",
        ticket_id=ticket_id,
        is_booth=kiosk,
        call_role="citizen",
        call_text=_call_text(request, session),
        **citizen.status_context(found, location, "kiosk" if kiosk else "phone"),
        **citizen.identity_context(container, session, location, found.ticket),
    )


# The words call-ui.js shows, by key; each side names the other in its own way.
CALL_WORDS = {
    "no_camera": N_(
        "We found no camera. You can still talk with the officer: the call will be sound only."
    ),
    "denied": N_(
        "Your browser does not allow this page to use the camera and microphone. Allow them "
        "in your browser's settings and try again, or call the police on 0900-8844."
    ),
    "no_devices": N_("We found no microphone. Connect one, or call the police on 0900-8844."),
    "waiting": N_("Waiting for the officer…"),
    "connecting": N_("Connecting…"),
    "active": N_("You are in the call."),
    "reconnecting": N_("The connection was lost. Reconnecting…"),
    "ended": N_("The call has ended."),
    "failed": N_("We could not connect the call. Please try again."),
    "audio_only": N_("The connection is weak: the call continues with sound only."),
    "camera_on": N_("Camera"),
    "unmuted": N_("Microphone"),
    "peer_muted": N_("The officer's microphone is off."),
    "peer_camera_off": N_("The officer's camera is off."),
}
OFFICER_WORDS = CALL_WORDS | {
    "no_camera": N_("No camera found: the citizen hears you but does not see you."),
    "denied": N_("The browser does not allow the console to use the camera and microphone."),
    "no_devices": N_("No microphone found. Connect a headset and accept the contact again."),
    "waiting": N_("Waiting for the citizen to join…"),
    "peer_muted": N_("The citizen's microphone is off."),
    "peer_camera_off": N_("The citizen's camera is off."),
}


def _call_text(request: Request, session: Any) -> dict[str, str]:
    translate = gettext_for(citizen.page_language(request, session)).gettext
    return {key: translate(value) for key, value in CALL_WORDS.items()}


def officer_call_text(translate: Any) -> dict[str, str]:
    """The officer console's call words (the console renders them as JSON)."""
    return {key: translate(value) for key, value in OFFICER_WORDS.items()}


# -- the supervisor's view --------------------------------------------------------------------


@router.get("/supervisor/calls", response_class=HTMLResponse)
def running_calls(request: Request, member: SupervisorMember, container: ContainerDep) -> Response:
    """Running calls (on every node) and their latest quality, for supervisor-calls.js."""
    return render(
        request,
        "supervisor/_calls.html",
        staff_language(request, member),
        personal=True,
        calls=calls_view(container),
    )


def calls_view(container: ContainerDep) -> list[dict[str, Any]]:
    tickets = {t.id: t for t in queue_service.queue_view(container.queue).tickets}
    now = container.call_board.now()
    rows = []
    for call in call_service.running_calls(container.call_board, container.call_board_share):
        ticket = tickets.get(call.call_id)
        sides = []
        for role in (CallRole.CITIZEN, CallRole.OFFICER):
            sample = call.quality.get(role)
            sides.append(
                {
                    "role": role.value,
                    "rtt": _rounded(sample.rtt_ms) if sample else None,
                    "loss": _rounded(sample.loss_percent, 1) if sample else None,
                    "bitrate": _rounded(sample.bitrate_kbps) if sample else None,
                    "audio_only": bool(sample and sample.audio_only),
                    "is_poor": bool(sample and _is_poor(sample.rtt_ms, sample.loss_percent)),
                }
            )
        rows.append(
            {
                "id": call.call_id,
                "number": ticket.number if ticket else "",
                "state": call.state.value,
                "state_label": CALL_STATES[call.state],
                "minutes": _minutes(call.started_at, now),
                "sides": sides,
            }
        )
    return rows


def _is_poor(rtt: float | None, loss: float | None) -> bool:
    # ITU-T G.114: beyond ~400 ms one-way talk becomes hard; 5 % loss makes video stutter.
    return (rtt is not None and rtt > 400) or (loss is not None and loss > 5)


def _rounded(value: float | None, digits: int = 0) -> float | int | None:
    if value is None:
        return None
    return round(value, digits) if digits else round(value)


def _minutes(start: datetime | None, now: datetime) -> int:
    return 0 if start is None else max(0, int((now - start).total_seconds() // 60))
