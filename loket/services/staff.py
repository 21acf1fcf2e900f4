"""Staff accounts and sign-in: strong passwords, a second factor, short-lived tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import NoReturn

from loket.domain.audit import AuditAction, AuditRecord
from loket.domain.errors import Invalid, NotFound, Refused
from loket.domain.staff import Role, Skills, StaffMember
from loket.services.ports import (
    Clock,
    Credentials,
    PasswordHasher,
    SecondFactor,
    Throttle,
    UnitOfWork,
    UnitOfWorkFactory,
)

MIN_PASSWORD_LENGTH = 12
TOKEN_LIFETIME = timedelta(hours=12)
# After this many wrong attempts from one address, that address waits before its next try
# on that account; the wait doubles each time up to the cap.
FREE_ATTEMPTS = 5
FIRST_DELAY = timedelta(seconds=30)
MAX_DELAY = timedelta(minutes=5)

# A few of the most common passwords; the length rule already rules out most others.
_COMMON = {"password1234", "welkom123456", "wachtwoord12", "123456789012", "qwertyuiop12"}


@dataclass(frozen=True)
class StaffContext:
    uow: UnitOfWorkFactory
    clock: Clock
    hasher: PasswordHasher
    second_factor: SecondFactor


@dataclass(frozen=True)
class NewStaff:
    member: StaffMember
    totp_secret: str
    totp_uri: str


def check_password_strength(password: str, username: str) -> None:
    """Refuse weak passwords. Errors: staff.password_too_short, staff.password_too_common."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid("staff.password_too_short", field="password", minimum=MIN_PASSWORD_LENGTH)
    lowered = password.lower()
    if lowered in _COMMON or username.lower() in lowered or len(set(password)) < 5:
        raise Invalid("staff.password_too_common", field="password")


def add_staff(
    ctx: StaffContext,
    *,
    username: str,
    display_name: str,
    roles: frozenset[Role],
    languages: frozenset[str],
    services: frozenset[str],
    password: str,
    ui_language: str = "nl",
    actor: str = "system",
    enrolled: bool = True,
    change_password_at_sign_in: bool = False,
) -> NewStaff:
    """Create an account with a fresh TOTP secret. Errors: staff.username_taken, password rules.

    `enrolled` says the secret is handed over now (the CLI prints it); otherwise the person
    enrols at their first sign-in by scanning a QR code. `change_password_at_sign_in`: the
    password was chosen for them, so they choose their own when they first sign in.
    """
    check_password_strength(password, username)
    member = StaffMember(
        id=None,
        username=username,
        display_name=display_name,
        roles=roles,
        skills=Skills(languages=languages, services=services),
        ui_language=ui_language,
    )
    secret = ctx.second_factor.new_secret()
    with ctx.uow() as uow:
        if uow.staff.by_username(username) is not None:
            raise Refused("staff.username_taken", field="username", username=username)
        uow.staff.add(
            member,
            Credentials(
                password_hash=ctx.hasher.hash(password),
                totp_secret=secret,
                totp_enrolled=enrolled,
                password_change_required=change_password_at_sign_in,
            ),
        )
        uow.audit.record(_audit(actor, AuditAction.CREATE, member, ctx.clock.now()))
        uow.commit()
    return NewStaff(member, secret, ctx.second_factor.provisioning_uri(secret, username))


@dataclass(frozen=True)
class SignedIn:
    member: StaffMember
    token: str
    expires_at: datetime


@dataclass(frozen=True)
class NewPasswordNeeded:
    """Password and second factor were right, but the password is one an administrator set:
    no sign-in until the person chose their own (`choose_password`)."""

    staff_id: int


@dataclass(frozen=True)
class PasswordChecked:
    """The first step of a browser sign-in passed; the second factor comes next."""

    staff_id: int
    needs_enrolment: bool


def sign_in(
    ctx: StaffContext, *, username: str, password: str, totp_code: str, address: str = "unknown"
) -> SignedIn:
    """Check password and second factor at once (the API) and issue a token.

    Every failure looks the same to the caller (auth.failed), so it tells neither which part
    was wrong nor whether the account exists; auth.throttled says when to try again.
    """
    checked = check_password(ctx, username=username, password=password, address=address)
    if checked.needs_enrolment:
        # An account that never enrolled its second factor cannot use the API yet.
        raise Refused("auth.failed")
    result = complete_sign_in(ctx, staff_id=checked.staff_id, code=totp_code, address=address)
    if isinstance(result, NewPasswordNeeded):
        # Both secrets were right, so saying why is safe; the new password is chosen in the
        # browser, where the second factor is asked again.
        raise Refused("auth.password_change_required")
    return result


def check_password(
    ctx: StaffContext, *, username: str, password: str, address: str
) -> PasswordChecked:
    """Step one: the password. Errors: auth.failed, auth.throttled."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        _check_throttle(uow, username, address, now)
        member = uow.staff.by_username(username)
        if member is None or member.id is None or not member.is_active:
            ctx.hasher.verify(_dummy_hash(ctx.hasher), password)  # same time as a real check
            _fail(uow, username, address, now, None)
        assert member is not None and member.id is not None
        credentials = uow.staff.credentials(member.id)
        if not ctx.hasher.verify(credentials.password_hash, password):
            _fail(uow, username, address, now, member)
        return PasswordChecked(
            staff_id=member.id,
            needs_enrolment=not credentials.totp_enrolled or credentials.totp_secret is None,
        )


def complete_sign_in(
    ctx: StaffContext, *, staff_id: int, code: str, address: str
) -> SignedIn | NewPasswordNeeded:
    """Step two: the code from the authenticator app. Errors: auth.failed, auth.throttled."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        member = uow.staff.get(staff_id)
        _check_throttle(uow, member.username, address, now)
        credentials = uow.staff.credentials(staff_id)
        if not credentials.totp_enrolled or not _code_is_new(
            ctx, uow, staff_id, credentials.totp_secret, code, now
        ):
            _fail(uow, member.username, address, now, member)
        return _issue_token_or_ask_password(uow, member, credentials, address, now)


def choose_password(ctx: StaffContext, *, staff_id: int, password: str, address: str) -> SignedIn:
    """Step three, only after an administrator set the password: the person's own password.

    Call only once both secrets were checked (the browser keeps that in a signed cookie).
    Errors: auth.failed (no change was asked for), staff.password_too_short,
    staff.password_too_common, staff.password_not_new. Audit: update of the staff record.
    """
    now = ctx.clock.now()
    with ctx.uow() as uow:
        member = uow.staff.get(staff_id)
        credentials = uow.staff.credentials(staff_id)
        if not credentials.password_change_required or not member.is_active:
            raise Refused("auth.failed")
        check_password_strength(password, member.username)
        if ctx.hasher.verify(credentials.password_hash, password):
            raise Invalid("staff.password_not_new", field="password")
        uow.staff.save_credentials(
            staff_id,
            replace(
                credentials,
                password_hash=ctx.hasher.hash(password),
                password_change_required=False,
            ),
        )
        uow.audit.record(_audit(f"staff:{staff_id}", AuditAction.UPDATE, member, now, address))
        return _issue_token(uow, member, address, now)


@dataclass(frozen=True)
class Enrolment:
    secret: str
    uri: str


def start_enrolment(ctx: StaffContext, staff_id: int) -> Enrolment:
    """A fresh secret for an account that has not enrolled yet. Errors: auth.already_enrolled."""
    with ctx.uow() as uow:
        member = uow.staff.get(staff_id)
        credentials = uow.staff.credentials(staff_id)
        if credentials.totp_enrolled:
            raise Refused("auth.already_enrolled")
        secret = credentials.totp_secret or ctx.second_factor.new_secret()
        if credentials.totp_secret is None:
            uow.staff.save_credentials(staff_id, replace(credentials, totp_secret=secret))
            uow.commit()
        return Enrolment(secret, ctx.second_factor.provisioning_uri(secret, member.username))


def confirm_enrolment(
    ctx: StaffContext, *, staff_id: int, code: str, address: str
) -> SignedIn | NewPasswordNeeded:
    """The person proved they hold the secret: enrolment done, and they are signed in."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        member = uow.staff.get(staff_id)
        _check_throttle(uow, member.username, address, now)
        credentials = uow.staff.credentials(staff_id)
        if credentials.totp_enrolled:
            raise Refused("auth.already_enrolled")
        if not _code_is_new(ctx, uow, staff_id, credentials.totp_secret, code, now):
            _fail(uow, member.username, address, now, member)
        enrolled = replace(credentials, totp_enrolled=True)
        uow.staff.save_credentials(staff_id, enrolled)
        return _issue_token_or_ask_password(uow, member, enrolled, address, now)


def _code_is_new(
    ctx: StaffContext,
    uow: UnitOfWork,
    staff_id: int,
    secret: str | None,
    code: str,
    now: datetime,
) -> bool:
    """The code is the account's current one and was not used before: someone who saw it
    typed (or caught it on the way) cannot sign in with it too (RFC 6238, section 5.2)."""
    step = None if secret is None else ctx.second_factor.matched_step(secret, code, now)
    return step is not None and uow.staff.claim_code_step(staff_id, step)


def _issue_token_or_ask_password(
    uow: UnitOfWork, member: StaffMember, credentials: Credentials, address: str, now: datetime
) -> SignedIn | NewPasswordNeeded:
    if not credentials.password_change_required:
        return _issue_token(uow, member, address, now)
    assert member.id is not None
    uow.throttle.clear(member.username, address)
    uow.commit()
    return NewPasswordNeeded(member.id)


def _issue_token(uow: UnitOfWork, member: StaffMember, address: str, now: datetime) -> SignedIn:
    assert member.id is not None
    uow.throttle.clear(member.username, address)
    token = secrets.token_urlsafe(32)
    expires_at = now + TOKEN_LIFETIME
    uow.tokens.add(member.id, hash_token(token), now, expires_at)
    uow.audit.record(_audit(f"staff:{member.id}", AuditAction.SIGN_IN, member, now))
    uow.commit()
    return SignedIn(member=member, token=token, expires_at=expires_at)


def _check_throttle(uow: UnitOfWork, username: str, address: str, now: datetime) -> None:
    throttle = uow.throttle.get(username, address)
    if throttle and throttle.locked_until is not None and throttle.locked_until > now:
        seconds = int((throttle.locked_until - now).total_seconds()) + 1
        raise Refused("auth.throttled", retry_after=seconds)


def _fail(
    uow: UnitOfWork, username: str, address: str, now: datetime, member: StaffMember | None
) -> NoReturn:
    """Count the failure (committed, though the caller gets an error) and refuse."""
    earlier = uow.throttle.get(username, address)
    failures = (earlier.failures if earlier else 0) + 1
    locked_until = None
    if failures >= FREE_ATTEMPTS:
        locked_until = now + min(FIRST_DELAY * 2 ** (failures - FREE_ATTEMPTS), MAX_DELAY)
    uow.throttle.save(Throttle(username, address, failures, now, locked_until))
    if member is not None:
        actor = f"staff:{member.id}"
        uow.audit.record(_audit(actor, AuditAction.SIGN_IN_FAILED, member, now, address))
    uow.commit()
    raise Refused("auth.failed")


def staff_for_token(ctx: StaffContext, token: str) -> StaffMember | None:
    """The staff member a valid, unexpired, unrevoked token belongs to."""
    with ctx.uow(read_only=True) as uow:
        staff_id = uow.tokens.staff_for(hash_token(token), ctx.clock.now())
        if staff_id is None:
            return None
        member = uow.staff.get(staff_id)
        return member if member.is_active else None


def sign_out(ctx: StaffContext, token: str, *, everywhere: bool = False) -> None:
    with ctx.uow() as uow:
        now = ctx.clock.now()
        staff_id = uow.tokens.staff_for(hash_token(token), now)
        if staff_id is None:
            return
        if everywhere:
            uow.tokens.revoke_all(staff_id, now)
        else:
            uow.tokens.revoke(hash_token(token), now)
        member = uow.staff.get(staff_id)
        uow.audit.record(_audit(f"staff:{staff_id}", AuditAction.SIGN_OUT, member, now))
        uow.commit()


def hash_token(token: str) -> str:
    # Tokens are long random values, so a plain hash suffices (no salt, no slow hash).
    return hashlib.sha256(token.encode()).hexdigest()


def _audit(
    actor: str, action: AuditAction, member: StaffMember, at: datetime, address: str | None = None
) -> AuditRecord:
    return AuditRecord(
        actor=actor,
        action=action,
        subject_type="staff",
        subject_id=str(member.id),
        at=at,
        details={} if address is None else {"address": address},
        personal_data=False,
    )


_dummy_hashes: dict[int, str] = {}


def _dummy_hash(hasher: PasswordHasher) -> str:
    key = id(hasher)
    if key not in _dummy_hashes:
        _dummy_hashes[key] = hasher.hash(secrets.token_hex(16))
    return _dummy_hashes[key]


def find_staff(ctx: StaffContext, username: str) -> StaffMember:
    """The staff member with this username. Errors: staff.unknown."""
    with ctx.uow(read_only=True) as uow:
        member = uow.staff.by_username(username)
        if member is None:
            raise NotFound("staff.unknown", field="to_officer", username=username)
        return member


def reset_second_factor(ctx: StaffContext, staff_id: int, *, actor: str) -> StaffMember:
    """Forget the person's authenticator: a fresh secret, enrolled again at the next sign-in.

    Their sign-ins end now, so a lost or stolen phone opens nothing from this moment on.
    Errors: staff.unknown.
    """
    now = ctx.clock.now()
    with ctx.uow() as uow:
        member = uow.staff.get(staff_id)
        credentials = uow.staff.credentials(staff_id)
        uow.staff.save_credentials(
            staff_id,
            replace(credentials, totp_secret=ctx.second_factor.new_secret(), totp_enrolled=False),
        )
        uow.tokens.revoke_all(staff_id, now)
        record = _audit(actor, AuditAction.RESET_CREDENTIALS, member, now)
        uow.audit.record(replace(record, details={"credential": "second_factor"}))
        uow.commit()
        return member
