"""Identifying the citizen of a draft: verified online (OIDC) or by an officer on camera.

The level a report type needs comes from the catalogue (domain/identification.py); the level
reached is kept on the draft and copied onto the report and its signed statement. Every
verification is audited; what is stored of it is minimal (see docs/identification.md).
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from loket.domain.audit import AuditAction, AuditRecord, DetailValue
from loket.domain.catalogue import IdentificationLevel
from loket.domain.errors import NotFound, Refused
from loket.domain.forms import Form
from loket.domain.identification import (
    Method,
    Verification,
    can_verify_online,
    needs_verification,
    officer_verification,
    online_verification,
    required_level,
)
from loket.domain.reports import Draft
from loket.domain.tickets import Ticket, TicketState
from loket.services import queue as queue_service
from loket.services.ports import UnitOfWork
from loket.services.queue import QueueContext, retrying
from loket.services.reports import CITIZEN, ReportContext, get_form

VIDEO_SERVICE = "contact.video"
# An officer checks a document while the contact is theirs: in the call or on hold.
_SERVING = (TicketState.IN_SERVICE, TicketState.ON_HOLD)


@dataclass(frozen=True)
class IdentificationContext:
    reports: ReportContext
    queue: QueueContext
    # Keys the pseudonym of an OIDC subject (the service's secret key).
    pseudonym_key: bytes


@dataclass(frozen=True)
class IdentityStatus:
    """Where a draft stands: the level its type needs, the level reached, and how."""

    draft: Draft
    form: Form
    required: IdentificationLevel
    verification: Verification | None

    @property
    def reached(self) -> IdentificationLevel:
        return self.draft.identification

    @property
    def is_needed(self) -> bool:
        return needs_verification(self.required, self.reached)

    @property
    def can_verify_online(self) -> bool:
        return can_verify_online(self.required)


def status_of(ctx: IdentificationContext, draft_id: str) -> IdentityStatus:
    """The identification status of the citizen's own draft. Errors: draft.unknown."""
    with ctx.reports.uow(read_only=True) as uow:
        draft = uow.reports.get_draft(draft_id)
        verification = uow.identities.latest_verification(draft_id)
    form = get_form(ctx.reports, draft.form_code)
    return IdentityStatus(draft, form, required_level(form.code), verification)


def record_online(
    ctx: IdentificationContext, draft_id: str, claims: Mapping[str, Any], *, issuer: str
) -> Verification:
    """Keep what a validated ID token proves for the draft: its level, a pseudonym of the
    subject and a display name; every other claim is dropped.

    Errors: draft.unknown, draft.expired, draft.submitted, identification.no_subject,
    identification.not_online (the type needs an officer's check). Audited.
    """
    now = ctx.reports.clock.now()
    verification = online_verification(claims, issuer=issuer, key=ctx.pseudonym_key, at=now)

    def attempt() -> Verification:
        with ctx.reports.uow() as uow:
            draft = _open_draft(ctx, uow, draft_id)
            if not can_verify_online(required_level(draft.form_code)):
                raise Refused("identification.not_online", field="identification")
            _keep(ctx, uow, draft, verification, actor=CITIZEN)
            uow.commit()
        return verification

    return retrying(attempt)


def request_officer_check(
    ctx: IdentificationContext,
    draft_id: str,
    *,
    location_slug: str,
    language: str,
    channel: str,
    idempotency_key: str | None = None,
) -> Ticket:
    """Take a video ticket so an officer checks the citizen's document on camera; the draft is
    kept and the officer serving the ticket sees the check form for it.

    Errors: those of take_ticket, draft.unknown, draft.expired, draft.submitted.
    """
    with ctx.reports.uow(read_only=True) as uow:
        _open_draft(ctx, uow, draft_id)
    ticket = queue_service.take_ticket(
        ctx.queue,
        location_slug=location_slug,
        service_code=VIDEO_SERVICE,
        language=language,
        channel=channel,
        idempotency_key=idempotency_key,
    )
    with ctx.reports.uow() as uow:
        # A retried request (same idempotency key) finds its ticket already linked.
        if uow.identities.draft_for_ticket(ticket.id) is None:
            uow.identities.add_call_request(ticket.id, draft_id, ctx.reports.clock.now())
            uow.commit()
    return ticket


@dataclass(frozen=True)
class OfficerCheck:
    """What the officer's console shows for a ticket taken to have a draft's identity checked."""

    ticket_id: str
    draft_id: str
    form: Form
    required: IdentificationLevel
    reached: IdentificationLevel
    verification: Verification | None

    @property
    def is_done(self) -> bool:
        return self.reached >= IdentificationLevel.VERIFIED_BY_OFFICER


def check_for_ticket(ctx: IdentificationContext, ticket_id: str) -> OfficerCheck | None:
    """The identity check a video ticket was taken for, if any (no personal data: the report
    type and the levels only)."""
    with ctx.reports.uow(read_only=True) as uow:
        draft_id = uow.identities.draft_for_ticket(ticket_id)
        if draft_id is None:
            return None
        try:
            draft = uow.reports.get_draft(draft_id)
        except NotFound:
            return None  # wiped at a kiosk reset, or purged
        verification = uow.identities.latest_verification(draft_id)
    form = get_form(ctx.reports, draft.form_code)
    return OfficerCheck(
        ticket_id,
        draft_id,
        form,
        required_level(form.code),
        draft.identification,
        verification,
    )


def verify_by_officer(
    ctx: IdentificationContext,
    ticket_id: str,
    *,
    officer_id: int,
    document_type: str,
    document_suffix: str,
    face_matches: bool,
) -> Verification:
    """Record that the officer serving this video ticket saw the citizen's identity document
    on camera and that the face matches it. No image of the document is kept.

    A second submit returns the first check. Errors: identification.no_check (the ticket was
    not taken for a draft), identification.not_your_contact, the field errors of
    officer_verification, draft.unknown, draft.expired, draft.submitted. Audited.
    """
    now = ctx.reports.clock.now()
    verification = officer_verification(
        document_type=document_type,
        document_suffix=document_suffix,
        face_matches=face_matches,
        officer_id=officer_id,
        at=now,
    )

    def attempt() -> Verification:
        with ctx.reports.uow() as uow:
            ticket = uow.tickets.get(ticket_id)
            if ticket.officer_id != officer_id or ticket.state not in _SERVING:
                raise Refused("identification.not_your_contact")
            draft_id = uow.identities.draft_for_ticket(ticket_id)
            if draft_id is None:
                raise NotFound("identification.no_check")
            draft = _open_draft(ctx, uow, draft_id)
            earlier = uow.identities.latest_verification(draft_id)
            if earlier is not None and earlier.method is Method.OFFICER:
                return earlier
            _keep(ctx, uow, draft, verification, actor=f"staff:{officer_id}")
            ticket.note_identity_checked(now)
            uow.commit()
        return verification

    return retrying(attempt)


# -- helpers --------------------------------------------------------------------------------


def _open_draft(ctx: IdentificationContext, uow: UnitOfWork, draft_id: str) -> Draft:
    draft = uow.reports.get_draft(draft_id, for_update=True)
    if draft.is_expired(ctx.reports.clock.now()):
        raise NotFound("draft.expired", field="draft")
    if draft.is_submitted:
        raise Refused("draft.submitted")
    return draft


def _keep(
    ctx: IdentificationContext,
    uow: UnitOfWork,
    draft: Draft,
    verification: Verification,
    *,
    actor: str,
) -> None:
    draft.verify(verification, verification.verified_at, ctx.reports.policy)
    uow.reports.save_draft(draft)
    uow.identities.add_verification(secrets.token_hex(16), draft.id, verification)
    details: dict[str, DetailValue] = {
        "method": verification.method.value,
        "level": verification.level.value,
        "form": draft.form_code,
    }
    if verification.document_type is not None:
        details["document_type"] = verification.document_type.value
    uow.audit.record(
        AuditRecord(
            actor=actor,
            action=AuditAction.VERIFY_IDENTITY,
            subject_type="draft",
            subject_id=draft.id,
            at=verification.verified_at,
            details=details,
            personal_data=True,
        )
    )
