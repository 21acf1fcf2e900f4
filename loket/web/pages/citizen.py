"""Citizen pages: the kiosk at a desk, the online desk at home, and following a ticket by phone.

Nothing here identifies the citizen. Their browser carries an anonymous session (language,
the ticket they took); the kiosk throws it away after inactivity or when they finish.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from math import ceil
from typing import Annotated, Any

import segno
from babel.dates import format_date, format_time, get_datetime_format
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from loket.domain import referrals
from loket.domain.catalogue import Channel, Service, ServiceKind, services_for
from loket.domain.errors import DomainError
from loket.domain.i18n import N_
from loket.domain.locations import Location, LocationKind
from loket.domain.reports import Route
from loket.domain.tickets import Ticket, TicketState
from loket.services import assistant as assistant_service
from loket.services import calls as call_service
from loket.services import codraft as codraft_service
from loket.services import identification as identification_service
from loket.services import locations as location_service
from loket.services import queue as queue_service
from loket.services import reports as report_service
from loket.web.deps import ContainerDep, client_address
from loket.web.i18n import LANGUAGES, negotiate
from loket.web.pages import NATIVE_NAMES, render
from loket.web.problems import MESSAGES
from loket.web.sessions import (
    CITIZEN_COOKIE,
    CitizenSession,
    citizen_session,
    clear_cookie,
    csrf_is_valid,
    csrf_token,
    store_citizen_session,
)

router = APIRouter(include_in_schema=False)

ONLINE_DESK = "online"
# What a ticket id looks like (see domain.tickets.new_ticket_id): checked before any lookup.
_TICKET_ID = re.compile(r"^[0-9a-f]{32}$")
# The kiosk warns this long before it starts again, so a citizen who is still reading can stay.
IDLE_WARNING_SECONDS = 20
# Cancelling is allowed while nobody serves the ticket yet (see domain.tickets.TRANSITIONS).
_CANCELLABLE = frozenset({TicketState.WAITING, TicketState.OFFERED})
# English dates in the desk countries' style (12 January, 08:00), not the American one.
_DATE_LOCALES = {"en": "en_GB"}


@dataclass(frozen=True)
class Tile:
    """One large button on the start page: a group of services, or information."""

    key: str
    kinds: frozenset[ServiceKind]
    title: str
    description: str


# The order of the start page: what people come to a police desk for most comes first.
TILES = (
    Tile(
        "report",
        frozenset({ServiceKind.REPORT}),
        N_("File a report"),
        N_("Theft, burglary, vandalism, online fraud or a threat."),
    ),
    Tile(
        "tip",
        frozenset({ServiceKind.TIP}),
        N_("Leave a tip"),
        N_("Tell us about a crime or nuisance, also without your name."),
    ),
    Tile(
        "information",
        frozenset({ServiceKind.INFORMATION}),
        N_("Find information"),
        N_("Answers to common questions about the police and what to do when."),
    ),
    Tile(
        "assistant",
        frozenset({ServiceKind.ASSISTANT}),
        N_("Ask the virtual agent"),
        N_("Ask your question in your own words and language."),
    ),
    Tile(
        "officer",
        frozenset({ServiceKind.VIDEO_CALL}),
        N_("Talk to an officer"),
        N_("By video, without an appointment. Take a ticket and wait for your turn."),
    ),
    Tile(
        "callback",
        frozenset({ServiceKind.CALLBACK}),
        N_("Request a callback"),
        N_("An officer calls you back at a time that suits you."),
    ),
    Tile(
        "careers",
        frozenset(),
        N_("Working at the police"),
        N_("Jobs and training at the police."),
    ),
)
_TILES = {tile.key: tile for tile in TILES}

# Ticket state -> the heading a citizen sees; the details are in the status template.
STATE_HEADINGS = {
    TicketState.WAITING: N_("You are waiting"),
    TicketState.OFFERED: N_("It is almost your turn"),
    TicketState.IN_SERVICE: N_("It is your turn"),
    TicketState.ON_HOLD: N_("Your conversation is on hold"),
    TicketState.TRANSFERRED: N_("You are being passed to another officer"),
    TicketState.FINISHED: N_("Your contact has ended"),
    TicketState.NO_SHOW: N_("Your ticket has lapsed"),
    TicketState.CANCELLED: N_("Your ticket is cancelled"),
}


# -- the kiosk ------------------------------------------------------------------------------


@router.get("/kiosk/{slug}", response_class=HTMLResponse)
def kiosk_start(request: Request, slug: str, container: ContainerDep) -> Response:
    """The language choice for a new citizen; then the services, or why the desk is closed."""
    location = location_service.get_location(container.queue, slug)
    if location.kind is LocationKind.ONLINE:
        return RedirectResponse("/", status_code=303)
    session = citizen_session(request)
    chosen = _chosen_language(request, session)
    if chosen is None:
        return _language_page(request, container, location, session)
    if not _is_open(container, location):
        return _closed_page(request, container, location, session)
    return _home_page(request, container, location, session, mode="kiosk")


@router.get("/kiosk/{slug}/language", response_class=HTMLResponse)
def kiosk_language(request: Request, slug: str, container: ContainerDep) -> Response:
    location = location_service.get_location(container.queue, slug)
    return _language_page(request, container, location, citizen_session(request))


@router.get("/kiosk/{slug}/services/{key}", response_class=HTMLResponse)
def kiosk_service(request: Request, slug: str, key: str, container: ContainerDep) -> Response:
    location = location_service.get_location(container.queue, slug)
    session = citizen_session(request)
    if _chosen_language(request, session) is None:
        # A page left from the previous citizen (the back button after a reset): start over.
        return RedirectResponse(f"/kiosk/{slug}", status_code=303)
    if key != "careers" and not _is_open(container, location):
        return _closed_page(request, container, location, session)
    return _service_page(request, container, location, session, key, mode="kiosk")


@router.post("/kiosk/{slug}/tickets", response_class=HTMLResponse)
def kiosk_take_ticket(
    request: Request,
    slug: str,
    container: ContainerDep,
    service: Annotated[str, Form(max_length=64)] = "",
    language: Annotated[str, Form(max_length=8)] = "",
    idempotency_key: Annotated[str, Form(max_length=200)] = "",
    asked: Annotated[str, Form(max_length=8)] = "",
    csrf_token_field: Annotated[str | None, Form(alias="csrf_token")] = None,
) -> Response:
    location = location_service.get_location(container.queue, slug)
    form = _TicketForm(service, language, idempotency_key, asked == "yes", csrf_token_field)
    return _take_ticket(request, container, location, form, mode="kiosk")


@router.get("/kiosk/{slug}/ticket", response_class=HTMLResponse)
def kiosk_ticket(request: Request, slug: str, container: ContainerDep) -> Response:
    location = location_service.get_location(container.queue, slug)
    session = citizen_session(request)
    if session.ticket_id is None or _chosen_language(request, session) is None:
        return RedirectResponse(f"/kiosk/{slug}", status_code=303)
    return _ticket_page(request, container, location, session, session.ticket_id, mode="kiosk")


@router.get("/kiosk/{slug}/reset")
def kiosk_reset(slug: str, request: Request, container: ContainerDep) -> Response:
    """Forget everything of this citizen: cookies, storage and cache, then a fresh start.

    The browser wipes what Clear-Site-Data names before it follows the redirect; the
    cookie is also deleted the ordinary way for browsers that ignore the header. A report
    being filled in is wiped too, unless the citizen took a code to finish it elsewhere.
    """
    session = citizen_session(request)
    if session.draft_id is not None:
        report_service.discard_kiosk_draft(container.reports, session.draft_id)
    # The chat with the virtual agent goes too, unless an officer is to read it.
    assistant_service.forget_conversation(container.assistant, session.conversation_id)
    response = RedirectResponse(f"/kiosk/{_safe_slug(slug)}", status_code=303)
    response.headers["Clear-Site-Data"] = '"cache", "cookies", "storage"'
    response.headers["Cache-Control"] = "no-store"
    clear_cookie(response, CITIZEN_COOKIE)
    return response


# -- the online desk at home ----------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
def home(request: Request, container: ContainerDep) -> Response:
    location = location_service.get_location(container.queue, ONLINE_DESK)
    session = citizen_session(request)
    if not _is_open(container, location):
        return _closed_page(request, container, location, session, mode="home")
    return _home_page(request, container, location, session, mode="home")


@router.get("/services/{key}", response_class=HTMLResponse)
def home_service(request: Request, key: str, container: ContainerDep) -> Response:
    location = location_service.get_location(container.queue, ONLINE_DESK)
    session = citizen_session(request)
    if key != "careers" and not _is_open(container, location):
        return _closed_page(request, container, location, session, mode="home")
    return _service_page(request, container, location, session, key, mode="home")


@router.post("/tickets", response_class=HTMLResponse)
def home_take_ticket(
    request: Request,
    container: ContainerDep,
    service: Annotated[str, Form(max_length=64)] = "",
    language: Annotated[str, Form(max_length=8)] = "",
    idempotency_key: Annotated[str, Form(max_length=200)] = "",
    asked: Annotated[str, Form(max_length=8)] = "",
    csrf_token_field: Annotated[str | None, Form(alias="csrf_token")] = None,
) -> Response:
    location = location_service.get_location(container.queue, ONLINE_DESK)
    form = _TicketForm(service, language, idempotency_key, asked == "yes", csrf_token_field)
    return _take_ticket(request, container, location, form, mode="home")


# -- following a ticket (on one's own phone) ------------------------------------------------


@router.get("/t/{ticket_id}", response_class=HTMLResponse)
def follow_ticket(request: Request, ticket_id: str, container: ContainerDep) -> Response:
    found = _status(container, ticket_id)
    location = location_service.get_location(container.queue, found.location_slug)
    return _ticket_page(
        request, container, location, citizen_session(request), ticket_id, mode="phone"
    )


@router.get("/t/{ticket_id}/status", response_class=HTMLResponse)
def ticket_status_fragment(request: Request, ticket_id: str, container: ContainerDep) -> Response:
    """The live part of a ticket page, as HTML in the reader's language, for the page's script.

    HTML rather than JSON so plurals and wording come from the same catalogs and template
    as the first render.
    """
    found = _status(container, ticket_id)
    location = location_service.get_location(container.queue, found.location_slug)
    session = citizen_session(request)
    language = page_language(request, session)
    mode = request.query_params.get("mode", "phone")
    return render(
        request,
        "citizen/_ticket_status.html",
        language,
        personal=True,
        **_status_context(found, location, mode if mode in ("kiosk", "home") else "phone"),
        **identity_context(container, session, location, found.ticket),
    )


@router.post("/t/{ticket_id}/cancel", response_class=HTMLResponse)
def cancel_ticket(
    request: Request,
    ticket_id: str,
    container: ContainerDep,
    csrf_token_field: Annotated[str | None, Form(alias="csrf_token")] = None,
) -> Response:
    found = _status(container, ticket_id)
    location = location_service.get_location(container.queue, found.location_slug)
    session = citizen_session(request)
    kiosk = session.ticket_id == ticket_id and location.kind is not LocationKind.ONLINE
    back = f"/kiosk/{location.slug}/ticket" if kiosk else f"/t/{ticket_id}"
    check_form(request, session, csrf_token_field, location, back)
    if found.ticket.state in _CANCELLABLE:
        queue_service.cancel_ticket(container.queue, ticket_id)
    return RedirectResponse(back, status_code=303)


# -- building the pages ---------------------------------------------------------------------


@dataclass(frozen=True)
class _TicketForm:
    service: str
    language: str
    idempotency_key: str
    asked: bool
    csrf: str | None


def _take_ticket(
    request: Request, container: ContainerDep, location: Location, form: _TicketForm, *, mode: str
) -> Response:
    session = citizen_session(request)
    base = base_path(location, mode)
    check_form(request, session, form.csrf, location, base or "/")
    ui_language = page_language(request, session)
    language = form.language or (ui_language if ui_language in location.languages else "")
    if not language:
        # The officers here do not speak the screen's language: ask which one to speak.
        error = ("ticket.language_missing", "language") if form.asked else None
        return _ask_language_page(request, container, location, session, form, mode, error)
    allowed, retry_after = request.app.state.ticket_limiter.allow(client_address(request))
    try:
        if not allowed:
            raise DomainError("request.rate_limited", retry_after=retry_after)
        ticket = queue_service.take_ticket(
            container.queue,
            location_slug=location.slug,
            service_code=form.service,
            language=language,
            channel=Channel.KIOSK.value if mode == "kiosk" else Channel.HOME.value,
            idempotency_key=form.idempotency_key or None,
        )
    except DomainError as error:
        if error.field == "language":
            return _ask_language_page(
                request, container, location, session, form, mode, (error.code, "language")
            )
        return _service_page(
            request,
            container,
            location,
            session,
            _tile_of(form.service),
            mode=mode,
            error=(error.code, error.params),
        )
    session.ticket_id = ticket.id
    if session.draft_id is not None and ticket.service_code == call_service.VIDEO_SERVICE:
        # The report being filled in comes along to the call with the officer.
        codraft_service.link_draft(container.reports, ticket.id, session.draft_id)
    target = f"{base}/ticket" if mode == "kiosk" else f"/t/{ticket.id}"
    response = RedirectResponse(target, status_code=303)
    store_citizen_session(request, response, session)
    return response


def _language_page(
    request: Request, container: ContainerDep, location: Location, session: CitizenSession
) -> Response:
    language = session.language or _visitor_language(request)
    others = [code for code in LANGUAGES if code not in location.languages]
    spoken = [code for code in location.languages if code in LANGUAGES]
    return _page(
        request,
        container,
        "citizen/language.html",
        language,
        location,
        session,
        mode="kiosk",
        # A fresh start holds nothing to remember (and has no form): no cookie yet.
        remember=session.language is not None or session.ticket_id is not None,
        spoken=spoken,
        others=others,
    )


def _home_page(
    request: Request,
    container: ContainerDep,
    location: Location,
    session: CitizenSession,
    *,
    mode: str,
) -> Response:
    language = page_language(request, session)
    offered = _offered(location, mode)
    tiles = [
        tile
        for tile in TILES
        if not tile.kinds or any(service.kind in tile.kinds for service in offered)
    ]
    open_ticket = _open_ticket(container, session, location)
    return _page(
        request,
        container,
        "citizen/home.html",
        language,
        location,
        session,
        mode=mode,
        tiles=tiles,
        open_ticket=open_ticket,
    )


def _service_page(
    request: Request,
    container: ContainerDep,
    location: Location,
    session: CitizenSession,
    key: str,
    *,
    mode: str,
    error: tuple[str, dict[str, Any]] | None = None,
) -> Response:
    tile = _TILES.get(key)
    if tile is None:
        raise DomainError("request.not_found")
    language = page_language(request, session)
    offered = _offered(location, mode)
    services = [service for service in offered if service.kind in tile.kinds]
    if tile.kinds and not services:
        # A tile this desk does not show: an old link, or a typed address.
        raise DomainError("location.service_not_offered")
    by_code = {service.code: service for service in offered}
    talk = by_code.get("contact.video")
    if key == "report":
        # Every report can be taken by an officer in a video call, so each gets its ticket.
        tickets = services
    elif talk is not None:
        tickets = [talk]
    else:
        tickets = []
    status = 200
    message = None
    if error is not None:
        status, template = MESSAGES.get(error[0], (400, error[0]))
        message = (template, error[1])
    return _page(
        request,
        container,
        "citizen/service.html",
        language,
        location,
        session,
        mode=mode,
        status_code=status,
        tile=tile,
        services=services,
        tickets=[(service, _new_key()) for service in tickets],
        startable=_startable(container, location, services),
        error=message,
        officers_speak=[NATIVE_NAMES.get(code, code) for code in location.languages],
        language_is_spoken=language in location.languages,
        referral_topics={
            code: referrals.TOPICS[key] for code, key in referrals.SERVICE_TOPICS.items()
        },
        lost_topics=[referrals.TOPICS[key] for key in referrals.LOST_TOPICS],
    )


def _startable(
    container: ContainerDep, location: Location, services: list[Service]
) -> frozenset[str]:
    """Reports and tips a citizen may fill in alone here (the law of the desk's country)."""
    ctx = container.reports
    return frozenset(
        service.code
        for service in services
        if service.code in ctx.forms
        and report_service.route_at(ctx, service.code, location) is Route.SELF_SERVICE
    )


def _ask_language_page(
    request: Request,
    container: ContainerDep,
    location: Location,
    session: CitizenSession,
    form: _TicketForm,
    mode: str,
    error: tuple[str, str] | None,
) -> Response:
    language = page_language(request, session)
    message: tuple[str, dict[str, Any]] | None = None
    status = 200
    if error is not None:
        status, template = MESSAGES.get(error[0], (422, error[0]))
        message = (template, {})
    return _page(
        request,
        container,
        "citizen/ask_language.html",
        language,
        location,
        session,
        mode=mode,
        status_code=status,
        error=message,
        form=form,
        options=[code for code in location.languages],
    )


def _closed_page(
    request: Request,
    container: ContainerDep,
    location: Location,
    session: CitizenSession,
    *,
    mode: str = "kiosk",
) -> Response:
    language = page_language(request, session)
    now = container.queue.clock.now()
    next_opening = location.next_opening_after(now) if location.is_active else None
    open_elsewhere = [
        other
        for other in location_service.list_locations(container.queue)
        if other.slug != location.slug
        and other.kind is not LocationKind.ONLINE
        and other.is_open_at(now)
    ]
    # Desks in the same country first: they are the nearer ones and take the same numbers.
    open_elsewhere.sort(key=lambda other: (other.country != location.country, other.name))
    online = next(
        (
            other
            for other in location_service.list_locations(container.queue)
            if other.slug == ONLINE_DESK and other.is_open_at(now)
        ),
        None,
    )
    return _page(
        request,
        container,
        "citizen/closed.html",
        language,
        location,
        session,
        mode=mode,
        next_opening=(
            None if next_opening is None else _format_moment(next_opening, location, language)
        ),
        open_elsewhere=open_elsewhere,
        online_open=online is not None and location.slug != ONLINE_DESK,
        online_qr=_qr(str(request.base_url)) if mode == "kiosk" else None,
    )


def _ticket_page(
    request: Request,
    container: ContainerDep,
    location: Location,
    session: CitizenSession,
    ticket_id: str,
    *,
    mode: str,
) -> Response:
    found = _status(container, ticket_id)
    language = page_language(request, session)
    follow_url = f"{str(request.base_url).rstrip('/')}/t/{ticket_id}?lang={language}"
    return _page(
        request,
        container,
        "citizen/ticket.html",
        language,
        location,
        session,
        mode=mode,
        ticket_id=ticket_id,
        qr=_qr(follow_url) if mode == "kiosk" else None,
        follow_url=follow_url,
        **_status_context(found, location, mode),
        **identity_context(container, session, location, found.ticket),
    )


def identity_context(
    container: ContainerDep, session: CitizenSession, location: Location, ticket: Ticket
) -> dict[str, Any]:
    """For a ticket taken for an identity check on camera that is now done: where the report
    goes on. Straight to it where this browser holds the draft; elsewhere (the booth, a
    phone, a kiosk that started again) with the resume code the citizen was given."""
    # Only a video ticket can be an identity check: the others cost no lookup.
    is_video = ticket.service_code == call_service.VIDEO_SERVICE
    check = (
        identification_service.check_for_ticket(container.identification, ticket.id)
        if is_video
        else None
    )
    if check is None or not check.is_done:
        return {"identity_checked": False, "report_url": None, "resume_url": None}
    # A kiosk desk's pages forget the citizen at the idle reset; a booth must not keep a report.
    base = "" if location.kind is LocationKind.ONLINE else f"/kiosk/{location.slug}"
    if session.draft_id != check.draft_id:
        return {"identity_checked": True, "report_url": None, "resume_url": f"{base}/report/resume"}
    return {"identity_checked": True, "report_url": f"{base}/report", "resume_url": None}


def _status_context(
    found: queue_service.TicketStatus, location: Location, mode: str
) -> dict[str, Any]:
    ticket = found.ticket
    estimate = found.estimate
    wait: dict[str, Any] | None = None
    if estimate is not None:
        minutes = estimate.minutes_rounded()
        low = None if estimate.low_seconds is None else ceil(estimate.low_seconds / 60)
        high = None if estimate.high_seconds is None else ceil(estimate.high_seconds / 60)
        wait = {
            "is_known": estimate.is_known,
            "minutes": minutes,
            "low": low,
            "high": high,
            "has_band": low is not None and high is not None and high > low and bool(minutes),
        }
    return {
        "ticket": ticket,
        "state": ticket.state.value,
        "state_heading": STATE_HEADINGS[ticket.state],
        "position": found.position,
        "wait": wait,
        "is_cancellable": ticket.state in _CANCELLABLE,
        "is_closed": not ticket.is_open,
        "status_mode": mode,
        "country": location.country,
        "is_online": location.kind is LocationKind.ONLINE,
    }


class ExpiredForm(Exception):
    """A citizen's form came back without this session's CSRF token: a page from before a
    kiosk reset, or one left open too long. The app answers with `expired_form_page`."""

    def __init__(self, location: Location, session: CitizenSession, back: str) -> None:
        super().__init__("request.expired_form")
        self.location = location
        self.session = session
        self.back = back


def check_form(
    request: Request, session: CitizenSession, token: str | None, location: Location, back: str
) -> None:
    """Raises `ExpiredForm` (whose page links to `back`) unless the form is this session's."""
    if not csrf_is_valid(request, session.id, token):
        raise ExpiredForm(location, session, back)


def expired_form_page(request: Request, error: Exception) -> Response:
    assert isinstance(error, ExpiredForm)
    location, session, back = error.location, error.session, error.back
    language = page_language(request, session)
    status, message = MESSAGES["request.expired_form"]
    mode = "kiosk" if back.startswith("/kiosk/") else "home"
    response = render(
        request,
        "citizen/error.html",
        language,
        status_code=status,
        personal=True,
        location=location,
        mode=mode,
        message=message,
        back_url=back,
        idle_seconds=request.app.state.container.settings.kiosk_idle_seconds,
        idle_warning_seconds=IDLE_WARNING_SECONDS,
        **_chrome(request, location, session, mode),
    )
    store_citizen_session(request, response, session)
    return response


def _page(
    request: Request,
    container: ContainerDep,
    template: str,
    language: str,
    location: Location,
    session: CitizenSession,
    *,
    mode: str,
    status_code: int = 200,
    remember: bool = True,
    **context: Any,
) -> Response:
    """Render a citizen page: no-store (it can show a ticket), the session cookie renewed."""
    response = render(
        request,
        template,
        language,
        status_code=status_code,
        personal=True,
        location=location,
        mode=mode,
        idle_seconds=container.settings.kiosk_idle_seconds,
        idle_warning_seconds=IDLE_WARNING_SECONDS,
        **_chrome(request, location, session, mode),
        **context,
    )
    if remember:
        store_citizen_session(request, response, session)
    return response


def _chrome(
    request: Request, location: Location, session: CitizenSession, mode: str
) -> dict[str, Any]:
    """What every citizen page around the content needs: paths, the form token, flags."""
    return {
        "base": base_path(location, mode),
        "csrf": csrf_token(request, session.id),
        # Nothing to forget yet: the kiosk does not count down on a fresh language choice.
        "idle_enabled": session.language is not None or session.ticket_id is not None,
        "helped": request.query_params.get("helped") == "1",
        "path": request.url.path,
        "languages": LANGUAGES,
    }


# -- small helpers --------------------------------------------------------------------------


def _chosen_language(request: Request, session: CitizenSession) -> str | None:
    """The citizen's choice: `?lang=` (remembered in the session) or an earlier choice."""
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        session.language = asked
    return session.language


def _visitor_language(request: Request) -> str:
    return negotiate(request.headers.get("accept-language"))


def _is_open(container: ContainerDep, location: Location) -> bool:
    return location.is_active and location.is_open_at(container.queue.clock.now())


def _offered(location: Location, mode: str) -> tuple[Service, ...]:
    channel = Channel.KIOSK if mode == "kiosk" else Channel.HOME
    return tuple(
        service for service in services_for(location.service_codes) if channel in service.channels
    )


def _tile_of(service_code: str) -> str:
    if service_code.startswith("report."):
        return "report"
    return "officer"


def base_path(location: Location, mode: str) -> str:
    return f"/kiosk/{location.slug}" if mode == "kiosk" else ""


def _safe_slug(slug: str) -> str:
    # The reset answers before any lookup (it must work even if the desk is gone), so the
    # slug is checked here instead: nothing but a slug may end up in the Location header.
    return slug if re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", slug) else ""


def _new_key() -> str:
    """An idempotency key per rendered form: a double tap sends it twice, one ticket results."""
    return secrets.token_urlsafe(18)


def _status(container: ContainerDep, ticket_id: str) -> queue_service.TicketStatus:
    if not _TICKET_ID.match(ticket_id):
        raise DomainError("ticket.unknown")
    return queue_service.ticket_status(container.queue, ticket_id)


def _open_ticket(
    container: ContainerDep, session: CitizenSession, location: Location
) -> queue_service.TicketStatus | None:
    if session.ticket_id is None:
        return None
    try:
        found = _status(container, session.ticket_id)
    except DomainError:
        return None
    if not found.ticket.is_open or found.location_slug != location.slug:
        return None
    return found


def _format_moment(moment: datetime, location: Location, language: str) -> str:
    """A moment as the desk's clock shows it, written the way the citizen's language does."""
    locale = _DATE_LOCALES.get(language, language)
    local = moment.astimezone(location.zone)
    pattern = str(get_datetime_format("full", locale=locale)).replace("'", "")
    return pattern.replace("{0}", format_time(local, "short", locale=locale)).replace(
        "{1}", format_date(local.date(), "full", locale=locale)
    )


def _qr(url: str) -> Markup:
    qr = segno.make(url, error="m")
    # Inline SVG: no image request, so the kiosk page stays light and works offline.
    return Markup(qr.svg_inline(dark="#0b0c0c", light="#ffffff", omitsize=True))  # noqa: S704 - made by segno from our own URL


# -- shared with the call pages (pages/calls.py) ----------------------------------------------

ticket_status = _status
status_context = _status_context


def check_ticket_id(ticket_id: str) -> None:
    """Refuse anything that is not a ticket id before any lookup."""
    if not _TICKET_ID.match(ticket_id):
        raise DomainError("ticket.unknown")


def page_language(request: Request, session: CitizenSession) -> str:
    """The language of a citizen's page: their choice, else what their browser asks for."""
    return _chosen_language(request, session) or _visitor_language(request)


def citizen_page(
    request: Request,
    container: ContainerDep,
    template: str,
    location: Location,
    session: CitizenSession,
    *,
    mode: str,
    **context: Any,
) -> Response:
    """A citizen page in the citizen's language, with the usual chrome and no-store."""
    language = page_language(request, session)
    return _page(request, container, template, language, location, session, mode=mode, **context)
