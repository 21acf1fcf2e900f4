"""The officer's console: own status, the central queue, and serving one contact at a time.

Every action is a plain form that posts and redirects (PRG), so the console works without
JavaScript; officer.js keeps it live (the queue from the staff stream, the officer's own
part re-rendered here on every event that concerns them) and renews the leases.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from loket.domain.catalogue import CATALOGUE
from loket.domain.errors import DomainError, Invalid
from loket.domain.i18n import N_
from loket.domain.locations import Location
from loket.domain.staff import OfficerStatus, Role, StaffMember
from loket.domain.tickets import MAX_NOTE_LENGTH, Outcome, Ticket, TicketState
from loket.services import locations as location_service
from loket.services import queue as queue_service
from loket.services import staff as staff_service
from loket.services.calls import VIDEO_SERVICE
from loket.web.deps import ContainerDep
from loket.web.i18n import LANGUAGES, gettext_for
from loket.web.pages import NATIVE_NAMES, render
from loket.web.pages.calls import officer_call_text
from loket.web.pages.staff_auth import check_staff_csrf, require_staff, staff_csrf, staff_language
from loket.web.problems import MESSAGES

router = APIRouter(include_in_schema=False)

ServingMember = Annotated[StaffMember, require_staff(Role.OFFICER, Role.SUPERVISOR)]
CsrfField = Annotated[str | None, Form(alias="csrf_token")]

STATUS_LABELS = {
    OfficerStatus.AVAILABLE: N_("Available"),
    OfficerStatus.BUSY: N_("In a contact"),
    OfficerStatus.WRAP_UP: N_("Wrapping up"),
    OfficerStatus.BREAK: N_("On a break"),
    OfficerStatus.OFFLINE: N_("Offline"),
}
# Busy follows from accepting a contact and wrap-up from finishing one; a person chooses these.
CHOOSABLE_STATUSES = (OfficerStatus.AVAILABLE, OfficerStatus.BREAK, OfficerStatus.OFFLINE)

TICKET_STATES = {
    TicketState.WAITING: N_("Waiting"),
    TicketState.OFFERED: N_("Offered"),
    TicketState.IN_SERVICE: N_("In a contact"),
    TicketState.ON_HOLD: N_("On hold"),
    TicketState.TRANSFERRED: N_("Being transferred"),
    TicketState.FINISHED: N_("Finished"),
    TicketState.NO_SHOW: N_("Did not show up"),
    TicketState.CANCELLED: N_("Cancelled"),
}

OUTCOME_LABELS = {
    Outcome.LISTENED: N_("Listened"),
    Outcome.INFORMED: N_("Informed"),
    Outcome.REFERRED: N_("Referred"),
    Outcome.MEDIATED: N_("Mediated"),
    Outcome.REPORT_TAKEN: N_("Report taken"),
    Outcome.NO_SHOW: N_("Did not show up"),
}
OUTCOME_HINTS = {
    Outcome.LISTENED: N_("The citizen needed to be heard."),
    Outcome.INFORMED: N_("The citizen got the information they asked for."),
    Outcome.REFERRED: N_("Sent on to another organisation or service."),
    Outcome.MEDIATED: N_("Helped to settle a dispute."),
    Outcome.REPORT_TAKEN: N_("A report or tip was recorded."),
    Outcome.NO_SHOW: N_("The citizen did not answer the call."),
}

SERVICE_TITLES = {service.code: service.title for service in CATALOGUE}
MAX_BOOTH_LENGTH = 32
# The console renews its lease this often; the policy's lease lasts three times as long.
HEARTBEAT_SECONDS = 15
# Times of staff (status since…) are shown in the back office's zone.
BACK_OFFICE_ZONE = "Europe/Brussels"


# -- pages -----------------------------------------------------------------------------------


@router.get("/officer", response_class=HTMLResponse)
def console(request: Request, member: ServingMember, container: ContainerDep) -> Response:
    notice = None
    if request.query_params.get("empty") == "1":
        notice = N_(
            "No ticket is waiting that you can take. New tickets appear in the queue below."
        )
    return _console(request, member, container, notice=notice)


@router.get("/officer/panel", response_class=HTMLResponse)
def panel(request: Request, member: ServingMember, container: ContainerDep) -> Response:
    """The officer's own part of the console, re-rendered for officer.js on every event."""
    return render(
        request,
        "officer/_panel.html",
        staff_language(request, member),
        personal=True,
        **_panel_context(request, member, container),
    )


# -- actions ---------------------------------------------------------------------------------


@router.post("/officer/status", response_class=HTMLResponse)
def change_status(
    request: Request,
    member: ServingMember,
    container: ContainerDep,
    status: Annotated[str, Form(max_length=16)] = "",
    csrf_token_field: CsrfField = None,
) -> Response:
    check_staff_csrf(request, csrf_token_field)
    try:
        chosen = choosable_status(status)
        queue_service.set_officer_status(container.queue, _id(member), chosen)
    except DomainError as error:
        return _console(request, member, container, error=error, field_id="status")
    return _back(request)


@router.post("/officer/next", response_class=HTMLResponse)
def take_next(
    request: Request,
    member: ServingMember,
    container: ContainerDep,
    csrf_token_field: CsrfField = None,
) -> Response:
    """Ask for the next ticket; a double click gets the same offer (the service is idempotent)."""
    check_staff_csrf(request, csrf_token_field)
    try:
        offered = queue_service.offer_next(container.queue, _id(member))
    except DomainError as error:
        field = "status" if error.code == "officer.not_available" else "take-next"
        return _console(request, member, container, error=error, field_id=field)
    return _back(request, empty=offered is None)


@router.post("/officer/tickets/{ticket_id}/accept", response_class=HTMLResponse)
def accept(
    request: Request,
    ticket_id: str,
    member: ServingMember,
    container: ContainerDep,
    booth: Annotated[str, Form(max_length=MAX_BOOTH_LENGTH)] = "",
    csrf_token_field: CsrfField = None,
) -> Response:
    check_staff_csrf(request, csrf_token_field)
    try:
        queue_service.accept_ticket(
            container.queue, _id(member), ticket_id, booth=booth.strip() or None
        )
    except DomainError as error:
        entered = {ticket_id: {"booth": booth}}
        return _console(
            request, member, container, error=error, field_id=f"booth-{ticket_id}", entered=entered
        )
    return _back(request)


@router.post("/officer/tickets/{ticket_id}/decline", response_class=HTMLResponse)
def decline(
    request: Request,
    ticket_id: str,
    member: ServingMember,
    container: ContainerDep,
    csrf_token_field: CsrfField = None,
) -> Response:
    """Turn an offer down: the ticket goes back to the head of the queue for a colleague."""
    return _ticket_step(
        request,
        member,
        container,
        csrf_token_field,
        lambda officer: queue_service.transfer_ticket(
            container.queue, officer, ticket_id, to_officer_id=None
        ),
    )


@router.post("/officer/tickets/{ticket_id}/finish", response_class=HTMLResponse)
def finish(
    request: Request,
    ticket_id: str,
    member: ServingMember,
    container: ContainerDep,
    outcome: Annotated[str, Form(max_length=32)] = "",
    note: Annotated[str, Form(max_length=MAX_NOTE_LENGTH * 2)] = "",
    csrf_token_field: CsrfField = None,
) -> Response:
    check_staff_csrf(request, csrf_token_field)
    entered = {ticket_id: {"outcome": outcome, "note": note}}
    try:
        chosen = _outcome(outcome)
        queue_service.finish_ticket(
            container.queue, _id(member), ticket_id, chosen, note.strip() or None
        )
    except DomainError as error:
        field = f"note-{ticket_id}" if error.field == "note" else f"outcome-{ticket_id}-listened"
        return _console(request, member, container, error=error, field_id=field, entered=entered)
    return _back(request)


@router.post("/officer/tickets/{ticket_id}/hold", response_class=HTMLResponse)
def hold(
    request: Request,
    ticket_id: str,
    member: ServingMember,
    container: ContainerDep,
    csrf_token_field: CsrfField = None,
) -> Response:
    return _ticket_step(
        request,
        member,
        container,
        csrf_token_field,
        lambda officer: queue_service.hold_ticket(container.queue, officer, ticket_id),
    )


@router.post("/officer/tickets/{ticket_id}/resume", response_class=HTMLResponse)
def resume(
    request: Request,
    ticket_id: str,
    member: ServingMember,
    container: ContainerDep,
    csrf_token_field: CsrfField = None,
) -> Response:
    return _ticket_step(
        request,
        member,
        container,
        csrf_token_field,
        lambda officer: queue_service.resume_ticket(container.queue, officer, ticket_id),
    )


@router.post("/officer/tickets/{ticket_id}/transfer", response_class=HTMLResponse)
def transfer(
    request: Request,
    ticket_id: str,
    member: ServingMember,
    container: ContainerDep,
    to_officer: Annotated[str, Form(max_length=64)] = "",
    note: Annotated[str, Form(max_length=MAX_NOTE_LENGTH * 2)] = "",
    csrf_token_field: CsrfField = None,
) -> Response:
    """Hand the contact to a colleague, or back to the head of the queue (no colleague chosen)."""
    check_staff_csrf(request, csrf_token_field)
    entered = {ticket_id: {"to_officer": to_officer, "transfer_note": note}}
    try:
        to_id = None
        if to_officer:
            to_id = staff_service.find_staff(container.staff, to_officer).id
        queue_service.transfer_ticket(
            container.queue, _id(member), ticket_id, to_officer_id=to_id, note=note.strip() or None
        )
    except DomainError as error:
        field = f"transfer-note-{ticket_id}" if error.field == "note" else f"to-officer-{ticket_id}"
        return _console(request, member, container, error=error, field_id=field, entered=entered)
    return _back(request)


@router.post("/officer/heartbeat")
def heartbeat(
    request: Request,
    member: ServingMember,
    container: ContainerDep,
    csrf_token_field: CsrfField = None,
) -> Response:
    """The console is open: keep the leases on the contacts it serves (see QueuePolicy)."""
    check_staff_csrf(request, csrf_token_field)
    renewed = queue_service.renew_leases(container.queue, _id(member))
    return JSONResponse({"renewed": renewed}, headers={"Cache-Control": "no-store"})


# -- rendering -------------------------------------------------------------------------------


def _ticket_step(
    request: Request,
    member: StaffMember,
    container: ContainerDep,
    csrf_token_field: str | None,
    step: Callable[[int], object],
) -> Response:
    """One button on a contact: check the form's token, take the step, show the console again
    (with the reason when the step was refused)."""
    check_staff_csrf(request, csrf_token_field)
    try:
        step(_id(member))
    except DomainError as error:
        return _console(request, member, container, error=error, field_id=None)
    return _back(request)


def _console(
    request: Request,
    member: StaffMember,
    container: ContainerDep,
    *,
    error: DomainError | None = None,
    field_id: str | None = None,
    entered: dict[str, dict[str, str]] | None = None,
    notice: str | None = None,
) -> Response:
    language = staff_language(request, member)
    status_code = 200
    shown = None
    if error is not None:
        status_code, message = MESSAGES.get(error.code, (409, error.code))
        shown = (message, error.params)
    context = _panel_context(request, member, container, entered=entered)
    view = queue_service.queue_view(container.queue)
    translate = gettext_for(language).gettext
    names = {o.id: o.display_name for o in view.officers}
    context.update(
        error=shown,
        field_id=field_id,
        notice=notice,
        queue=[_queue_row(t, names, context["locations"], view.at) for t in view.tickets],
        page_text=_page_text(translate, member, view.officers, context, view.at, container),
        call_text=officer_call_text(translate),
    )
    return render(
        request,
        "officer/console.html",
        language,
        status_code=status_code,
        personal=True,
        **context,
    )


def _panel_context(
    request: Request,
    member: StaffMember,
    container: ContainerDep,
    *,
    entered: dict[str, dict[str, str]] | None = None,
) -> dict[str, Any]:
    now = container.queue.clock.now()
    locations = {loc.id: loc for loc in location_service.list_locations(container.queue)}
    contacts = queue_service.contacts_of(container.queue, _id(member))
    colleagues = [
        o
        for o in queue_service.queue_view(container.queue).officers
        if o.id != member.id and o.is_active
    ]
    blocking = {TicketState.OFFERED, TicketState.TRANSFERRED, TicketState.IN_SERVICE}
    views = [_contact_view(t, locations, now) for t in contacts]
    from loket.web.pages import callbacks as callback_pages  # it imports this module
    from loket.web.pages import identification as identification_pages  # likewise

    return {
        "member": member,
        "csrf": staff_csrf(request),
        "lang_query": lang_query(request),
        "status_labels": STATUS_LABELS,
        "choosable_statuses": CHOOSABLE_STATUSES,
        "status_since": local_time(member.status_since_at),
        "contacts": views,
        "callbacks": callback_pages.officer_callbacks(container, member, views),
        "identity_checks": identification_pages.officer_identity_checks(container, views),
        "document_types": list(identification_pages.DOCUMENT_LABELS.items()),
        "transcripts": assistant_transcripts(container, member, views),
        "can_take_next": not any(t.state in blocking for t in contacts),
        "colleagues": colleagues,
        "outcomes": [(o.value, OUTCOME_LABELS[o], OUTCOME_HINTS[o]) for o in Outcome],
        "entered": entered or {},
        "locations": locations,
        "max_note": MAX_NOTE_LENGTH,
        "max_booth": MAX_BOOTH_LENGTH,
        "now_iso": now.isoformat(),
    }


def assistant_transcripts(
    container: ContainerDep, member: StaffMember, contacts: list[dict[str, Any]]
) -> dict[str, list[Any]]:
    """The chat with the virtual agent behind each contact offered to or served by the
    officer (an audited read), so the citizen need not tell it all again."""
    from loket.services import assistant as assistant_service

    shown: dict[str, list[Any]] = {}
    for contact in contacts:
        if contact["state"] == TicketState.WAITING.value:
            continue
        try:
            lines = assistant_service.transcript_for_officer(
                container.assistant, _id(member), contact["id"]
            )
        except DomainError:
            continue
        if lines:
            shown[contact["id"]] = lines
    return shown


def _contact_view(
    ticket: Ticket, locations: dict[int | None, Location], now: datetime
) -> dict[str, Any]:
    location = locations.get(ticket.location_id)
    called = ticket.accepted_at
    return {
        "id": ticket.id,
        "number": ticket.number,
        "state": ticket.state.value,
        "state_label": TICKET_STATES[ticket.state],
        "desk": location.name if location else ticket.location_code,
        "service": SERVICE_TITLES.get(ticket.service_code, ticket.service_code),
        "language": ticket.language,
        "channel": ticket.channel,
        "priority": ticket.priority,
        "note": ticket.note,
        "is_returned": ticket.is_returned,
        "taken_at": ticket.taken_at.isoformat(),
        "taken_local": local_time(ticket.taken_at, location),
        "waited_seconds": seconds_between(ticket.taken_at, called or now),
        "is_called": called is not None,
        "is_offer": ticket.state in (TicketState.OFFERED, TicketState.TRANSFERRED),
        "offer_expires_at": (
            ticket.lease_expires_at.isoformat()
            if ticket.lease_expires_at
            and ticket.state in (TicketState.OFFERED, TicketState.TRANSFERRED)
            else None
        ),
        "offer_seconds_left": (
            seconds_between(now, ticket.lease_expires_at)
            if ticket.lease_expires_at is not None
            else 0
        ),
        "is_in_service": ticket.state is TicketState.IN_SERVICE,
        "is_on_hold": ticket.state is TicketState.ON_HOLD,
        "is_video": ticket.service_code == VIDEO_SERVICE,
    }


def _queue_row(
    ticket: Ticket,
    names: dict[int | None, str],
    locations: dict[int | None, Location],
    now: datetime,
) -> dict[str, Any]:
    location = locations.get(ticket.location_id)
    return {
        "id": ticket.id,
        "number": ticket.number,
        "desk": location.name if location else ticket.location_code,
        "service": SERVICE_TITLES.get(ticket.service_code, ticket.service_code),
        "language": ticket.language,
        "state": ticket.state.value,
        "state_label": TICKET_STATES[ticket.state],
        "officer": names.get(ticket.officer_id) if ticket.officer_id is not None else None,
        "is_returned": ticket.is_returned,
        "priority": ticket.priority,
        "taken_at": ticket.taken_at.isoformat(),
        "waited_seconds": seconds_between(ticket.taken_at, now),
    }


def _page_text(
    translate: Any,
    member: StaffMember,
    officers: list[StaffMember],
    context: dict[str, Any],
    now: datetime,
    container: ContainerDep,
) -> dict[str, Any]:
    """What officer.js needs: who is who, the words it writes, the queue's ranking rule."""
    policy = container.queue.policy
    return {
        "me": member.id,
        "now": now.isoformat(),
        "lang_query": context["lang_query"],
        "heartbeat_seconds": HEARTBEAT_SECONDS,
        "priority_step_seconds": policy.priority_step.total_seconds(),
        "head_boost_seconds": policy.head_boost.total_seconds(),
        "officers": {str(o.id): o.username for o in officers},
        "names": {o.username: o.display_name for o in officers},
        "desks": {str(k): loc.name for k, loc in context["locations"].items()},
        "services": {code: translate(title) for code, title in SERVICE_TITLES.items()},
        "languages": dict(NATIVE_NAMES),
        "states": {state.value: translate(label) for state, label in TICKET_STATES.items()},
        "text": duration_text(translate)
        | {
            "returned": translate(N_("returned")),
            "nobody": translate(N_("Nobody is waiting.")),
            "offered_to_you": translate(N_("Ticket %(number)s is offered to you.")),
            "waiting_count": translate(N_("Waiting: %(count)s")),
            "not_sent": translate(N_("Not sent: there is no connection. Please try again.")),
        },
    }


def duration_text(translate: Any) -> dict[str, str]:
    """The words of a ticking wait, for the scripts (the templates use the same msgids)."""
    return {
        "seconds": translate(N_("%(seconds)s s")),
        "minutes": translate(N_("%(minutes)s min %(seconds)s s")),
        "hours": translate(N_("%(hours)s h %(minutes)s min")),
    }


# -- helpers ---------------------------------------------------------------------------------


def lang_query(request: Request) -> str:
    """`?lang=xx` when the person chose a language in the address, so it survives a post."""
    chosen = request.query_params.get("lang")
    return f"?lang={chosen}" if chosen in LANGUAGES else ""


def _back(request: Request, *, empty: bool = False) -> Response:
    query = lang_query(request)
    if empty:
        query = f"{query}&empty=1" if query else "?empty=1"
    return RedirectResponse(f"/officer{query}", status_code=303)


def choosable_status(value: str) -> OfficerStatus:
    try:
        status = OfficerStatus(value)
    except ValueError:
        raise Invalid("officer.invalid_status", field="status") from None
    if status not in CHOOSABLE_STATUSES:
        raise Invalid("officer.invalid_status", field="status")
    return status


def _outcome(value: str) -> Outcome:
    if not value:
        raise Invalid("ticket.outcome_missing", field="outcome")
    try:
        return Outcome(value)
    except ValueError:
        raise Invalid("ticket.invalid_outcome", field="outcome") from None


def _id(member: StaffMember) -> int:
    assert member.id is not None
    return member.id


def seconds_between(start: datetime, end: datetime) -> int:
    return max(0, int((end - start).total_seconds()))


def local_time(moment: datetime | None, location: Location | None = None) -> str:
    """HH:MM at the desk (or in Brussels, where the back office sits, for staff times)."""
    if moment is None:
        return ""
    zone = location.zone if location is not None else ZoneInfo(BACK_OFFICE_ZONE)
    return moment.astimezone(zone).strftime("%H:%M")
