"""Administration through the services, on SQLite and on PostgreSQL: accounts, desks, hours."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from loket.adapters.db.audit_reader import entries
from loket.domain.audit import AuditAction, verify_chain
from loket.domain.errors import Forbidden, Invalid, Refused
from loket.domain.staff import OfficerStatus, Role
from loket.domain.tickets import TicketState
from loket.services import administration as admin
from loket.services import queue
from loket.services import staff as staff_service
from loket.services.locations import get_location
from tests.conftest import PASSWORD, World, add_officer

NEW_PASSWORD = "rivers of Limburg 2027"
# OPEN_HOURS (Tuesday 12 January 2027, 10:00 in Brussels) as seen from the desk.
TUESDAY = datetime(2027, 1, 12, 9, 0, tzinfo=UTC)


def ctx(world: World) -> admin.AdminContext:
    return admin.AdminContext(staff=world.container.staff, queue=world.container.queue)


def an_admin(world: World) -> int:
    return add_officer(world, "root", roles=frozenset({Role.ADMINISTRATOR}), status=None)


def audit_trail(world: World) -> list[tuple[str, AuditAction, str, str, dict[str, object]]]:
    return [
        (
            e.record.actor,
            e.record.action,
            e.record.subject_type,
            e.record.subject_id,
            dict(e.record.details),
        )
        for e in entries(world.container.engine)
    ]


def create(world: World, actor: int, username: str = "jan", **overrides: object):
    values: dict[str, object] = {
        "username": username,
        "display_name": "Jan Peeters",
        "roles": ["officer"],
        "languages": ["nl", "fr"],
        "services": ["contact.video"],
        "ui_language": "fr",
        "password": PASSWORD,
    }
    values.update(overrides)
    return admin.create_staff(ctx(world), actor, **values)  # type: ignore[arg-type]


def sign_in_with_token(world: World, username: str) -> str:
    return staff_service.sign_in(
        world.container.staff, username=username, password=PASSWORD, totp_code=world.code(username)
    ).token


# -- staff accounts -------------------------------------------------------------------------


def test_a_new_account_signs_in_only_after_enrolling_its_authenticator(world: World) -> None:
    root = an_admin(world)
    created = create(world, root)
    assert created.generated_password is None
    staff = world.container.staff

    checked = staff_service.check_password(
        staff, username="jan", password=PASSWORD, address="10.0.0.1"
    )
    assert checked.needs_enrolment
    with pytest.raises(Refused):  # the API has no enrolment step
        staff_service.sign_in(staff, username="jan", password=PASSWORD, totp_code="123456")

    enrolment = staff_service.start_enrolment(staff, checked.staff_id)
    code = world.container.totp.current_code(enrolment.secret, staff.clock.now())
    enrolled = staff_service.confirm_enrolment(
        staff, staff_id=checked.staff_id, code=code, address="10.0.0.1"
    )
    # The administrator chose the password: no sign-in until jan chose his own.
    assert enrolled == staff_service.NewPasswordNeeded(checked.staff_id)
    signed_in = staff_service.choose_password(
        staff, staff_id=checked.staff_id, password=NEW_PASSWORD, address="10.0.0.1"
    )
    assert signed_in.member.username == "jan"
    account = admin.get_staff(ctx(world), root, checked.staff_id)
    assert account.is_enrolled
    assert account.member.skills.languages == {"nl", "fr"}
    assert account.member.ui_language == "fr"
    assert ("staff:" + str(root), AuditAction.CREATE, "staff", str(checked.staff_id), {}) in (
        audit_trail(world)
    )


def test_without_a_password_a_strong_one_is_generated_and_works(world: World) -> None:
    root = an_admin(world)
    created = create(world, root, password="")
    password = created.generated_password
    assert password is not None and len(password) == 19
    staff_service.check_password(
        world.container.staff, username="jan", password=password, address="10.0.0.1"
    )


def test_a_generated_password_never_contains_the_username() -> None:
    # With a one-letter username, about four in ten random draws contain it.
    for _ in range(60):
        password = admin.generate_password("e")
        assert "e" not in password
        staff_service.check_password_strength(password, "e")


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"username": "jan peeters"}, "staff.invalid_username", "username"),
        ({"display_name": "  "}, "staff.invalid_name", "display_name"),
        ({"roles": []}, "staff.no_role", "roles"),
        ({"roles": ["king"]}, "staff.invalid_role", "roles"),
        ({"languages": ["dutch"]}, "staff.invalid_language", "languages"),
        ({"services": ["report.everything"]}, "service.unknown", "services"),
        ({"password": "short"}, "staff.password_too_short", "password"),
    ],
)
def test_a_bad_new_account_is_refused_with_the_field_at_fault(
    world: World, overrides: dict[str, object], code: str, field: str
) -> None:
    root = an_admin(world)
    with pytest.raises(Invalid) as raised:
        create(world, root, **overrides)
    assert (raised.value.code, raised.value.field) == (code, field)
    assert [a.member.username for a in admin.list_staff(ctx(world), root)] == ["root"]


def test_only_an_administrator_may_administer(world: World) -> None:
    officer = add_officer(world, "an")
    with pytest.raises(Forbidden):
        create(world, officer)
    with pytest.raises(Forbidden):
        admin.set_weekly_hours(ctx(world), officer, "bree", weekly={}, always_open=True)
    with pytest.raises(Forbidden):
        admin.list_staff(ctx(world), officer)


def test_closing_an_account_ends_its_sign_ins_and_hands_back_its_tickets(world: World) -> None:
    root = an_admin(world)
    an = add_officer(world, "an")
    token = sign_in_with_token(world, "an")
    q = world.container.queue
    ticket = queue.take_ticket(
        q, location_slug="bree", service_code="contact.video", language="nl", channel="kiosk"
    )
    queue.offer_next(q, an)
    queue.accept_ticket(q, an, ticket.id, booth="1")

    closed = admin.deactivate_staff(ctx(world), root, an)

    assert not closed.is_active and closed.status is OfficerStatus.OFFLINE
    back = queue.ticket_status(q, ticket.id).ticket
    assert back.state is TicketState.WAITING and back.is_returned and back.officer_id is None
    assert staff_service.staff_for_token(world.container.staff, token) is None
    with pytest.raises(Refused):
        staff_service.check_password(
            world.container.staff, username="an", password=PASSWORD, address="10.0.0.1"
        )
    # Opening it again does not bring the old sign-in back.
    admin.reactivate_staff(ctx(world), root, an)
    assert staff_service.staff_for_token(world.container.staff, token) is None
    assert sign_in_with_token(world, "an")
    trail = audit_trail(world)
    assert (f"staff:{root}", AuditAction.UPDATE, "staff", str(an), {"active": False}) in trail
    assert (f"staff:{root}", AuditAction.UPDATE, "staff", str(an), {"active": True}) in trail


def test_an_administrator_cannot_close_their_own_account_or_drop_their_role(
    world: World,
) -> None:
    root = an_admin(world)
    with pytest.raises(Refused) as raised:
        admin.deactivate_staff(ctx(world), root, root)
    assert raised.value.code == "staff.own_account"
    with pytest.raises(Refused):
        admin.update_staff(
            ctx(world),
            root,
            root,
            display_name="Root",
            roles=["officer"],
            languages=["nl"],
            services=[],
            ui_language="nl",
        )
    assert admin.get_staff(ctx(world), root, root).member.has_role(Role.ADMINISTRATOR)


def test_taking_away_the_officer_role_hands_back_tickets_and_audits_each_role(
    world: World,
) -> None:
    root = an_admin(world)
    an = add_officer(world, "an")
    q = world.container.queue
    ticket = queue.take_ticket(
        q, location_slug="bree", service_code="contact.video", language="nl", channel="kiosk"
    )
    queue.offer_next(q, an)

    changed = admin.update_staff(
        ctx(world),
        root,
        an,
        display_name="An Janssens",
        roles=["host"],
        languages=["nl"],
        services=["contact.video"],
        ui_language="en",
    )

    assert changed.roles == {Role.HOST} and changed.status is OfficerStatus.OFFLINE
    assert queue.ticket_status(q, ticket.id).ticket.state is TicketState.WAITING
    trail = [entry for entry in audit_trail(world) if entry[3] == str(an)]
    actions = [(action, details) for _, action, _, _, details in trail[-3:]]
    assert actions == [
        (AuditAction.GRANT_ROLE, {"role": "host"}),
        (AuditAction.REVOKE_ROLE, {"role": "officer"}),
        (AuditAction.UPDATE, {"fields": "display_name,languages,services,ui_language"}),
    ]


def test_resetting_the_second_factor_makes_the_person_enrol_again(world: World) -> None:
    root = an_admin(world)
    an = add_officer(world, "an", status=None)
    token = sign_in_with_token(world, "an")
    old_secret = world.totp_secrets["an"]

    admin.reset_second_factor(ctx(world), root, an)

    staff = world.container.staff
    assert staff_service.staff_for_token(staff, token) is None
    checked = staff_service.check_password(
        staff, username="an", password=PASSWORD, address="10.0.0.1"
    )
    assert checked.needs_enrolment
    assert staff_service.start_enrolment(staff, an).secret != old_secret
    assert (
        f"staff:{root}",
        AuditAction.RESET_CREDENTIALS,
        "staff",
        str(an),
        {"credential": "second_factor"},
    ) in audit_trail(world)


def test_a_new_password_replaces_the_old_one_and_ends_sign_ins(world: World) -> None:
    root = an_admin(world)
    an = add_officer(world, "an", status=None)
    token = sign_in_with_token(world, "an")
    staff = world.container.staff
    with pytest.raises(Invalid) as raised:
        admin.set_password(ctx(world), root, an, "an-an-an-an-an")
    assert raised.value.code == "staff.password_too_common"

    assert admin.set_password(ctx(world), root, an, NEW_PASSWORD) is None

    assert staff_service.staff_for_token(staff, token) is None
    staff_service.check_password(staff, username="an", password=NEW_PASSWORD, address="x")
    with pytest.raises(Refused):
        staff_service.check_password(staff, username="an", password=PASSWORD, address="x")
    generated = admin.set_password(ctx(world), root, an, None)
    assert generated is not None
    staff_service.check_password(staff, username="an", password=generated, address="x")


def test_a_password_set_by_an_administrator_is_replaced_at_the_next_sign_in(
    world: World,
) -> None:
    root = an_admin(world)
    an = add_officer(world, "an", status=None)
    staff = world.container.staff
    generated = admin.set_password(ctx(world), root, an, None)
    assert generated is not None
    with pytest.raises(Refused) as api:  # the API cannot choose a password
        staff_service.sign_in(staff, username="an", password=generated, totp_code=world.code("an"))
    assert api.value.code == "auth.password_change_required"

    checked = staff_service.check_password(staff, username="an", password=generated, address="x")
    second = staff_service.complete_sign_in(
        staff, staff_id=checked.staff_id, code=world.code("an"), address="x"
    )
    assert second == staff_service.NewPasswordNeeded(an)
    for weak, code in (
        (generated, "staff.password_not_new"),
        ("an-an-an-an-an", "staff.password_too_common"),
    ):
        with pytest.raises(Invalid) as refused:
            staff_service.choose_password(staff, staff_id=an, password=weak, address="x")
        assert (refused.value.code, refused.value.field) == (code, "password")

    signed_in = staff_service.choose_password(
        staff, staff_id=an, password=NEW_PASSWORD, address="x"
    )
    assert staff_service.staff_for_token(staff, signed_in.token) is not None
    assert ("staff:" + str(an), AuditAction.UPDATE, "staff", str(an), {"address": "x"}) in (
        audit_trail(world)
    )
    # Chosen once: a second call (a replayed form) changes nothing, the next sign-in is plain.
    with pytest.raises(Refused):
        staff_service.choose_password(
            staff, staff_id=an, password="another fine pass 9", address="x"
        )
    staff.clock.advance(seconds=30)  # a third code: the authenticator shows the next one
    again = staff_service.sign_in(
        staff, username="an", password=NEW_PASSWORD, totp_code=world.code("an")
    )
    assert again.member.id == an


def test_an_administrator_setting_their_own_password_keeps_it(world: World) -> None:
    root = an_admin(world)
    admin.set_password(ctx(world), root, root, NEW_PASSWORD)
    signed_in = staff_service.sign_in(
        world.container.staff, username="root", password=NEW_PASSWORD, totp_code=world.code("root")
    )
    assert signed_in.member.id == root


# -- desks and opening hours ----------------------------------------------------------------


def test_new_weekly_hours_change_when_the_desk_is_open(world: World) -> None:
    root = an_admin(world)
    q = world.container.queue
    assert get_location(q, "bree").is_open_at(TUESDAY)  # 07:00-21:00 on Tuesdays

    admin.set_weekly_hours(
        ctx(world),
        root,
        "bree",
        weekly={"tue": [["13:00", "17:00"]], "wed": [["08:00", "12:00"], ["13:00", "24:00"]]},
        always_open=False,
    )

    bree = get_location(q, "bree")
    assert not bree.is_open_at(TUESDAY)
    assert bree.next_opening_after(TUESDAY) == datetime(2027, 1, 12, 12, 0, tzinfo=UTC)
    assert bree.hours.to_dict()["weekly"]["wed"] == [["08:00", "12:00"], ["13:00", "24:00"]]
    assert bree.hours.exceptions, "the dated exceptions stay"
    assert (
        f"staff:{root}",
        AuditAction.CHANGE_SETTINGS,
        "location",
        str(bree.id),
        {"what": "hours"},
    ) in audit_trail(world)


@pytest.mark.parametrize(
    ("weekly", "always_open", "code", "path"),
    [
        ({"tue": [["17:00", "09:00"]]}, False, "hours.invalid_range", "weekly.tue[0]"),
        ({"tue": [["9h", "17:00"]]}, False, "hours.invalid_time", "weekly.tue[0]"),
        (
            {"tue": [["08:00", "13:00"], ["12:00", "17:00"]]},
            False,
            "hours.overlapping_ranges",
            "weekly.tue",
        ),
        ({"tue": [["08:00", "17:00"]]}, True, "hours.always_open_with_weekly", None),
    ],
)
def test_invalid_hours_are_refused_with_a_code_and_nothing_is_saved(
    world: World,
    weekly: dict[str, list[list[str]]],
    always_open: bool,
    code: str,
    path: str | None,
) -> None:
    root = an_admin(world)
    before = get_location(world.container.queue, "bree").hours
    trail_before = len(audit_trail(world))

    with pytest.raises(Invalid) as raised:
        admin.set_weekly_hours(ctx(world), root, "bree", weekly=weekly, always_open=always_open)

    assert raised.value.code == code and raised.value.params.get("path") == path
    assert get_location(world.container.queue, "bree").hours == before
    assert len(audit_trail(world)) == trail_before


def test_checking_weekly_hours_reports_every_bad_day_at_once() -> None:
    problems = admin.check_weekly_hours(
        {"mon": [["10:00", "09:00"]], "tue": [["08:00", "12:00"]], "fri": [["25:00", "26:00"]]},
        always_open=False,
    )
    assert [(p.code, p.params["path"]) for p in problems] == [
        ("hours.invalid_range", "weekly.mon[0]"),
        ("hours.invalid_time", "weekly.fri[0]"),
    ]
    assert admin.check_weekly_hours({"tue": [["08:00", "12:00"]]}, always_open=False) == []


def test_special_hours_close_a_day_and_can_be_removed(world: World) -> None:
    root = an_admin(world)
    q = world.container.queue
    admin.add_exception(
        ctx(world), root, "bree", day="2027-01-12", is_closed=True, ranges=[], reason="Strike"
    )
    assert not get_location(q, "bree").is_open_at(TUESDAY)

    with pytest.raises(Invalid) as raised:
        admin.add_exception(
            ctx(world), root, "bree", day="2027-01-12", is_closed=True, ranges=[], reason=""
        )
    assert raised.value.code == "hours.duplicate_exception"
    with pytest.raises(Invalid) as raised:
        admin.add_exception(
            ctx(world), root, "bree", day="2027-01-11", is_closed=True, ranges=[], reason=""
        )
    assert raised.value.code == "hours.exception_in_past"
    with pytest.raises(Invalid) as raised:
        admin.add_exception(
            ctx(world), root, "bree", day="2027-01-13", is_closed=False, ranges=[], reason=""
        )
    assert raised.value.code == "hours.missing_ranges"
    with pytest.raises(Invalid) as raised:
        admin.add_exception(
            ctx(world),
            root,
            "bree",
            day="2027-01-13",
            is_closed=False,
            ranges=[["10:00", "12:00"], ["14:00", "13:00"]],
            reason="",
        )
    assert raised.value.params["path"] == "exceptions[0].ranges[1]"

    admin.remove_exception(ctx(world), root, "bree", date(2027, 1, 12))
    assert get_location(q, "bree").is_open_at(TUESDAY)


def test_a_desk_is_created_closed_and_its_details_change(world: World) -> None:
    root = an_admin(world)
    created = admin.create_location(
        ctx(world),
        root,
        code="LNK",
        slug="lanaken",
        name="Politiekantoor Lanaken",
        municipality="Lanaken",
        kind="police_office",
        time_zone="Europe/Brussels",
        languages=["nl", "fr"],
        service_codes=["contact.video", "info.general"],
        country="BE",
    )
    overview = {o.location.slug: o for o in admin.list_all_locations(ctx(world), root)}
    assert not overview["lanaken"].is_open_now
    with pytest.raises(Refused) as raised:
        admin.create_location(
            ctx(world),
            root,
            code="LNK",
            slug="lanaken-2",
            name="Twee",
            municipality="Lanaken",
            kind="police_office",
            time_zone="Europe/Brussels",
            languages=["nl"],
            service_codes=[],
            country="BE",
        )
    assert raised.value.code == "location.code_taken"
    with pytest.raises(Invalid) as raised:
        admin.create_location(
            ctx(world),
            root,
            code="MAA",
            slug="maasmechelen",
            name="Maasmechelen",
            municipality="Maasmechelen",
            kind="police_office",
            time_zone="Europe/Nowhere",
            languages=["nl"],
            service_codes=[],
            country="BE",
        )
    assert (raised.value.code, raised.value.field) == ("location.invalid_time_zone", "time_zone")

    admin.update_location(
        ctx(world),
        root,
        "lanaken",
        name="Politiehuis Lanaken",
        municipality="Lanaken",
        kind="town_hall",
        languages=["nl", "de"],
        service_codes=["contact.video"],
        is_active=False,
    )
    changed = admin.get_location(ctx(world), root, "lanaken")
    assert (changed.name, changed.kind.value, changed.languages) == (
        "Politiehuis Lanaken",
        "town_hall",
        ("nl", "de"),
    )
    assert changed.service_codes == {"contact.video"} and not changed.is_active
    offers = {o.service.code: o for o in admin.service_offers(ctx(world), root)}
    assert "lanaken" not in [loc.slug for loc in offers["info.general"].locations]
    trail = audit_trail(world)
    assert (f"staff:{root}", AuditAction.CREATE, "location", str(created.id), {"code": "LNK"}) in (
        trail
    )
    assert verify_chain(entries(world.container.engine)).is_intact
