"""What administrators change: staff accounts, desks, their opening hours; every change audited."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from loket.domain.audit import AuditAction, AuditRecord, DetailValue
from loket.domain.catalogue import CATALOGUE, Service, services_for
from loket.domain.errors import DomainError, Forbidden, Invalid, Refused
from loket.domain.locations import DAY_NAMES, Location, LocationKind, OpeningHours
from loket.domain.staff import OfficerStatus, Role, Skills, StaffMember
from loket.domain.tickets import QueuePolicy
from loket.services import staff as staff_service
from loket.services.ports import UnitOfWork
from loket.services.queue import QueueContext
from loket.services.staff import StaffContext, check_password_strength

_LANGUAGE = re.compile(r"^[a-z]{2}$")
MAX_NAME = 200
MAX_REASON = 200
# Generated passwords are read aloud or handed over on paper: no look-alike characters
# (0/O, 1/l/I), four groups of four, about 79 bits.
_HANDOVER_CHARACTERS = "abcdefghjkmnpqrstuvwxyz23456789"
_GROUPS = 4


@dataclass(frozen=True)
class AdminContext:
    """Administration touches both sides: accounts (staff) and desks with their queue."""

    staff: StaffContext
    queue: QueueContext


# -- staff accounts -------------------------------------------------------------------------


@dataclass(frozen=True)
class StaffAccount:
    """A staff member as the administrator sees it: the person and whether they enrolled."""

    member: StaffMember
    is_enrolled: bool


@dataclass(frozen=True)
class CreatedAccount:
    member: StaffMember
    generated_password: str | None  # shown once to the administrator, stored only as a hash


def generate_password(username: str) -> str:
    """A strong one-time password that is easy to hand over.

    Drawn again until it passes the same rules as a chosen one: a short username such as
    "an" turns up inside random letters now and then.
    """
    while True:
        groups = (
            "".join(secrets.choice(_HANDOVER_CHARACTERS) for _ in range(4)) for _ in range(_GROUPS)
        )
        password = "-".join(groups)
        if len(set(password)) < 8:
            continue
        try:
            check_password_strength(password, username)
        except Invalid:
            continue
        return password


def list_staff(ctx: AdminContext, actor_id: int) -> list[StaffAccount]:
    """Every account, active or not, by username. Errors: auth.forbidden."""
    with ctx.staff.uow(read_only=True) as uow:
        _require_admin(uow, actor_id)
        return [
            StaffAccount(member, uow.staff.credentials(_id(member.id)).totp_enrolled)
            for member in uow.staff.list()
        ]


def get_staff(ctx: AdminContext, actor_id: int, staff_id: int) -> StaffAccount:
    """One account. Errors: auth.forbidden, staff.unknown."""
    with ctx.staff.uow(read_only=True) as uow:
        _require_admin(uow, actor_id)
        member = uow.staff.get(staff_id)
        return StaffAccount(member, uow.staff.credentials(staff_id).totp_enrolled)


def create_staff(
    ctx: AdminContext,
    actor_id: int,
    *,
    username: str,
    display_name: str,
    roles: Iterable[str],
    languages: Iterable[str],
    services: Iterable[str],
    ui_language: str,
    password: str | None,
) -> CreatedAccount:
    """Create an account that enrols its authenticator app at the first sign-in.

    Without a password, one is generated and returned once. Errors: auth.forbidden,
    staff.invalid_username, staff.invalid_name, staff.no_role, staff.invalid_role,
    staff.invalid_language, service.unknown, staff.username_taken, password rules.
    Audit: create.
    """
    _check_admin(ctx, actor_id)
    username = username.strip()
    checked_roles, skills = _checked_profile(display_name, roles, languages, services, ui_language)
    # Built once here so a bad username or role is reported before the password.
    StaffMember(None, username, display_name.strip(), checked_roles, skills)
    generated = None
    if not password:
        password = generated = generate_password(username)
    created = staff_service.add_staff(
        ctx.staff,
        username=username,
        display_name=display_name.strip(),
        roles=checked_roles,
        languages=skills.languages,
        services=skills.services,
        password=password,
        ui_language=ui_language,
        actor=_actor(actor_id),
        enrolled=False,
        change_password_at_sign_in=True,
    )
    return CreatedAccount(created.member, generated)


def update_staff(
    ctx: AdminContext,
    actor_id: int,
    staff_id: int,
    *,
    display_name: str,
    roles: Iterable[str],
    languages: Iterable[str],
    services: Iterable[str],
    ui_language: str,
) -> StaffMember:
    """Change name, roles, skills and page language.

    Someone who loses the roles that serve the queue goes offline first and hands back
    their tickets. Errors: auth.forbidden, staff.unknown, staff.own_account (an
    administrator cannot take away their own administrator role), the profile errors of
    create_staff. Events: OfficerStatusChanged, TicketReturned. Audit: grant_role,
    revoke_role, update.
    """
    checked_roles, skills = _checked_profile(display_name, roles, languages, services, ui_language)
    now = ctx.staff.clock.now()
    with ctx.staff.uow() as uow:
        _require_admin(uow, actor_id)
        member = uow.staff.get_for_update(staff_id)
        if staff_id == actor_id and Role.ADMINISTRATOR not in checked_roles:
            raise Refused("staff.own_account", field="roles")
        before = replace(member, events=[])
        changed = replace(
            member,
            display_name=display_name.strip(),
            roles=checked_roles,
            skills=skills,
            ui_language=ui_language,
        )
        if member.can_serve and not changed.can_serve:
            _stand_down(uow, member, now, ctx.queue.policy)
        member.display_name = changed.display_name
        member.roles = changed.roles
        member.skills = changed.skills
        member.ui_language = changed.ui_language
        uow.staff.save(member)
        for role in sorted(checked_roles - before.roles):
            _record(uow, actor_id, AuditAction.GRANT_ROLE, "staff", staff_id, now, role=role.value)
        for role in sorted(before.roles - checked_roles):
            _record(uow, actor_id, AuditAction.REVOKE_ROLE, "staff", staff_id, now, role=role.value)
        fields = [
            name
            for name, old, new in (
                ("display_name", before.display_name, member.display_name),
                ("languages", before.skills.languages, member.skills.languages),
                ("services", before.skills.services, member.skills.services),
                ("ui_language", before.ui_language, member.ui_language),
            )
            if old != new
        ]
        if fields:
            _record(
                uow, actor_id, AuditAction.UPDATE, "staff", staff_id, now, fields=",".join(fields)
            )
        uow.commit()
        return member


def deactivate_staff(ctx: AdminContext, actor_id: int, staff_id: int) -> StaffMember:
    """Close an account: its sign-ins end now and its open tickets go back to the queue.

    Errors: auth.forbidden, staff.unknown, staff.own_account. Events: OfficerStatusChanged,
    TicketReturned. Audit: update (active false).
    """
    now = ctx.staff.clock.now()
    with ctx.staff.uow() as uow:
        _require_admin(uow, actor_id)
        if staff_id == actor_id:
            raise Refused("staff.own_account", field="active")
        member = uow.staff.get_for_update(staff_id)
        if not member.is_active:
            return member
        if member.can_serve:
            _stand_down(uow, member, now, ctx.queue.policy)
        member.is_active = False
        uow.staff.save(member)
        uow.tokens.revoke_all(staff_id, now)
        _record(uow, actor_id, AuditAction.UPDATE, "staff", staff_id, now, active=False)
        uow.commit()
        return member


def reactivate_staff(ctx: AdminContext, actor_id: int, staff_id: int) -> StaffMember:
    """Open a closed account again; the person signs in as before (offline until they choose).

    Errors: auth.forbidden, staff.unknown. Audit: update (active true).
    """
    now = ctx.staff.clock.now()
    with ctx.staff.uow() as uow:
        _require_admin(uow, actor_id)
        member = uow.staff.get_for_update(staff_id)
        if member.is_active:
            return member
        member.is_active = True
        uow.staff.save(member)
        _record(uow, actor_id, AuditAction.UPDATE, "staff", staff_id, now, active=True)
        uow.commit()
        return member


def reset_second_factor(ctx: AdminContext, actor_id: int, staff_id: int) -> StaffMember:
    """The person sets up their authenticator app again at the next sign-in; sign-ins end.

    Errors: auth.forbidden, staff.unknown. Audit: reset_credentials.
    """
    _check_admin(ctx, actor_id)
    return staff_service.reset_second_factor(ctx.staff, staff_id, actor=_actor(actor_id))


def set_password(
    ctx: AdminContext, actor_id: int, staff_id: int, password: str | None
) -> str | None:
    """Give an account a new password (generated when none is given, and then returned).

    Sign-ins of the account end: whoever knew the old password is out; the owner chooses
    their own at the next sign-in (`staff.choose_password`). Errors:
    auth.forbidden, staff.unknown, staff.password_too_short, staff.password_too_common.
    Audit: reset_credentials.
    """
    now = ctx.staff.clock.now()
    generated = None
    with ctx.staff.uow() as uow:
        _require_admin(uow, actor_id)
        member = uow.staff.get(staff_id)
        if not password:
            password = generated = generate_password(member.username)
        check_password_strength(password, member.username)
        credentials = uow.staff.credentials(staff_id)
        new_hash = ctx.staff.hasher.hash(password)
        # Someone else's new password is known to the administrator: the owner replaces it.
        uow.staff.save_credentials(
            staff_id,
            replace(
                credentials, password_hash=new_hash, password_change_required=staff_id != actor_id
            ),
        )
        uow.tokens.revoke_all(staff_id, now)
        _record(
            uow,
            actor_id,
            AuditAction.RESET_CREDENTIALS,
            "staff",
            staff_id,
            now,
            credential="password",
        )
        uow.commit()
    return generated


def _checked_profile(
    display_name: str,
    roles: Iterable[str],
    languages: Iterable[str],
    services: Iterable[str],
    ui_language: str,
) -> tuple[frozenset[Role], Skills]:
    name = display_name.strip()
    if not name or len(name) > MAX_NAME:
        raise Invalid("staff.invalid_name", field="display_name", maximum=MAX_NAME)
    try:
        checked_roles = frozenset(Role(role) for role in roles)
    except ValueError:
        raise Invalid("staff.invalid_role", field="roles") from None
    if not checked_roles:
        raise Invalid("staff.no_role", field="roles")
    checked_languages = frozenset(languages)
    for language in sorted(checked_languages):
        if not _LANGUAGE.match(language):
            raise Invalid("staff.invalid_language", field="languages", language=language)
    if not _LANGUAGE.match(ui_language):
        raise Invalid("staff.invalid_language", field="ui_language", language=ui_language)
    codes = frozenset(services)
    try:
        services_for(codes)
    except DomainError as error:
        raise Invalid(error.code, field="services", **error.params) from None
    return checked_roles, Skills(languages=checked_languages, services=codes)


def _stand_down(uow: UnitOfWork, member: StaffMember, now: datetime, policy: QueuePolicy) -> None:
    """Hand back the person's tickets and set them offline, as going offline does."""
    for ticket in uow.tickets.held_by(_id(member.id)):
        ticket.return_to_queue(now, policy, reason="officer_offline")
        uow.tickets.save(ticket)
    member.set_status(OfficerStatus.OFFLINE, now)


# -- locations and opening hours ------------------------------------------------------------


@dataclass(frozen=True)
class LocationOverview:
    location: Location
    is_open_now: bool
    next_opening_at: datetime | None


def list_all_locations(ctx: AdminContext, actor_id: int) -> list[LocationOverview]:
    """Every desk, also the inactive ones, with whether it is open now. Errors: auth.forbidden."""
    now = ctx.queue.clock.now()
    with ctx.queue.uow(read_only=True) as uow:
        _require_admin(uow, actor_id)
        locations = uow.locations.list()
    overviews = []
    for location in locations:
        is_open = location.is_open_at(now)
        opens = None if is_open else location.next_opening_after(now)
        overviews.append(LocationOverview(location, is_open, opens))
    return overviews


def get_location(ctx: AdminContext, actor_id: int, slug: str) -> Location:
    """One desk, active or not. Errors: auth.forbidden, location.unknown."""
    with ctx.queue.uow(read_only=True) as uow:
        _require_admin(uow, actor_id)
        return uow.locations.by_slug(slug)


def create_location(
    ctx: AdminContext,
    actor_id: int,
    *,
    code: str,
    slug: str,
    name: str,
    municipality: str,
    kind: str,
    time_zone: str,
    languages: Sequence[str],
    service_codes: Iterable[str],
    country: str,
) -> Location:
    """Add a desk. It starts without opening hours, so it is closed until they are set.

    Errors: auth.forbidden, location.* validation, location.code_taken, location.slug_taken,
    service.unknown. Audit: create.
    """
    location = Location(
        id=None,
        code=code.strip(),
        slug=slug.strip(),
        name=name.strip(),
        municipality=municipality.strip(),
        kind=_kind(kind),
        time_zone=time_zone.strip(),
        languages=tuple(languages),
        service_codes=_services(service_codes),
        hours=OpeningHours(),
        country=country.strip(),
    )
    now = ctx.queue.clock.now()
    with ctx.queue.uow() as uow:
        _require_admin(uow, actor_id)
        for other in uow.locations.list():
            if other.code == location.code:
                raise Refused("location.code_taken", field="code", value=location.code)
            if other.slug == location.slug:
                raise Refused("location.slug_taken", field="slug", slug=location.slug)
        uow.locations.add(location)
        _record(
            uow, actor_id, AuditAction.CREATE, "location", _id(location.id), now, code=location.code
        )
        uow.commit()
    return location


def update_location(
    ctx: AdminContext,
    actor_id: int,
    slug: str,
    *,
    name: str,
    municipality: str,
    kind: str,
    languages: Sequence[str],
    service_codes: Iterable[str],
    is_active: bool,
) -> Location:
    """Change what a desk is and offers. Errors: auth.forbidden, location.unknown,
    location.* validation, service.unknown. Audit: change_settings.
    """

    def change(location: Location) -> Location:
        return replace(
            location,
            name=name.strip(),
            municipality=municipality.strip(),
            kind=_kind(kind),
            languages=tuple(languages),
            service_codes=_services(service_codes),
            is_active=is_active,
        )

    return _change_location(ctx, actor_id, slug, "details", change)


def check_weekly_hours(
    weekly: Mapping[str, Sequence[Sequence[str]]], *, always_open: bool
) -> list[Invalid]:
    """Every problem with weekly hours as entered ("HH:MM" pairs per day), day by day.

    The domain stops at the first problem; a form wants to show them all at once.
    """
    problems: list[Invalid] = []
    for day in DAY_NAMES:
        try:
            OpeningHours.from_dict({"weekly": {day: _lists(weekly.get(day, ()))}})
        except Invalid as error:
            problems.append(error)
    if not problems:
        try:
            _weekly_hours(weekly, always_open, exceptions=[])
        except Invalid as error:
            problems.append(error)
    return problems


def set_weekly_hours(
    ctx: AdminContext,
    actor_id: int,
    slug: str,
    *,
    weekly: Mapping[str, Sequence[Sequence[str]]],
    always_open: bool,
) -> Location:
    """Replace a desk's weekly hours (or make it always open), keeping its dated exceptions.

    Errors: auth.forbidden, location.unknown, hours.* (with the path of the bad part).
    Audit: change_settings.
    """

    def change(location: Location) -> Location:
        exceptions = location.hours.to_dict()["exceptions"]
        return replace(location, hours=_weekly_hours(weekly, always_open, exceptions))

    return _change_location(ctx, actor_id, slug, "hours", change)


def add_exception(
    ctx: AdminContext,
    actor_id: int,
    slug: str,
    *,
    day: str,
    is_closed: bool,
    ranges: Sequence[Sequence[str]],
    reason: str,
) -> Location:
    """Add dated hours that replace the weekly ones: closed all day, or open in `ranges`.

    Errors: auth.forbidden, location.unknown, hours.invalid_date, hours.exception_in_past,
    hours.missing_ranges, hours.invalid_time, hours.invalid_range, hours.overlapping_ranges,
    hours.duplicate_exception (paths start at "exceptions[0]"). Audit: change_settings.
    """
    if is_closed:
        ranges = ()
    elif not ranges:
        # Open, but no hours given: most likely the editor forgot them, not "closed".
        raise Invalid("hours.missing_ranges", field="hours", path="exceptions[0].ranges")
    if len(reason.strip()) > MAX_REASON:
        raise Invalid("hours.reason_too_long", field="hours", path="exceptions[0].reason")
    entry = {"date": day.strip(), "ranges": _lists(ranges), "reason": reason.strip()}
    # Alone first, so a problem is reported with the path of this entry.
    parsed = OpeningHours.from_dict({"exceptions": [entry]}).exceptions[0]

    def change(location: Location) -> Location:
        if parsed.day < location.local_date(ctx.queue.clock.now()):
            raise Invalid("hours.exception_in_past", field="hours", path="exceptions[0].date")
        current = location.hours
        hours = OpeningHours(
            weekly=current.weekly,
            exceptions=(*current.exceptions, parsed),
            is_always_open=current.is_always_open,
        )
        return replace(location, hours=hours)

    return _change_location(ctx, actor_id, slug, "exception_added", change)


def remove_exception(ctx: AdminContext, actor_id: int, slug: str, day: date) -> Location:
    """Remove the dated hours of one day (nothing happens if there are none).

    Errors: auth.forbidden, location.unknown. Audit: change_settings.
    """

    def change(location: Location) -> Location:
        current = location.hours
        hours = OpeningHours(
            weekly=current.weekly,
            exceptions=tuple(e for e in current.exceptions if e.day != day),
            is_always_open=current.is_always_open,
        )
        return replace(location, hours=hours)

    return _change_location(ctx, actor_id, slug, "exception_removed", change)


def _change_location(
    ctx: AdminContext,
    actor_id: int,
    slug: str,
    what: str,
    change: Callable[[Location], Location],
) -> Location:
    now = ctx.queue.clock.now()
    with ctx.queue.uow() as uow:
        _require_admin(uow, actor_id)
        location = change(uow.locations.by_slug(slug))
        uow.locations.save(location)
        _record(
            uow,
            actor_id,
            AuditAction.CHANGE_SETTINGS,
            "location",
            _id(location.id),
            now,
            what=what,
        )
        uow.commit()
        return location


def _weekly_hours(
    weekly: Mapping[str, Sequence[Sequence[str]]],
    always_open: bool,
    exceptions: list[object],
) -> OpeningHours:
    return OpeningHours.from_dict(
        {
            "always_open": always_open,
            "weekly": {day: _lists(weekly.get(day, ())) for day in DAY_NAMES},
            "exceptions": exceptions,
        }
    )


def _lists(ranges: Iterable[Sequence[str]]) -> list[list[str]]:
    return [[str(part).strip() for part in pair] for pair in ranges]


def _kind(kind: str) -> LocationKind:
    try:
        return LocationKind(kind)
    except ValueError:
        raise Invalid("location.invalid_kind", field="kind") from None


def _services(codes: Iterable[str]) -> frozenset[str]:
    wanted = frozenset(codes)
    try:
        services_for(wanted)
    except DomainError as error:
        raise Invalid(error.code, field="service_codes", **error.params) from None
    return wanted


# -- the service catalogue ------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceOffer:
    service: Service
    locations: list[Location]


def service_offers(ctx: AdminContext, actor_id: int) -> list[ServiceOffer]:
    """The catalogue in its order, each service with the desks that offer it."""
    with ctx.queue.uow(read_only=True) as uow:
        _require_admin(uow, actor_id)
        locations = uow.locations.list()
    return [
        ServiceOffer(service, [loc for loc in locations if loc.offers(service.code)])
        for service in CATALOGUE
    ]


# -- helpers --------------------------------------------------------------------------------


def _check_admin(ctx: AdminContext, actor_id: int) -> None:
    with ctx.staff.uow(read_only=True) as uow:
        _require_admin(uow, actor_id)


def _require_admin(uow: UnitOfWork, actor_id: int) -> None:
    # The pages check the role too; checking here keeps the rule true for every caller.
    actor = uow.staff.get(actor_id)
    if not (actor.is_active and actor.has_role(Role.ADMINISTRATOR)):
        raise Forbidden("auth.forbidden")


def _record(
    uow: UnitOfWork,
    actor_id: int,
    action: AuditAction,
    subject_type: str,
    subject_id: int,
    at: datetime,
    **details: DetailValue,
) -> None:
    uow.audit.record(
        AuditRecord(
            actor=_actor(actor_id),
            action=action,
            subject_type=subject_type,
            subject_id=str(subject_id),
            at=at,
            details=details,
            personal_data=False,
        )
    )


def _actor(actor_id: int) -> str:
    return f"staff:{actor_id}"


def _id(value: int | None) -> int:
    assert value is not None, "stored records have an id"
    return value
