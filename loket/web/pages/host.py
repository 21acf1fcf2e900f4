"""The host on site: calls for help from the kiosks and the desk's local queue, live.

Also the kiosk's "Call the host" button posts here, so the whole help flow is one module.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from loket.domain.catalogue import service_by_code
from loket.domain.errors import DomainError, NotFound, Refused
from loket.domain.help import MAX_KIOSK_LENGTH, HelpRequest
from loket.domain.i18n import N_
from loket.domain.locations import Location, LocationKind
from loket.domain.staff import Role, StaffMember
from loket.services import help as help_service
from loket.services import locations as location_service
from loket.services import queue as queue_service
from loket.web.deps import ContainerDep, client_address
from loket.web.pages import render
from loket.web.pages.staff_auth import check_staff_csrf, require_staff, staff_csrf, staff_language
from loket.web.problems import MESSAGES
from loket.web.ratelimit import RateLimiter
from loket.web.sessions import citizen_session, csrf_is_valid

router = APIRouter(include_in_schema=False)

HostMember = Annotated[StaffMember, require_staff(Role.HOST, Role.SUPERVISOR)]

# Presses of "Call the host" per address and minute. A second press while a call is open
# joins it anyway; the limit stops a script from alerting the host over and over.
HELP_PER_MINUTE = 10

TICKET_STATES = {
    "waiting": N_("Waiting"),
    "offered": N_("Being offered"),
    "in_service": N_("In a call"),
    "on_hold": N_("On hold"),
    "transferred": N_("Being transferred"),
    "finished": N_("Finished"),
    "no_show": N_("Did not show up"),
    "cancelled": N_("Cancelled"),
}
HELP_STATES = {
    "open": N_("Waiting for a host"),
    "acknowledged": N_("Host on the way"),
    "resolved": N_("Helped"),
}


# -- the kiosk's button ----------------------------------------------------------------------


def help_limiter(request: Request) -> RateLimiter:
    limiter: RateLimiter | None = getattr(request.app.state, "help_limiter", None)
    if limiter is None:
        limiter = RateLimiter(HELP_PER_MINUTE)
        request.app.state.help_limiter = limiter
    return limiter


@router.post("/kiosk/{slug}/help")
def call_the_host(
    request: Request,
    slug: str,
    container: ContainerDep,
    kiosk: Annotated[str | None, Form(max_length=MAX_KIOSK_LENGTH)] = None,
    csrf_token_field: Annotated[str | None, Form(alias="csrf_token")] = None,
) -> Response:
    """A citizen at a kiosk asks for the host; the kiosk page then says help is coming."""
    if not csrf_is_valid(request, citizen_session(request).id, csrf_token_field):
        raise Refused("request.expired_form")
    allowed, retry_after = help_limiter(request).allow(client_address(request))
    if not allowed:
        raise Refused("request.rate_limited", retry_after=retry_after)
    help_service.request_help(container.queue, location_slug=slug, kiosk=kiosk)
    return RedirectResponse(f"/kiosk/{slug}?helped=1", status_code=303)


# -- the host's pages ------------------------------------------------------------------------


@router.get("/host", response_class=HTMLResponse)
def choose_desk(request: Request, member: HostMember, container: ContainerDep) -> Response:
    # The online desk has no hall and no kiosk, so no host either.
    locations = [
        location
        for location in location_service.list_locations(container.queue)
        if location.kind is not LocationKind.ONLINE
    ]
    calls: dict[int, int] = {}
    for call in help_service.active_help(container.queue):
        calls[call.location_id] = calls.get(call.location_id, 0) + 1
    waiting: dict[int, int] = {}
    for ticket in queue_service.queue_view(container.queue).tickets:
        if ticket.state.value == "waiting":
            waiting[ticket.location_id] = waiting.get(ticket.location_id, 0) + 1
    return render(
        request,
        "host/index.html",
        staff_language(request, member),
        member=member,
        csrf=staff_csrf(request),
        desks=[
            {
                "location": location,
                "calls": calls.get(location.id or 0, 0),
                "waiting": waiting.get(location.id or 0, 0),
            }
            for location in locations
        ],
    )


@router.get("/host/{slug}", response_class=HTMLResponse)
def desk_page(request: Request, slug: str, member: HostMember, container: ContainerDep) -> Response:
    return _desk_page(request, slug, member, container, error=None)


@router.get("/host/{slug}/live", response_class=HTMLResponse)
def desk_fragment(
    request: Request, slug: str, member: HostMember, container: ContainerDep
) -> Response:
    """The live part of the desk page, re-rendered for the page's script on every event."""
    return render(
        request,
        "host/_live.html",
        staff_language(request, member),
        csrf=staff_csrf(request),
        **_desk_context(container, slug),
    )


@router.post("/host/{slug}/help/{help_id}/acknowledge", response_class=HTMLResponse)
def acknowledge(
    request: Request,
    slug: str,
    help_id: str,
    member: HostMember,
    container: ContainerDep,
    csrf_token_field: Annotated[str | None, Form(alias="csrf_token")] = None,
) -> Response:
    check_staff_csrf(request, csrf_token_field)
    return _answer(request, slug, member, container, help_id, help_service.acknowledge_help)


@router.post("/host/{slug}/help/{help_id}/resolve", response_class=HTMLResponse)
def resolve(
    request: Request,
    slug: str,
    help_id: str,
    member: HostMember,
    container: ContainerDep,
    csrf_token_field: Annotated[str | None, Form(alias="csrf_token")] = None,
) -> Response:
    check_staff_csrf(request, csrf_token_field)
    return _answer(request, slug, member, container, help_id, help_service.resolve_help)


def _answer(
    request: Request,
    slug: str,
    member: StaffMember,
    container: ContainerDep,
    help_id: str,
    step: Any,
) -> Response:
    assert member.id is not None
    try:
        step(container.queue, member.id, help_id)
    except DomainError as error:
        return _desk_page(request, slug, member, container, error=error)
    return RedirectResponse(f"/host/{slug}", status_code=303)


def _desk_page(
    request: Request,
    slug: str,
    member: StaffMember,
    container: ContainerDep,
    *,
    error: DomainError | None,
) -> Response:
    context = _desk_context(container, slug)
    status = 200
    shown = None
    if error is not None:
        status, message = MESSAGES.get(error.code, (409, error.code))
        shown = (message, error.params)
    return render(
        request,
        "host/desk.html",
        staff_language(request, member),
        status_code=status,
        member=member,
        csrf=staff_csrf(request),
        error=shown,
        **context,
    )


def _desk_context(container: ContainerDep, slug: str) -> dict[str, Any]:
    location = location_service.get_location(container.queue, slug)
    board = queue_service.location_board(container.queue, slug)
    now = container.queue.clock.now()
    return {
        "location": location,
        "help_requests": [
            _call_view(call, location, now)
            for call in help_service.active_help(container.queue, slug)
        ],
        "waiting": [
            {
                "number": ticket.number,
                "service": _service_title(ticket.service_code),
                "language": ticket.language,
                "minutes": _minutes(now, ticket.taken_at),
            }
            for ticket in board.waiting
        ],
        "called": [
            {
                "number": ticket.number,
                "state": TICKET_STATES.get(ticket.state, ticket.state),
                "called_at": _local_time(ticket.called_at, location),
            }
            for ticket in board.called
        ],
        "help_states": HELP_STATES,
    }


def _call_view(call: HelpRequest, location: Location, now: datetime) -> dict[str, Any]:
    return {
        "id": call.id,
        "kiosk": call.kiosk,
        "state": call.state.value,
        "is_open": call.state.value == "open",
        "requested_at": _local_time(call.requested_at, location),
        "minutes": _minutes(now, call.requested_at),
    }


def _service_title(code: str) -> str:
    try:
        return service_by_code(code).title
    except NotFound:
        return code


def _minutes(now: datetime, since: datetime) -> int:
    return max(0, int((now - since).total_seconds() // 60))


def _local_time(moment: datetime | None, location: Location) -> str:
    return "" if moment is None else moment.astimezone(location.zone).strftime("%H:%M")
