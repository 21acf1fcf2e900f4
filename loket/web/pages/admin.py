"""Administrator pages: staff accounts, desks and their opening hours, the service catalogue."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from loket.bootstrap import Container
from loket.domain.catalogue import CATALOGUE, Channel, IdentificationLevel, ServiceKind
from loket.domain.errors import DomainError
from loket.domain.i18n import N_
from loket.domain.locations import DAY_NAMES, Location, LocationKind
from loket.domain.staff import OfficerStatus, Role, StaffMember
from loket.services import administration as admin
from loket.services.administration import AdminContext
from loket.web.deps import ContainerDep
from loket.web.i18n import LANGUAGES, gettext_for
from loket.web.pages import render
from loket.web.pages.staff_auth import check_staff_csrf, require_staff, staff_csrf, staff_language
from loket.web.problems import MESSAGES, plain

router = APIRouter(prefix="/admin", include_in_schema=False)

Administrator = Annotated[StaffMember, require_staff(Role.ADMINISTRATOR)]

ROLE_LABELS = {
    Role.OFFICER: N_("Officer"),
    Role.SUPERVISOR: N_("Supervisor"),
    Role.HOST: N_("Host"),
    Role.INTERPRETER: N_("Interpreter"),
    Role.ADMINISTRATOR: N_("Administrator"),
}
STATUS_LABELS = {
    OfficerStatus.AVAILABLE: N_("Available"),
    OfficerStatus.BUSY: N_("Busy"),
    OfficerStatus.WRAP_UP: N_("Wrapping up"),
    OfficerStatus.BREAK: N_("On a break"),
    OfficerStatus.OFFLINE: N_("Offline"),
}
KIND_LABELS = {
    LocationKind.POLICE_OFFICE: N_("Police office"),
    LocationKind.TOWN_HALL: N_("Town hall"),
    LocationKind.PUBLIC_PLACE: N_("Other public place"),
    LocationKind.MOBILE_UNIT: N_("Mobile unit"),
    LocationKind.ONLINE: N_("Online"),
}
SERVICE_KIND_LABELS = {
    ServiceKind.REPORT: N_("Report"),
    ServiceKind.TIP: N_("Tip"),
    ServiceKind.INFORMATION: N_("Information"),
    ServiceKind.VIDEO_CALL: N_("Video call"),
    ServiceKind.CALLBACK: N_("Callback"),
    ServiceKind.ASSISTANT: N_("Virtual agent"),
}
CHANNEL_LABELS = {
    Channel.KIOSK: N_("Kiosk"),
    Channel.HOME: N_("At home"),
    Channel.VIDEO: N_("Video call"),
    Channel.PHONE: N_("Phone"),
    Channel.ASSISTANT: N_("Virtual agent"),
}
LEVEL_LABELS = {
    IdentificationLevel.ANONYMOUS: N_("Anonymous"),
    IdentificationLevel.SELF_DECLARED: N_("Name given by the citizen"),
    IdentificationLevel.VERIFIED_ONLINE: N_("Verified online (DigiD, itsme, eID)"),
    IdentificationLevel.VERIFIED_BY_OFFICER: N_("Checked by an officer on camera"),
}
DAY_LABELS = {
    "mon": N_("Monday"),
    "tue": N_("Tuesday"),
    "wed": N_("Wednesday"),
    "thu": N_("Thursday"),
    "fri": N_("Friday"),
    "sat": N_("Saturday"),
    "sun": N_("Sunday"),
}
# What a redirect after a change says on the page it lands on (?done=<key>).
DONE = {
    "staff_saved": N_("The changes have been saved."),
    "deactivated": N_(
        "The account has been closed. Its sign-ins have ended and its tickets went back to "
        "the queue."
    ),
    "reactivated": N_("The account is open again."),
    "second_factor_reset": N_(
        "The authenticator app has been reset. The person sets it up again at their next sign-in."
    ),
    "password_set": N_("The new password has been saved. The person's sign-ins have ended."),
    "location_created": N_(
        "The desk has been created. It stays closed until you set its opening hours."
    ),
    "location_saved": N_("The changes have been saved."),
    "hours_saved": N_("The opening hours have been saved."),
    "exception_added": N_("The special hours have been added."),
    "exception_removed": N_("The special hours have been removed."),
}
# Offered when creating a desk; any other IANA name can be typed.
COMMON_TIME_ZONES = (
    "Europe/Brussels",
    "Europe/Amsterdam",
    "Europe/Luxembourg",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/London",
    "UTC",
)
COUNTRIES = ("BE", "NL", "LU", "DE", "FR")
# Two periods a day cover a lunch break; a day stored with more shows them all.
RANGES_PER_DAY = 2
MAX_RANGES = 6
MAX_FIELD = 1024


async def form_data(request: Request) -> FormData:
    """The posted form, read once here so the routes themselves can stay synchronous."""
    return await request.form()


Form = Annotated[FormData, Depends(form_data)]


def _ctx(container: Container) -> AdminContext:
    return AdminContext(staff=container.staff, queue=container.queue)


def _id(member: StaffMember) -> int:
    assert member.id is not None
    return member.id


# -- overview -------------------------------------------------------------------------------


@router.get("", response_class=HTMLResponse)
def overview(request: Request, member: Administrator) -> Response:
    return _page(request, member, "admin/index.html", section="home")


# -- staff accounts -------------------------------------------------------------------------


@router.get("/staff", response_class=HTMLResponse)
def staff_list(request: Request, container: ContainerDep, member: Administrator) -> Response:
    accounts = admin.list_staff(_ctx(container), _id(member))
    return _page(request, member, "admin/staff_list.html", section="staff", accounts=accounts)


@router.get("/staff/new", response_class=HTMLResponse)
def staff_new(request: Request, member: Administrator) -> Response:
    entered = {
        "username": "",
        "display_name": "",
        "roles": ["officer"],
        "languages": ["nl"],
        "services": [service.code for service in CATALOGUE],
        "ui_language": "nl",
    }
    return _staff_form(request, member, entered, errors={})


@router.post("/staff/new", response_class=HTMLResponse)
def staff_create(
    request: Request, container: ContainerDep, member: Administrator, form: Form
) -> Response:
    check_staff_csrf(request, _text(form, "csrf_token"))
    entered = _profile(form) | {"username": _text(form, "username")}
    try:
        created = admin.create_staff(
            _ctx(container),
            _id(member),
            username=entered["username"],
            display_name=entered["display_name"],
            roles=entered["roles"],
            languages=entered["languages"],
            services=entered["services"],
            ui_language=entered["ui_language"],
            password=_secret(form, "password"),
        )
    except DomainError as error:
        errors = _errors(request, member, [(_staff_field(error), error)])
        return _staff_form(request, member, entered, errors=errors, status_code=422)
    # Rendered, not redirected: a generated password must not be kept anywhere to survive
    # a redirect, so it is shown in this one response (never cached) and then it is gone.
    return _page(
        request,
        member,
        "admin/staff_created.html",
        section="staff",
        created=created.member,
        password=created.generated_password,
    )


@router.get("/staff/{staff_id}", response_class=HTMLResponse)
def staff_detail(
    request: Request, container: ContainerDep, member: Administrator, staff_id: int
) -> Response:
    account = admin.get_staff(_ctx(container), _id(member), staff_id)
    return _staff_page(request, member, account, entered=None, errors={})


@router.post("/staff/{staff_id}", response_class=HTMLResponse)
def staff_update(
    request: Request, container: ContainerDep, member: Administrator, staff_id: int, form: Form
) -> Response:
    check_staff_csrf(request, _text(form, "csrf_token"))
    entered = _profile(form)
    try:
        admin.update_staff(_ctx(container), _id(member), staff_id, **entered)
    except DomainError as error:
        account = admin.get_staff(_ctx(container), _id(member), staff_id)
        errors = _errors(request, member, [(_staff_field(error), error)])
        return _staff_page(request, member, account, entered=entered, errors=errors)
    return _done(f"/admin/staff/{staff_id}", "staff_saved")


@router.post("/staff/{staff_id}/password", response_class=HTMLResponse)
def staff_password(
    request: Request, container: ContainerDep, member: Administrator, staff_id: int, form: Form
) -> Response:
    check_staff_csrf(request, _text(form, "csrf_token"))
    try:
        generated = admin.set_password(
            _ctx(container), _id(member), staff_id, _secret(form, "password")
        )
    except DomainError as error:
        account = admin.get_staff(_ctx(container), _id(member), staff_id)
        errors = _errors(request, member, [("password", error)])
        return _staff_page(request, member, account, entered=None, errors=errors)
    if generated is None:
        return _done(f"/admin/staff/{staff_id}", "password_set")
    account = admin.get_staff(_ctx(container), _id(member), staff_id)
    # Shown once, in this response only: see staff_create.
    return _page(
        request,
        member,
        "admin/staff_password.html",
        section="staff",
        account=account,
        password=generated,
    )


@router.post("/staff/{staff_id}/second-factor")
def staff_reset_second_factor(
    request: Request, container: ContainerDep, member: Administrator, staff_id: int, form: Form
) -> Response:
    check_staff_csrf(request, _text(form, "csrf_token"))
    admin.reset_second_factor(_ctx(container), _id(member), staff_id)
    return _done(f"/admin/staff/{staff_id}", "second_factor_reset")


@router.post("/staff/{staff_id}/deactivate", response_class=HTMLResponse)
def staff_deactivate(
    request: Request, container: ContainerDep, member: Administrator, staff_id: int, form: Form
) -> Response:
    check_staff_csrf(request, _text(form, "csrf_token"))
    try:
        admin.deactivate_staff(_ctx(container), _id(member), staff_id)
    except DomainError as error:
        account = admin.get_staff(_ctx(container), _id(member), staff_id)
        errors = _errors(request, member, [("deactivate", error)])
        return _staff_page(request, member, account, entered=None, errors=errors)
    return _done(f"/admin/staff/{staff_id}", "deactivated")


@router.post("/staff/{staff_id}/reactivate")
def staff_reactivate(
    request: Request, container: ContainerDep, member: Administrator, staff_id: int, form: Form
) -> Response:
    check_staff_csrf(request, _text(form, "csrf_token"))
    admin.reactivate_staff(_ctx(container), _id(member), staff_id)
    return _done(f"/admin/staff/{staff_id}", "reactivated")


def _profile(form: FormData) -> dict[str, Any]:
    return {
        "display_name": _text(form, "display_name"),
        "roles": _texts(form, "roles"),
        "languages": _texts(form, "languages"),
        "services": _texts(form, "services"),
        "ui_language": _text(form, "ui_language") or "nl",
    }


def _staff_form(
    request: Request,
    member: StaffMember,
    entered: dict[str, Any],
    *,
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    return _page(
        request,
        member,
        "admin/staff_new.html",
        section="staff",
        status_code=status_code,
        entered=entered,
        errors=errors,
        languages=_language_choices(entered["languages"]),
    )


def _staff_page(
    request: Request,
    member: StaffMember,
    account: admin.StaffAccount,
    *,
    entered: dict[str, Any] | None,
    errors: dict[str, str],
) -> Response:
    person = account.member
    if entered is None:
        entered = {
            "display_name": person.display_name,
            "roles": [role.value for role in person.roles],
            "languages": sorted(person.skills.languages),
            "services": sorted(person.skills.services),
            "ui_language": person.ui_language,
        }
    return _page(
        request,
        member,
        "admin/staff_detail.html",
        section="staff",
        status_code=422 if errors else 200,
        account=account,
        person=person,
        is_self=person.id == member.id,
        entered=entered,
        errors=errors,
        languages=_language_choices(entered["languages"]),
    )


_STAFF_FIELDS = {
    "username": "username",
    "display_name": "display-name",
    "roles": "role-officer",
    "languages": "language-nl",
    "services": f"service-{CATALOGUE[0].code}",
    "ui_language": "ui-language",
    "password": "password",
    "active": "deactivate",
}


def _staff_field(error: DomainError) -> str:
    return _STAFF_FIELDS.get(error.field or "", "display-name")


# -- locations ------------------------------------------------------------------------------


@router.get("/locations", response_class=HTMLResponse)
def location_list(request: Request, container: ContainerDep, member: Administrator) -> Response:
    overviews = admin.list_all_locations(_ctx(container), _id(member))
    return _page(
        request,
        member,
        "admin/location_list.html",
        section="locations",
        overviews=overviews,
        local=_local,
    )


@router.get("/locations/new", response_class=HTMLResponse)
def location_new(request: Request, member: Administrator) -> Response:
    entered = {
        "code": "",
        "slug": "",
        "name": "",
        "municipality": "",
        "kind": LocationKind.POLICE_OFFICE.value,
        "time_zone_choice": COMMON_TIME_ZONES[0],
        "time_zone_other": "",
        "country": "BE",
        "languages": ["nl", "fr", "en"],
        "service_codes": [service.code for service in CATALOGUE],
    }
    return _location_form(request, member, entered, errors={})


@router.post("/locations/new", response_class=HTMLResponse)
def location_create(
    request: Request, container: ContainerDep, member: Administrator, form: Form
) -> Response:
    check_staff_csrf(request, _text(form, "csrf_token"))
    entered = _location_fields(form) | {
        "code": _text(form, "code").upper(),
        "slug": _text(form, "slug").lower(),
        "time_zone_choice": _text(form, "time_zone_choice"),
        "time_zone_other": _text(form, "time_zone_other"),
        "country": _text(form, "country"),
    }
    choice = entered["time_zone_choice"]
    time_zone = entered["time_zone_other"] if choice == "other" else choice
    try:
        location = admin.create_location(
            _ctx(container),
            _id(member),
            code=entered["code"],
            slug=entered["slug"],
            name=entered["name"],
            municipality=entered["municipality"],
            kind=entered["kind"],
            time_zone=time_zone,
            languages=entered["languages"],
            service_codes=entered["service_codes"],
            country=entered["country"],
        )
    except DomainError as error:
        field = _location_field(error)
        if field == "time-zone" and choice == "other":
            field = "time-zone-other"
        errors = _errors(request, member, [(field, error)])
        return _location_form(request, member, entered, errors=errors, status_code=422)
    return _done(f"/admin/locations/{location.slug}/hours", "location_created")


@router.get("/locations/{slug}", response_class=HTMLResponse)
def location_detail(
    request: Request, container: ContainerDep, member: Administrator, slug: str
) -> Response:
    location = admin.get_location(_ctx(container), _id(member), slug)
    return _location_page(request, container, member, location, entered=None, errors={})


@router.post("/locations/{slug}", response_class=HTMLResponse)
def location_update(
    request: Request, container: ContainerDep, member: Administrator, slug: str, form: Form
) -> Response:
    check_staff_csrf(request, _text(form, "csrf_token"))
    entered = _location_fields(form) | {"is_active": _text(form, "is_active") == "yes"}
    try:
        admin.update_location(
            _ctx(container),
            _id(member),
            slug,
            name=entered["name"],
            municipality=entered["municipality"],
            kind=entered["kind"],
            languages=entered["languages"],
            service_codes=entered["service_codes"],
            is_active=entered["is_active"],
        )
    except DomainError as error:
        location = admin.get_location(_ctx(container), _id(member), slug)
        errors = _errors(request, member, [(_location_field(error), error)])
        return _location_page(request, container, member, location, entered=entered, errors=errors)
    return _done(f"/admin/locations/{slug}", "location_saved")


def _location_fields(form: FormData) -> dict[str, Any]:
    return {
        "name": _text(form, "name"),
        "municipality": _text(form, "municipality"),
        "kind": _text(form, "kind"),
        "languages": _texts(form, "languages"),
        "service_codes": _texts(form, "service_codes"),
    }


def _location_form(
    request: Request,
    member: StaffMember,
    entered: dict[str, Any],
    *,
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    return _page(
        request,
        member,
        "admin/location_new.html",
        section="locations",
        status_code=status_code,
        entered=entered,
        errors=errors,
        languages=_language_choices(entered["languages"]),
        time_zones=COMMON_TIME_ZONES,
        countries=COUNTRIES,
    )


def _location_page(
    request: Request,
    container: Container,
    member: StaffMember,
    location: Location,
    *,
    entered: dict[str, Any] | None,
    errors: dict[str, str],
) -> Response:
    if entered is None:
        entered = {
            "name": location.name,
            "municipality": location.municipality,
            "kind": location.kind.value,
            "languages": list(location.languages),
            "service_codes": sorted(location.service_codes),
            "is_active": location.is_active,
        }
    now = container.queue.clock.now()
    return _page(
        request,
        member,
        "admin/location_detail.html",
        section="locations",
        status_code=422 if errors else 200,
        location=location,
        is_open=location.is_open_at(now),
        entered=entered,
        errors=errors,
        languages=_language_choices(entered["languages"]),
    )


_LOCATION_FIELDS = {
    "code": "code",
    "slug": "slug",
    "name": "name",
    "municipality": "municipality",
    "kind": "kind",
    "time_zone": "time-zone",
    "languages": "language-nl",
    "service_codes": f"service-{CATALOGUE[0].code}",
    "country": "country",
}


def _location_field(error: DomainError) -> str:
    return _LOCATION_FIELDS.get(error.field or "", "name")


# -- opening hours --------------------------------------------------------------------------

# A row the form showed: its position on the page, and the two times as entered.
Row = tuple[int, str, str]

_WEEKLY_PATH = re.compile(r"^weekly\.(\w+)(?:\[(\d+)\])?$")
_EXCEPTION_PATH = re.compile(r"^exceptions\[0\](?:\.(date|reason|ranges)(?:\[(\d+)\])?)?$")


@router.get("/locations/{slug}/hours", response_class=HTMLResponse)
def hours_page(
    request: Request, container: ContainerDep, member: Administrator, slug: str
) -> Response:
    location = admin.get_location(_ctx(container), _id(member), slug)
    return _hours_page(request, container, member, location)


@router.post("/locations/{slug}/hours", response_class=HTMLResponse)
def hours_update(
    request: Request, container: ContainerDep, member: Administrator, slug: str, form: Form
) -> Response:
    check_staff_csrf(request, _text(form, "csrf_token"))
    always_open = _text(form, "always_open") == "yes"
    rows = {day: _rows(form, day) for day in DAY_NAMES}
    weekly = {day: [[opens, closes] for _, opens, closes in rows[day]] for day in DAY_NAMES}
    problems: Sequence[DomainError] = admin.check_weekly_hours(weekly, always_open=always_open)
    if not problems:
        try:
            admin.set_weekly_hours(
                _ctx(container), _id(member), slug, weekly=weekly, always_open=always_open
            )
        except DomainError as error:
            problems = [error]
    if problems:
        location = admin.get_location(_ctx(container), _id(member), slug)
        entered = {"always_open": always_open, "weekly": _shown_rows(form)}
        errors = _errors(
            request, member, [_weekly_error(error, rows) for error in problems], days=True
        )
        return _hours_page(request, container, member, location, weekly=entered, errors=errors)
    return _done(f"/admin/locations/{slug}/hours", "hours_saved")


@router.post("/locations/{slug}/exceptions", response_class=HTMLResponse)
def exception_add(
    request: Request, container: ContainerDep, member: Administrator, slug: str, form: Form
) -> Response:
    check_staff_csrf(request, _text(form, "csrf_token"))
    rows = _rows(form, "exception")
    entered: dict[str, Any] = {
        "date": _text(form, "date"),
        "is_closed": _text(form, "is_closed", "yes") == "yes",
        "rows": _shown_rows(form, ("exception",))["exception"],
        "reason": _text(form, "reason"),
    }
    try:
        admin.add_exception(
            _ctx(container),
            _id(member),
            slug,
            day=entered["date"],
            is_closed=entered["is_closed"],
            ranges=[[opens, closes] for _, opens, closes in rows],
            reason=entered["reason"],
        )
    except DomainError as error:
        location = admin.get_location(_ctx(container), _id(member), slug)
        errors = _errors(request, member, [_exception_error(error, rows)])
        return _hours_page(request, container, member, location, exception=entered, errors=errors)
    return _done(f"/admin/locations/{slug}/hours", "exception_added")


@router.post("/locations/{slug}/exceptions/{day}/remove")
def exception_remove(
    request: Request,
    container: ContainerDep,
    member: Administrator,
    slug: str,
    day: date,
    form: Form,
) -> Response:
    check_staff_csrf(request, _text(form, "csrf_token"))
    admin.remove_exception(_ctx(container), _id(member), slug, day)
    return _done(f"/admin/locations/{slug}/hours", "exception_removed")


def _rows(form: FormData, prefix: str) -> list[Row]:
    """The filled-in rows of a day (or of the exception form); fully empty rows are skipped."""
    rows = []
    for index in range(MAX_RANGES):
        opens, closes = (
            _text(form, f"{prefix}_{index}_opens"),
            _text(form, f"{prefix}_{index}_closes"),
        )
        if opens or closes:
            rows.append((index, opens, closes))
    return rows


def _shown_rows(
    form: FormData, prefixes: Iterable[str] = DAY_NAMES
) -> dict[str, list[tuple[str, str]]]:
    """Every row as entered, empty ones too, so the page comes back as it was sent."""
    shown = {}
    for prefix in prefixes:
        rows = [
            (_text(form, f"{prefix}_{i}_opens"), _text(form, f"{prefix}_{i}_closes"))
            for i in range(MAX_RANGES)
            if f"{prefix}_{i}_opens" in form
        ]
        shown[prefix] = rows + [("", "")] * (RANGES_PER_DAY - len(rows))
    return shown


def _weekly_error(error: DomainError, rows: dict[str, list[Row]]) -> tuple[str, DomainError]:
    match = _WEEKLY_PATH.match(str(error.params.get("path", "")))
    if match is None:
        return "always-open", error
    day = match[1] if match[1] in rows else DAY_NAMES[0]
    return _range_field(day, error, rows[day], match[2]), error


def _exception_error(error: DomainError, rows: list[Row]) -> tuple[str, DomainError]:
    match = _EXCEPTION_PATH.match(str(error.params.get("path", "")))
    if match is None or match[1] in (None, "date"):
        return "exception-date", error
    if match[1] == "reason":
        return "exception-reason", error
    if not rows:
        return "exception-0-opens", error
    return _range_field("exception", error, rows, match[2]), error


def _range_field(prefix: str, error: DomainError, rows: list[Row], index: str | None) -> str:
    """The input at fault: the domain names the range; which of its two times, we tell."""
    position = int(index) if index is not None else 0
    row, opens, closes = rows[position] if position < len(rows) else (0, "", "")
    value = error.params.get("value")
    is_closing = error.code == "hours.invalid_range" or (
        error.code == "hours.invalid_time" and value == closes and value != opens
    )
    return f"{prefix}-{row}-{'closes' if is_closing else 'opens'}"


def _hours_page(
    request: Request,
    container: Container,
    member: StaffMember,
    location: Location,
    *,
    weekly: dict[str, Any] | None = None,
    exception: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    if weekly is None:
        stored = location.hours.to_dict()
        weekly = {
            "always_open": location.hours.is_always_open,
            "weekly": {
                day: [(pair[0], pair[1]) for pair in stored["weekly"][day]]
                + [("", "")] * (RANGES_PER_DAY - len(stored["weekly"][day]))
                for day in DAY_NAMES
            },
        }
    if exception is None:
        exception = {
            "date": "",
            "is_closed": True,
            "rows": [("", "")] * RANGES_PER_DAY,
            "reason": "",
        }
    now = container.queue.clock.now()
    return _page(
        request,
        member,
        "admin/hours.html",
        section="locations",
        status_code=422 if errors else 200,
        location=location,
        is_open=location.is_open_at(now),
        next_opening_at=_local(location.next_opening_after(now), location),
        today=location.local_date(now).isoformat(),
        weekly=weekly,
        exception=exception,
        exceptions=location.hours.to_dict()["exceptions"],
        errors=errors or {},
    )


# -- the service catalogue ------------------------------------------------------------------


@router.get("/services", response_class=HTMLResponse)
def services(request: Request, container: ContainerDep, member: Administrator) -> Response:
    offers = admin.service_offers(_ctx(container), _id(member))
    return _page(request, member, "admin/services.html", section="services", offers=offers)


# -- helpers --------------------------------------------------------------------------------


def _page(
    request: Request,
    member: StaffMember,
    template: str,
    *,
    section: str,
    status_code: int = 200,
    **context: Any,
) -> Response:
    language = staff_language(request, member)
    done = DONE.get(request.query_params.get("done", ""))
    return render(
        request,
        template,
        language,
        status_code=status_code,
        personal=True,
        member=member,
        csrf=staff_csrf(request),
        section=section,
        done=done,
        role_labels=ROLE_LABELS,
        status_labels=STATUS_LABELS,
        kind_labels=KIND_LABELS,
        service_kind_labels=SERVICE_KIND_LABELS,
        channel_labels=CHANNEL_LABELS,
        level_labels=LEVEL_LABELS,
        day_labels=DAY_LABELS,
        day_names=DAY_NAMES,
        catalogue=CATALOGUE,
        roles=list(Role),
        location_kinds=list(LocationKind),
        ui_languages=LANGUAGES,
        **context,
    )


def _done(url: str, key: str) -> Response:
    """After a change, GET the page again (so a reload does not post twice)."""
    return RedirectResponse(f"{url}?done={key}", status_code=303)


def _errors(
    request: Request,
    member: StaffMember,
    found: Iterable[tuple[str, DomainError]],
    *,
    days: bool = False,
) -> dict[str, str]:
    """Field id -> the translated message, the first problem of each field."""
    translate = gettext_for(staff_language(request, member)).gettext
    errors: dict[str, str] = {}
    for field, error in found:
        _, message = MESSAGES.get(error.code, MESSAGES["request.invalid"])
        text = translate(message)
        with contextlib.suppress(KeyError, ValueError, TypeError):
            text = text % {key: plain(value) for key, value in error.params.items()}
        day = field.split("-")[0]
        if days and day in DAY_LABELS:
            text = f"{translate(DAY_LABELS[day])}: {text}"
        errors.setdefault(field, text)
    return errors


def _language_choices(chosen: Iterable[str]) -> list[str]:
    """The languages we have pages in, plus any other a record already has."""
    extra = sorted(set(chosen) - set(LANGUAGES))
    return [*LANGUAGES, *extra]


def _local(moment: datetime | None, location: Location) -> datetime | None:
    return None if moment is None else moment.astimezone(location.zone)


def _text(form: FormData, name: str, default: str = "") -> str:
    value = form.get(name, default)
    return value.strip()[:MAX_FIELD] if isinstance(value, str) else default


def _secret(form: FormData, name: str) -> str:
    # Passwords as typed: spaces at either end are part of them.
    value = form.get(name, "")
    return value[:MAX_FIELD] if isinstance(value, str) else ""


def _texts(form: FormData, name: str) -> list[str]:
    return [value.strip()[:MAX_FIELD] for value in form.getlist(name) if isinstance(value, str)]
