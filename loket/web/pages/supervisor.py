"""The supervisor's board: every desk's queue, every officer, the service level; reassign, live.

Like the officer console it is plain forms that post and redirect; supervisor.js re-renders
the live part (GET /supervisor/live) on every event of the staff stream.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from loket.domain.errors import DomainError, Invalid
from loket.domain.staff import Role, StaffMember
from loket.domain.tickets import TicketState
from loket.services import board as board_service
from loket.services import queue as queue_service
from loket.services import staff as staff_service
from loket.web.deps import ContainerDep
from loket.web.i18n import LANGUAGES, gettext_for
from loket.web.pages import render
from loket.web.pages.calls import calls_view
from loket.web.pages.officer import (
    CHOOSABLE_STATUSES,
    SERVICE_TITLES,
    STATUS_LABELS,
    TICKET_STATES,
    choosable_status,
    duration_text,
    local_time,
    seconds_between,
)
from loket.web.pages.staff_auth import check_staff_csrf, require_staff, staff_csrf, staff_language
from loket.web.problems import MESSAGES

router = APIRouter(include_in_schema=False)

SupervisorMember = Annotated[StaffMember, require_staff(Role.SUPERVISOR)]
CsrfField = Annotated[str | None, Form(alias="csrf_token")]


@router.get("/supervisor", response_class=HTMLResponse)
def board_page(request: Request, member: SupervisorMember, container: ContainerDep) -> Response:
    return _board_page(request, member, container)


@router.get("/supervisor/live", response_class=HTMLResponse)
def board_fragment(request: Request, member: SupervisorMember, container: ContainerDep) -> Response:
    """The live part of the board, re-rendered for supervisor.js on every event."""
    target, _ = _target(request)
    return render(
        request,
        "supervisor/_live.html",
        staff_language(request, member),
        personal=True,
        **_live_context(request, container, target),
    )


@router.post("/supervisor/tickets/{ticket_id}/reassign", response_class=HTMLResponse)
def reassign(
    request: Request,
    ticket_id: str,
    member: SupervisorMember,
    container: ContainerDep,
    to_officer: Annotated[str, Form(max_length=64)] = "",
    csrf_token_field: CsrfField = None,
) -> Response:
    """Move a ticket to a named officer (an offer they see at once) or back to the queue."""
    check_staff_csrf(request, csrf_token_field)
    assert member.id is not None
    try:
        to_id = None
        if to_officer:
            to_id = staff_service.find_staff(container.staff, to_officer).id
        queue_service.reassign_ticket(container.queue, member.id, ticket_id, to_officer_id=to_id)
    except DomainError as error:
        return _board_page(
            request, member, container, error=error, field_id=f"reassign-to-{ticket_id}"
        )
    return _back(request)


@router.post("/supervisor/officers/{username}/status", response_class=HTMLResponse)
def officer_status(
    request: Request,
    username: str,
    member: SupervisorMember,
    container: ContainerDep,
    status: Annotated[str, Form(max_length=16)] = "",
    csrf_token_field: CsrfField = None,
) -> Response:
    check_staff_csrf(request, csrf_token_field)
    try:
        chosen = choosable_status(status)
        target = staff_service.find_staff(container.staff, username)
        assert target.id is not None
        queue_service.set_officer_status(container.queue, target.id, chosen)
    except DomainError as error:
        return _board_page(
            request, member, container, error=error, field_id=f"status-of-{username}"
        )
    return _back(request)


# -- rendering -------------------------------------------------------------------------------


def _board_page(
    request: Request,
    member: StaffMember,
    container: ContainerDep,
    *,
    error: DomainError | None = None,
    field_id: str | None = None,
) -> Response:
    language = staff_language(request, member)
    target, target_error = _target(request)
    if error is None and target_error is not None:
        error, field_id = target_error, "target"
    status_code = 200
    shown = None
    if error is not None:
        status_code, message = MESSAGES.get(error.code, (409, error.code))
        shown = (message, error.params)
    context = _live_context(request, container, target)
    translate = gettext_for(language).gettext
    return render(
        request,
        "supervisor/board.html",
        language,
        status_code=status_code,
        personal=True,
        member=member,
        error=shown,
        field_id=field_id,
        target_entered=request.query_params.get("target", str(int(target.total_seconds() // 60))),
        page_text={
            "query": _query(request),
            "now": context["now_iso"],
            "text": duration_text(translate),
        },
        calls=calls_view(container),
        **context,
    )


def _live_context(request: Request, container: ContainerDep, target: timedelta) -> dict[str, Any]:
    board = board_service.supervisor_board(container.queue, target)
    now = board.at
    names = {o.id: o for o in board.officers}
    desks = {load.location_id: load.name for load in board.locations}
    level = board.service_level
    return {
        "csrf": staff_csrf(request),
        "query": _query(request),
        "now_iso": now.isoformat(),
        "level": level,
        "target_minutes": int(target.total_seconds() // 60),
        "window_hours": int(board_service.WINDOW.total_seconds() // 3600),
        "locations": [
            {
                "code": load.code,
                "name": load.name,
                "waiting": load.waiting,
                "in_contact": load.in_contact,
                "oldest_taken_at": None
                if load.oldest_taken_at is None
                else load.oldest_taken_at.isoformat(),
                "longest_seconds": seconds_between(load.oldest_taken_at, now)
                if load.oldest_taken_at
                else 0,
                "over_target": load.oldest_taken_at is not None
                and now - load.oldest_taken_at > target,
            }
            for load in board.locations
        ],
        "officers": [
            {
                "username": o.username,
                "display_name": o.display_name,
                "status": o.status,
                "since_local": local_time(o.status_since_at),
                "since_iso": None if o.status_since_at is None else o.status_since_at.isoformat(),
                "since_seconds": seconds_between(o.status_since_at, now)
                if o.status_since_at
                else 0,
                "contacts": [t.number for t in board.contacts.get(o.id or 0, [])],
            }
            for o in board.officers
        ],
        "tickets": [
            {
                "id": t.id,
                "number": t.number,
                "desk": desks.get(t.location_id, t.location_code),
                "service": SERVICE_TITLES.get(t.service_code, t.service_code),
                "language": t.language,
                "state": t.state.value,
                "state_label": TICKET_STATES[t.state],
                "officer": names[t.officer_id].display_name if t.officer_id in names else "",
                "officer_username": names[t.officer_id].username if t.officer_id in names else "",
                "is_returned": t.is_returned,
                "taken_at": t.taken_at.isoformat(),
                "waited_seconds": seconds_between(t.taken_at, now),
                # A waiting ticket is already in the queue: it can only go to someone.
                "can_return": t.state is not TicketState.WAITING,
            }
            for t in board.tickets
        ],
        "serving": board.officers,
        "status_labels": STATUS_LABELS,
        "choosable_statuses": CHOOSABLE_STATUSES,
    }


def _target(request: Request) -> tuple[timedelta, DomainError | None]:
    """The target wait from `?target=` (minutes), else the default; a bad value is said so."""
    raw = request.query_params.get("target")
    if raw is None or raw == "":
        return board_service.DEFAULT_TARGET, None
    minimum, maximum = board_service.MIN_TARGET_MINUTES, board_service.MAX_TARGET_MINUTES
    if raw.isdigit() and minimum <= int(raw) <= maximum:
        return timedelta(minutes=int(raw)), None
    error = Invalid("board.invalid_target", field="target", minimum=minimum, maximum=maximum)
    return board_service.DEFAULT_TARGET, error


def _query(request: Request) -> str:
    """The board's own settings (language, target) kept across posts and live refreshes."""
    parts = []
    chosen = request.query_params.get("lang")
    if chosen in LANGUAGES:
        parts.append(f"lang={chosen}")
    target, error = _target(request)
    if error is None and target != board_service.DEFAULT_TARGET:
        parts.append(f"target={int(target.total_seconds() // 60)}")
    return "?" + "&".join(parts) if parts else ""


def _back(request: Request) -> Response:
    return RedirectResponse(f"/supervisor{_query(request)}", status_code=303)
