"""Callback pages: the citizen books a time (at home or at a kiosk), the officer records the call.

The booking page works without JavaScript: days are links, times are radio buttons, and
one form posts the rest. The confirmation page's address holds the callback's unguessable
id, never a phone number or address.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from babel.dates import format_date, format_time
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from loket.domain.callbacks import Callback, CallbackMode, CallbackState, Slot
from loket.domain.errors import DomainError
from loket.domain.i18n import N_
from loket.domain.locations import Location, LocationKind
from loket.domain.staff import Role, StaffMember
from loket.services import callbacks as callback_service
from loket.services import locations as location_service
from loket.web.deps import ContainerDep, client_address
from loket.web.pages import citizen, officer
from loket.web.pages.staff_auth import check_staff_csrf, require_staff
from loket.web.problems import MESSAGES
from loket.web.sessions import CitizenSession, citizen_session, csrf_is_valid, store_citizen_session

router = APIRouter(include_in_schema=False)

_CALLBACK_ID = re.compile(r"^[0-9a-f]{32}$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Which input an error belongs to, so it is shown next to that input.
_FIELD_IDS = {
    "mode": "mode-phone",
    "language": "callback-language",
    "slot": "slot-list",
    "phone": "phone",
    "email": "email",
}
MODE_LABELS = {CallbackMode.PHONE: N_("Phone call"), CallbackMode.VIDEO: N_("Video call")}
STATE_LABELS = {
    CallbackState.SCHEDULED: N_("Booked"),
    CallbackState.QUEUED: N_("An officer will call you shortly"),
    CallbackState.REACHED: N_("Done: an officer has spoken with you"),
    CallbackState.FAILED: N_("We could not reach you"),
    CallbackState.CANCELLED: N_("Cancelled"),
}
ServingMember = Annotated[StaffMember, require_staff(Role.OFFICER, Role.SUPERVISOR)]
CsrfField = Annotated[str | None, Form(alias="csrf_token")]


@dataclass(frozen=True)
class BookingForm:
    mode: str = ""
    language: str = ""
    slot: str = ""
    phone: str = ""
    email: str = ""
    idempotency_key: str = ""


# -- booking --------------------------------------------------------------------------------


@router.get("/services/callback", response_class=HTMLResponse)
def home_booking(request: Request, container: ContainerDep) -> Response:
    location = location_service.get_location(container.queue, citizen.ONLINE_DESK)
    return _booking_entry(request, container, location, mode="home")


@router.get("/kiosk/{slug}/services/callback", response_class=HTMLResponse)
def kiosk_booking(request: Request, slug: str, container: ContainerDep) -> Response:
    location = location_service.get_location(container.queue, slug)
    if citizen._chosen_language(request, citizen_session(request)) is None:
        return RedirectResponse(f"/kiosk/{slug}", status_code=303)
    return _booking_entry(request, container, location, mode="kiosk")


def _booking_form(
    mode: Annotated[str, Form(max_length=8)] = "",
    language: Annotated[str, Form(max_length=8)] = "",
    slot: Annotated[str, Form(max_length=40)] = "",
    phone: Annotated[str, Form(max_length=40)] = "",
    email: Annotated[str, Form(max_length=254)] = "",
    idempotency_key: Annotated[str, Form(max_length=200)] = "",
) -> BookingForm:
    """The booking form's fields, as the home and the kiosk page post them."""
    return BookingForm(mode, language, slot, phone, email, idempotency_key)


BookingFormDep = Annotated[BookingForm, Depends(_booking_form)]


@router.post("/services/callback", response_class=HTMLResponse)
def home_book(
    request: Request,
    container: ContainerDep,
    form: BookingFormDep,
    csrf_token_field: CsrfField = None,
) -> Response:
    location = location_service.get_location(container.queue, citizen.ONLINE_DESK)
    return _book(request, container, location, form, csrf_token_field, mode="home")


@router.post("/kiosk/{slug}/services/callback", response_class=HTMLResponse)
def kiosk_book(
    request: Request,
    slug: str,
    container: ContainerDep,
    form: BookingFormDep,
    csrf_token_field: CsrfField = None,
) -> Response:
    location = location_service.get_location(container.queue, slug)
    return _book(request, container, location, form, csrf_token_field, mode="kiosk")


# -- the citizen's callback -----------------------------------------------------------------


@router.get("/callbacks/{callback_id}", response_class=HTMLResponse)
def home_booked(request: Request, callback_id: str, container: ContainerDep) -> Response:
    location = location_service.get_location(container.queue, citizen.ONLINE_DESK)
    return _booked_page(request, container, location, callback_id, mode="home")


@router.get("/kiosk/{slug}/callbacks/{callback_id}", response_class=HTMLResponse)
def kiosk_booked(
    request: Request, slug: str, callback_id: str, container: ContainerDep
) -> Response:
    location = location_service.get_location(container.queue, slug)
    return _booked_page(request, container, location, callback_id, mode="kiosk")


@router.post("/callbacks/{callback_id}/cancel", response_class=HTMLResponse)
def cancel(
    request: Request,
    callback_id: str,
    container: ContainerDep,
    back: Annotated[str, Form(max_length=200)] = "",
    csrf_token_field: CsrfField = None,
) -> Response:
    callback = _callback(container, callback_id)
    session = citizen_session(request)
    # Back to the page the form was on: the kiosk's or the one at home, nothing else.
    kiosk_back = re.fullmatch(r"/kiosk/[a-z0-9-]+/callbacks/[0-9a-f]{32}", back)
    target = back if kiosk_back else f"/callbacks/{callback.id}"
    if not csrf_is_valid(request, session.id, csrf_token_field):
        online = location_service.get_location(container.queue, citizen.ONLINE_DESK)
        raise citizen.ExpiredForm(online, session, target)
    if callback.state in (CallbackState.SCHEDULED, CallbackState.QUEUED):
        callback_service.cancel_callback(container.callbacks, callback.id)
    return RedirectResponse(target, status_code=303)


# -- the officer ----------------------------------------------------------------------------


@router.post("/officer/tickets/{ticket_id}/callback", response_class=HTMLResponse)
def record_outcome(
    request: Request,
    ticket_id: str,
    member: ServingMember,
    container: ContainerDep,
    outcome: Annotated[str, Form(max_length=16)] = "",
    csrf_token_field: CsrfField = None,
) -> Response:
    """ "Reached" or "No answer" on a callback the officer is calling."""
    check_staff_csrf(request, csrf_token_field)
    try:
        chosen = callback_service.parse_outcome(outcome)
        callback_service.record_callback_outcome(
            container.callbacks, officer._id(member), ticket_id, chosen
        )
    except DomainError as error:
        return officer._console(request, member, container, error=error, field_id=None)
    return officer._back(request)


def officer_callbacks(
    container: ContainerDep, member: StaffMember, contacts: list[dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """The callback behind each contact the officer is serving, for the console's panel.

    Only contacts in service show the number: reading it is audited, and an offer may
    still go to a colleague.
    """
    shown: dict[str, dict[str, Any]] = {}
    for contact in contacts:
        if not (contact["is_in_service"] or contact["is_on_hold"]):
            continue
        found = callback_service.callback_for_contact(
            container.callbacks, officer._id(member), contact["id"]
        )
        if found is None:
            continue
        callback = found.callback
        shown[contact["id"]] = {
            "reference": callback.reference,
            "mode": callback.mode.value,
            "mode_label": MODE_LABELS[callback.mode],
            "phone": callback.phone,
            "email": callback.email,
            "attempt": callback.attempts,
            "max_attempts": container.callbacks.policy.max_attempts,
            "slot": officer.local_time(callback.slot_start_at, found.location),
            "is_open": callback.state is CallbackState.QUEUED,
            "is_reached": callback.state is CallbackState.REACHED,
        }
    return shown


# -- building the pages ---------------------------------------------------------------------


def _booking_entry(
    request: Request, container: ContainerDep, location: Location, *, mode: str
) -> Response:
    session = citizen_session(request)
    if not location.offers(callback_service.SERVICE_CODE) or not location.is_active:
        raise DomainError("location.service_not_offered")
    language = citizen.page_language(request, session)
    office = callback_service.back_office(container.callbacks)
    form = BookingForm(
        language=language if language in office.languages else "",
        idempotency_key=citizen._new_key(),
    )
    return _booking_page(request, container, location, session, form, mode=mode)


def _book(
    request: Request,
    container: ContainerDep,
    location: Location,
    form: BookingForm,
    csrf: str | None,
    *,
    mode: str,
) -> Response:
    session = citizen_session(request)
    base = citizen.base_path(location, mode)
    citizen.check_form(request, session, csrf, location, f"{base}/services/callback")
    allowed, retry_after = request.app.state.ticket_limiter.allow(client_address(request))
    try:
        if not allowed:
            raise DomainError("request.rate_limited", retry_after=retry_after)
        if not form.slot:
            raise DomainError("slot.missing", field="slot")
        try:
            slot_start = datetime.fromisoformat(form.slot)
        except ValueError:
            raise DomainError("slot.outside_hours", field="slot") from None
        if slot_start.tzinfo is None:
            raise DomainError("slot.outside_hours", field="slot")
        callback = callback_service.request_callback(
            container.callbacks,
            booked_at=location.slug,
            mode=form.mode,
            language=form.language,
            slot_start_at=slot_start,
            contact=form.phone if form.mode == CallbackMode.PHONE.value else form.email,
            idempotency_key=form.idempotency_key or None,
        )
    except DomainError as error:
        return _booking_page(request, container, location, session, form, mode=mode, error=error)
    response = RedirectResponse(f"{base}/callbacks/{callback.id}", status_code=303)
    store_citizen_session(request, response, session)
    return response


def _booking_page(
    request: Request,
    container: ContainerDep,
    location: Location,
    session: CitizenSession,
    form: BookingForm,
    *,
    mode: str,
    error: DomainError | None = None,
) -> Response:
    language = citizen.page_language(request, session)
    office = callback_service.back_office(container.callbacks)
    slots = callback_service.available_slots(container.callbacks)
    days = _days(slots, office)
    chosen_day = _chosen_day(request, form, days, office)
    status = 200
    message = None
    field_id = None
    if error is not None:
        status, template = MESSAGES.get(error.code, (422, error.code))
        message = (template, error.params)
        field_id = _FIELD_IDS.get(error.field or "", "slot-list")
    return citizen._page(
        request,
        container,
        "citizen/callback.html",
        language,
        location,
        session,
        mode=mode,
        status_code=status,
        form=form,
        error=message,
        error_field=error.field if error is not None else None,
        field_id=field_id,
        modes=[(m.value, MODE_LABELS[m]) for m in CallbackMode],
        office_languages=office.languages,
        days=[(day, _day_label(day, language)) for day in days],
        chosen_day=chosen_day,
        day_label=_day_label(chosen_day, language) if chosen_day else "",
        times=[
            (slot.start_at.isoformat(), _time_label(slot, office, language))
            for slot in slots
            if slot.start_at.astimezone(office.zone).date() == chosen_day
        ],
        page_path=request.url.path,
        is_home_desk=location.kind is LocationKind.ONLINE,
        # "Europe/Brussels" -> "Brussels": the back office's zone, which may not be the desk's.
        zone_city=office.time_zone.rsplit("/", 1)[-1].replace("_", " "),
    )


def _booked_page(
    request: Request, container: ContainerDep, location: Location, callback_id: str, *, mode: str
) -> Response:
    callback = _callback(container, callback_id)
    session = citizen_session(request)
    language = citizen.page_language(request, session)
    office = callback_service.back_office(container.callbacks)
    local = callback.due_at.astimezone(office.zone)
    locale = citizen._DATE_LOCALES.get(language, language)
    return citizen._page(
        request,
        container,
        "citizen/callback_booked.html",
        language,
        location,
        session,
        mode=mode,
        callback=callback,
        state_label=STATE_LABELS[callback.state],
        mode_label=MODE_LABELS[callback.mode],
        when_day=format_date(local.date(), "full", locale=locale),
        when_time=format_time(local, "short", locale=locale),
        contact_hint=_masked(callback),
        is_cancellable=callback.state in (CallbackState.SCHEDULED, CallbackState.QUEUED),
        page_path=request.url.path,
    )


def _callback(container: ContainerDep, callback_id: str) -> Callback:
    if not _CALLBACK_ID.match(callback_id):
        raise DomainError("callback.unknown")
    return callback_service.get_callback(container.callbacks, callback_id)


def _days(slots: list[Slot], office: Location) -> list[date]:
    seen: list[date] = []
    for slot in slots:
        day = slot.start_at.astimezone(office.zone).date()
        if not seen or seen[-1] != day:
            seen.append(day)
    return seen


def _chosen_day(
    request: Request, form: BookingForm, days: list[date], office: Location
) -> date | None:
    wanted = request.query_params.get("day", "")
    if form.slot:
        # A form shown again after an error keeps the day of the time chosen.
        try:
            wanted = datetime.fromisoformat(form.slot).astimezone(office.zone).date().isoformat()
        except (ValueError, TypeError):
            wanted = ""
    if _DAY.match(wanted):
        day = date.fromisoformat(wanted)
        if day in days:
            return day
    return days[0] if days else None


def _day_label(day: date, language: str) -> str:
    return format_date(day, "EEEE d MMMM", locale=citizen._DATE_LOCALES.get(language, language))


def _time_label(slot: Slot, office: Location, language: str) -> str:
    locale = citizen._DATE_LOCALES.get(language, language)
    start = slot.start_at.astimezone(office.zone)
    end = slot.end_at.astimezone(office.zone)
    return (
        f"{format_time(start, 'short', locale=locale)} – {format_time(end, 'short', locale=locale)}"
    )


def _masked(callback: Callback) -> str:
    # The page's address can be shared or bookmarked: show enough to recognise, no more.
    if callback.phone:
        return "•••• " + callback.phone[-3:]
    if callback.email:
        name, _, domain = callback.email.partition("@")
        return f"{name[:1]}•••@{domain}"
    return ""
