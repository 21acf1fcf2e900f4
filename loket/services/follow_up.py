"""Coming back to a report or tip: the secret shown on the confirmation page, a tipster adding
information with reference and passphrase, a citizen looking up a report's status, and the
officers' reading of what tipsters added.

Lookups answer unknown references, tips asked for a status and wrong secrets alike
(`follow_up.invalid`, `status.invalid`), compare in constant time, and verify a passphrase
against a stand-in hash when there is none, so the answer's timing tells nothing either.
Nothing about the caller is stored: no address, agent or session; the audit actor is
"citizen".
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property

from loket.domain.audit import AuditAction, DetailValue
from loket.domain.errors import ConcurrentUpdate, NotFound
from loket.domain.follow_up import (
    AccessCode,
    AccessPurpose,
    FollowUp,
    clean_follow_up,
    hash_status_code,
    new_passphrase,
    new_status_code,
    normalise_passphrase,
    normalise_reference,
    normalise_status_code,
)
from loket.domain.reports import Report, ReportState
from loket.services import reports as report_service
from loket.services.ports import PasswordHasher
from loket.services.queue import retrying
from loket.services.reports import ReportContext, _audit

# A second identical addition this soon after the first is a double submit, not news.
DUPLICATE_WINDOW = timedelta(minutes=10)
_STAND_IN_STATUS_HASH = "0" * 64
MAX_LISTED_TIPS = 200


@dataclass(frozen=True)
class FollowUpContext:
    reports: ReportContext
    hasher: PasswordHasher

    @cached_property
    def stand_in_hash(self) -> str:
        """A hash of nothing anyone holds: verified against when a reference is unknown, so an
        unknown reference costs the same time as a wrong passphrase."""
        return self.hasher.hash(secrets.token_urlsafe(24))


@dataclass(frozen=True)
class Access:
    """The secret for a submitted report or tip, as the confirmation page shows it.

    `secret` is None when it was shown before: only its hash is kept, so it cannot be shown
    again; the citizen may ask for a new one (the old one then stops working).
    """

    purpose: AccessPurpose
    secret: str | None


@dataclass(frozen=True)
class StatusView:
    reference: str
    state: ReportState
    changed_at: datetime
    time_zone: str


def purpose_of(ctx: FollowUpContext, report: Report) -> AccessPurpose:
    """Tips get a passphrase to add information; reports a code to look up their status."""
    form = report_service.get_form(ctx.reports, report.form_code)
    return AccessPurpose.FOLLOW_UP if form.kind == "tip" else AccessPurpose.STATUS


def first_access(ctx: FollowUpContext, draft_id: str) -> Access:
    """The secret of the draft's report, made the first time the confirmation is shown.

    Shown once: later views get `secret=None`. Errors: draft.unknown, report.unknown.
    """
    report = _report_of(ctx, draft_id)
    purpose = purpose_of(ctx, report)
    with ctx.reports.uow(read_only=True) as uow:
        existing = uow.follow_up.access_for(report.id, purpose)
    if existing is not None:
        return Access(purpose, None)
    secret, code = _new_secret(ctx, report, purpose)
    try:
        with ctx.reports.uow() as uow:
            if uow.follow_up.access_for(report.id, purpose, for_update=True) is not None:
                return Access(purpose, None)
            uow.follow_up.set_access(code)
            uow.commit()
    except ConcurrentUpdate:
        return Access(purpose, None)  # another view of the same page made it first
    return Access(purpose, secret)


def renew_access(ctx: FollowUpContext, draft_id: str) -> Access:
    """A new secret for the draft's report; the earlier one stops working.

    Errors: draft.unknown, report.unknown.
    """
    report = _report_of(ctx, draft_id)
    purpose = purpose_of(ctx, report)
    secret, code = _new_secret(ctx, report, purpose)

    def attempt() -> None:
        with ctx.reports.uow() as uow:
            uow.follow_up.set_access(code)
            uow.commit()

    retrying(attempt)
    return Access(purpose, secret)


def add_follow_up(
    ctx: FollowUpContext, typed_reference: str, typed_passphrase: str, text: str
) -> Report:
    """Add information to a tip with its reference and passphrase.

    Errors: follow_up.too_short, follow_up.too_long (field text); follow_up.invalid (unknown
    reference, not a tip, no passphrase kept, or a wrong one: one answer for all). A double
    submit of the same text adds it once. Audited as a creation, by "citizen".
    """
    cleaned = clean_follow_up(text)
    report = _verified(ctx, typed_reference, typed_passphrase)
    now = ctx.reports.clock.now()
    with ctx.reports.uow() as uow:
        earlier = uow.follow_up.follow_ups(report.id)
        last = earlier[-1] if earlier else None
        if last is not None and last.text == cleaned and now - last.added_at < DUPLICATE_WINDOW:
            return report
        uow.follow_up.add_follow_up(
            FollowUp(id=secrets.token_hex(16), report_id=report.id, text=cleaned, added_at=now)
        )
        _audit(uow, AuditAction.CREATE, "tip_follow_up", report.reference, now, {})
        uow.commit()
    return report


def look_up_status(ctx: FollowUpContext, typed_reference: str, typed_code: str) -> StatusView:
    """A report's state with reference and status code.

    Errors: status.invalid (unknown reference, a tip, no code kept, or a wrong code: one
    answer for all). Audited as a read by "citizen".
    """
    reference = normalise_reference(typed_reference) or ""
    code = normalise_status_code(typed_code) or ""
    report, access = _report_and_access(ctx, reference, AccessPurpose.STATUS)
    expected = access.secret_hash if access is not None else _STAND_IN_STATUS_HASH
    matches = hmac.compare_digest(expected, hash_status_code(reference, code))
    if not (matches and access is not None and report is not None and code):
        raise NotFound("status.invalid", field="reference")
    now = ctx.reports.clock.now()
    with ctx.reports.uow() as uow:
        location = uow.locations.get(report.location_id)
        _audit(uow, AuditAction.READ, "report_status", report.reference, now, {})
        uow.commit()
    return StatusView(
        reference=report.reference,
        state=report.state,
        changed_at=report.changed_at or report.submitted_at,
        time_zone=location.time_zone,
    )


def follow_ups_for(ctx: FollowUpContext, report: Report, *, actor: str) -> list[FollowUp]:
    """What the tipster added, for an officer; audited as a read when there is any."""
    with ctx.reports.uow() as uow:
        found = uow.follow_up.follow_ups(report.id)
        if found:
            now = ctx.reports.clock.now()
            details = {"count": len(found)}
            _audit(uow, AuditAction.READ, "tip_follow_up", report.reference, now, details, actor)
            uow.commit()
    return found


def list_tips(ctx: FollowUpContext, *, actor: str) -> list[tuple[Report, int]]:
    """Tips newest first with their number of additions, for officers. Audited as a search."""
    with ctx.reports.uow() as uow:
        found = uow.follow_up.submitted_tips(MAX_LISTED_TIPS)
        details: dict[str, DetailValue] = {"kind": "tips", "count": len(found)}
        now = ctx.reports.clock.now()
        _audit(uow, AuditAction.SEARCH, "report", "*", now, details, actor)
        uow.commit()
    return found


# -- helpers --------------------------------------------------------------------------------


def _report_of(ctx: FollowUpContext, draft_id: str) -> Report:
    with ctx.reports.uow(read_only=True) as uow:
        draft = uow.reports.get_draft(draft_id)
        if draft.report_id is None:
            raise NotFound("report.unknown")
        return uow.reports.get_report(draft.report_id)


def _new_secret(
    ctx: FollowUpContext, report: Report, purpose: AccessPurpose
) -> tuple[str, AccessCode]:
    now = ctx.reports.clock.now()
    if purpose is AccessPurpose.FOLLOW_UP:
        secret = new_passphrase()
        # Slow on purpose (argon2): words are fewer bits than a random code.
        digest = ctx.hasher.hash(secret)
    else:
        secret = new_status_code()
        digest = hash_status_code(report.reference, secret)
    return secret, AccessCode(report.id, purpose, digest, now)


def _report_and_access(
    ctx: FollowUpContext, reference: str, purpose: AccessPurpose
) -> tuple[Report | None, AccessCode | None]:
    if not reference:
        return None, None
    with ctx.reports.uow(read_only=True) as uow:
        try:
            report = uow.reports.report_by_reference(reference)
        except NotFound:
            return None, None
        if purpose_of(ctx, report) is not purpose:
            return report, None
        return report, uow.follow_up.access_for(report.id, purpose)


def _verified(ctx: FollowUpContext, typed_reference: str, typed_passphrase: str) -> Report:
    reference = normalise_reference(typed_reference) or ""
    passphrase = normalise_passphrase(typed_passphrase) or ""
    report, access = _report_and_access(ctx, reference, AccessPurpose.FOLLOW_UP)
    expected = access.secret_hash if access is not None else ctx.stand_in_hash
    # Always one slow verification, whatever is missing.
    matches = ctx.hasher.verify(expected, passphrase or "-")
    if not (matches and access is not None and report is not None and passphrase):
        raise NotFound("follow_up.invalid", field="reference")
    return report
