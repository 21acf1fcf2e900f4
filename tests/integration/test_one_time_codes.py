"""An authenticator code signs in once (RFC 6238, section 5.2), on SQLite and PostgreSQL.

Someone who watched an officer type a code, or caught it on its way, cannot use it as well
within the 90 seconds it is otherwise valid.
"""

from __future__ import annotations

import threading

import pyotp
import pytest
from sqlalchemy import select

from loket.adapters.db import schema as t
from loket.domain.audit import AuditAction
from loket.domain.errors import Refused
from loket.services import staff as staff_service
from tests.conftest import PASSWORD, FakeClock, World, add_officer


def code_at(world: World, username: str, steps_from_now: int) -> str:
    totp = pyotp.TOTP(world.totp_secrets[username])
    return totp.generate_otp(totp.timecode(world.container.queue.clock.now()) + steps_from_now)


def sign_in(world: World, code: str, address: str = "10.0.0.1") -> staff_service.SignedIn:
    return staff_service.sign_in(
        world.container.staff, username="an", password=PASSWORD, totp_code=code, address=address
    )


def failed_sign_ins(world: World, staff_id: int) -> int:
    with world.container.engine.connect() as conn:
        rows = conn.execute(
            select(t.audit_log.c.sequence).where(
                t.audit_log.c.action == AuditAction.SIGN_IN_FAILED.value,
                t.audit_log.c.subject_id == str(staff_id),
            )
        ).all()
    return len(rows)


def test_a_code_that_signed_in_is_refused_the_second_time(world: World) -> None:
    an = add_officer(world, "an")
    code = code_at(world, "an", 0)
    assert sign_in(world, code).member.id == an

    for address in ("10.0.0.1", "192.0.2.7"):  # the same person, or someone looking on
        with pytest.raises(Refused) as replayed:
            sign_in(world, code, address)
        assert replayed.value.code == "auth.failed"
    assert failed_sign_ins(world, an) == 2


def test_after_a_code_only_a_later_one_works(world: World, clock: FakeClock) -> None:
    add_officer(world, "an")
    sign_in(world, code_at(world, "an", 0))
    with pytest.raises(Refused):  # still valid by time (a slow phone), but older than the last
        sign_in(world, code_at(world, "an", -1))
    sign_in(world, code_at(world, "an", 1))  # a phone running ahead: accepted, once
    clock.advance(seconds=30)
    with pytest.raises(Refused):  # now the current code, but it signed in already
        sign_in(world, code_at(world, "an", 0))
    clock.advance(seconds=30)
    assert sign_in(world, code_at(world, "an", 0)).token


def test_the_browser_steps_and_the_enrolment_use_a_code_once(world: World) -> None:
    an = add_officer(world, "an")
    staff = world.container.staff
    code = code_at(world, "an", 0)
    checked = staff_service.check_password(staff, username="an", password=PASSWORD, address="x")
    staff_service.complete_sign_in(staff, staff_id=checked.staff_id, code=code, address="x")
    with pytest.raises(Refused):
        staff_service.complete_sign_in(staff, staff_id=an, code=code, address="x")

    jan = add_officer(world, "jan")
    with world.container.engine.begin() as conn:  # as after a reset of the second factor
        conn.execute(t.staff.update().where(t.staff.c.id == jan).values(totp_enrolled=False))
    secret = staff_service.start_enrolment(staff, jan).secret
    totp = pyotp.TOTP(secret)
    enrolment_code = totp.generate_otp(totp.timecode(staff.clock.now()))
    staff_service.confirm_enrolment(staff, staff_id=jan, code=enrolment_code, address="x")
    with pytest.raises(Refused):  # the code that enrolled does not sign in too
        staff_service.complete_sign_in(staff, staff_id=jan, code=enrolment_code, address="x")


def test_two_sign_ins_racing_with_one_code_let_one_in(world: World) -> None:
    add_officer(world, "an")
    code = code_at(world, "an", 0)
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt(address: str) -> None:
        start.wait()
        try:
            sign_in(world, code, address)
            outcomes.append("in")
        except Refused:
            outcomes.append("refused")

    threads = [threading.Thread(target=attempt, args=(a,)) for a in ("10.0.0.1", "10.0.0.2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["in", "refused"]
