"""Staff accounts and sign-in: strong passwords, a second factor, short-lived tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from loket.domain.audit import AuditAction, AuditRecord
from loket.domain.errors import Invalid, NotFound, Refused
from loket.domain.staff import Role, Skills, StaffMember
from loket.services.ports import (
    Clock,
    Credentials,
    PasswordHasher,
    SecondFactor,
    UnitOfWorkFactory,
)

MIN_PASSWORD_LENGTH = 12
TOKEN_LIFETIME = timedelta(hours=12)
# After this many wrong attempts the account waits before the next try; the wait doubles
# each time up to the cap. A short cap means a guesser cannot lock an officer out for long.
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
) -> NewStaff:
    """Create an account with a fresh TOTP secret. Errors: staff.username_taken, password rules."""
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
                failed_attempts=0,
                locked_until=None,
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


def sign_in(ctx: StaffContext, *, username: str, password: str, totp_code: str) -> SignedIn:
    """Check password and second factor and issue a token.

    Every failure looks the same to the caller (auth.failed) so that it does not tell which
    part was wrong or whether the account exists; auth.throttled says when to try again.
    """
    now = ctx.clock.now()
    with ctx.uow() as uow:
        member = uow.staff.by_username(username)
        if member is None or member.id is None or not member.is_active:
            ctx.hasher.verify(_DUMMY_HASH(ctx.hasher), password)  # same time as a real check
            raise Refused("auth.failed")
        credentials = uow.staff.credentials(member.id)
        if credentials.locked_until is not None and credentials.locked_until > now:
            raise Refused(
                "auth.throttled",
                retry_after=int((credentials.locked_until - now).total_seconds()) + 1,
            )
        password_ok = ctx.hasher.verify(credentials.password_hash, password)
        factor_ok = credentials.totp_secret is not None and ctx.second_factor.verify(
            credentials.totp_secret, totp_code, now
        )
        if not (password_ok and factor_ok):
            failed = credentials.failed_attempts + 1
            locked_until = None
            if failed >= FREE_ATTEMPTS:
                delay = min(FIRST_DELAY * 2 ** (failed - FREE_ATTEMPTS), MAX_DELAY)
                locked_until = now + delay
            uow.staff.save_credentials(
                member.id, replace(credentials, failed_attempts=failed, locked_until=locked_until)
            )
            uow.audit.record(_audit(f"staff:{member.id}", AuditAction.SIGN_IN_FAILED, member, now))
            uow.commit()
            raise Refused("auth.failed")
        uow.staff.save_credentials(
            member.id, replace(credentials, failed_attempts=0, locked_until=None)
        )
        token = secrets.token_urlsafe(32)
        expires_at = now + TOKEN_LIFETIME
        uow.tokens.add(member.id, hash_token(token), now, expires_at)
        uow.audit.record(_audit(f"staff:{member.id}", AuditAction.SIGN_IN, member, now))
        uow.commit()
        return SignedIn(member=member, token=token, expires_at=expires_at)


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


def _audit(actor: str, action: AuditAction, member: StaffMember, at: datetime) -> AuditRecord:
    return AuditRecord(
        actor=actor,
        action=action,
        subject_type="staff",
        subject_id=str(member.id),
        at=at,
        details={},
        personal_data=False,
    )


_dummy_hashes: dict[int, str] = {}


def _DUMMY_HASH(hasher: PasswordHasher) -> str:
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
