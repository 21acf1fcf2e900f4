"""Call use cases: who may join a contact's call (tokens), the ICE servers a participant gets,
the calls this node relays and their quality, and a citizen who never came back.
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from loket.domain.audit import AuditAction, AuditRecord
from loket.domain.calls import (
    PRINCIPALS,
    Call,
    CallGrant,
    CallRole,
    CallState,
    ConnectionState,
    Quality,
    TurnCredential,
    turn_credential,
)
from loket.domain.errors import DomainError, Forbidden, Invalid, NotFound, Refused
from loket.domain.invitations import Invitation, check_inviter, code_hash
from loket.domain.staff import OfficerStatus, Role, StaffMember
from loket.domain.tickets import Ticket, TicketState
from loket.services.ports import TokenSigner
from loket.services.queue import QueueContext, retrying

VIDEO_SERVICE = "contact.video"
TOKEN_PURPOSE = "call"  # noqa: S105 - a signing purpose, not a secret
# The officer holds the contact in these states; the call lives while the contact does.
CALL_STATES = frozenset({TicketState.IN_SERVICE, TicketState.ON_HOLD})
# The citizen may wait in the call's room from taking the ticket until it is closed.
CITIZEN_STATES = CALL_STATES | {TicketState.WAITING, TicketState.OFFERED}


@dataclass(frozen=True)
class IceConfig:
    """STUN and TURN servers from configuration; none are needed on loopback."""

    stun_urls: tuple[str, ...] = ()
    turn_urls: tuple[str, ...] = ()
    turn_secret: str | None = None
    turn_ttl: timedelta = timedelta(hours=1)


@dataclass(frozen=True)
class CallContext:
    queue: QueueContext
    signer: TokenSigner
    ice: IceConfig = IceConfig()
    # A token only opens the door: the socket it opens lives on. Long enough for a slow
    # page load, short enough that a leaked one is soon useless.
    token_ttl: timedelta = timedelta(minutes=2)
    # A citizen away this long has left: their ticket goes back to the head of the queue.
    grace: timedelta = timedelta(seconds=60)


@dataclass(frozen=True)
class IssuedToken:
    token: str
    grant: CallGrant


# -- tokens -----------------------------------------------------------------------------------


def issue_officer_token(ctx: CallContext, officer_id: int, ticket_id: str) -> IssuedToken:
    """A call token for the officer serving a video contact.

    Errors: ticket.unknown, call.not_video, call.not_participant (not the holder, or the
    contact is not being served).
    """
    with ctx.queue.uow(read_only=True) as uow:
        ticket = uow.tickets.get(ticket_id)
    _check_video(ticket)
    if ticket.officer_id != officer_id or ticket.state not in CALL_STATES:
        raise Forbidden("call.not_participant")
    return _issue(ctx, ticket, CallRole.OFFICER, f"staff:{officer_id}")


def issue_citizen_token(ctx: CallContext, ticket_id: str) -> IssuedToken:
    """A call token for the citizen holding the ticket (its id is their bearer key).

    Errors: ticket.unknown, call.not_video, call.ended (the contact is closed).
    """
    with ctx.queue.uow(read_only=True) as uow:
        ticket = uow.tickets.get(ticket_id)
    _check_video(ticket)
    if ticket.state not in CITIZEN_STATES:
        raise Refused("call.ended")
    return _issue(ctx, ticket, CallRole.CITIZEN, f"citizen:{ticket.id[-8:]}")


def check_token(ctx: CallContext, token: str) -> CallGrant:
    """The grant of a valid token whose holder still belongs in the call.

    Errors: call.bad_token (forged, malformed or expired), call.not_participant (the officer
    no longer holds the contact), call.ended (the contact is closed), ticket.unknown.
    """
    grant = CallGrant.from_json(ctx.signer.unsign(TOKEN_PURPOSE, token))
    if grant.is_expired(ctx.queue.clock.now()):
        raise Invalid("call.bad_token")
    with ctx.queue.uow(read_only=True) as uow:
        ticket = uow.tickets.get(grant.call_id)
    if grant.role is CallRole.OFFICER:
        if ticket.state not in CALL_STATES:
            raise Refused("call.ended")
        if f"staff:{ticket.officer_id}" != grant.participant_id:
            raise Forbidden("call.not_participant")
    elif grant.role is CallRole.CITIZEN:
        if ticket.state not in CITIZEN_STATES:
            raise Refused("call.ended")
    else:
        if ticket.state not in CALL_STATES:
            raise Refused("call.ended")
        # The interpreter's invitation must still stand (not removed by the officer).
        with ctx.queue.uow(read_only=True) as uow:
            invitations = uow.invitations.for_ticket(ticket.id)
        now = ctx.queue.clock.now()
        if not any(
            i.participant_id == grant.participant_id and i.accepted_at and i.is_valid(now)
            for i in invitations
        ):
            raise Forbidden("call.not_participant")
    return grant


def record_joined(ctx: CallContext, grant: CallGrant) -> None:
    """Seeing and hearing the citizen is access to personal data: audited (the officer's
    and the interpreter's joins; the citizen is the subject)."""
    with ctx.queue.uow() as uow:
        uow.audit.record(
            AuditRecord(
                actor=grant.participant_id,
                action=AuditAction.JOIN_CALL,
                subject_type="ticket",
                subject_id=grant.call_id,
                at=ctx.queue.clock.now(),
                details={"role": grant.role.value},
                personal_data=True,
            )
        )
        uow.commit()


def _issue(ctx: CallContext, ticket: Ticket, role: CallRole, participant: str) -> IssuedToken:
    grant = CallGrant(
        call_id=ticket.id,
        role=role,
        participant_id=participant,
        expires_at=ctx.queue.clock.now() + ctx.token_ttl,
    )
    return IssuedToken(token=ctx.signer.sign(TOKEN_PURPOSE, grant.to_json()), grant=grant)


# -- interpreters -----------------------------------------------------------------------------


@dataclass(frozen=True)
class InvitationMade:
    invitation: Invitation
    # A link's code: shown once to the officer, never stored.
    code: str | None = None


def interpreters(ctx: CallContext) -> list[StaffMember]:
    """Active staff with the interpreter role, by name: whom an officer may invite."""
    with ctx.queue.uow(read_only=True) as uow:
        members = uow.staff.list()
    found = [m for m in members if m.is_active and m.has_role(Role.INTERPRETER)]
    return sorted(found, key=lambda m: m.display_name)


def invite_interpreter(
    ctx: CallContext, officer_id: int, ticket_id: str, staff_id: int | None = None
) -> InvitationMade:
    """The officer holding a video contact invites an interpreter: an account (`staff_id`)
    or, without one, a one-time link. An earlier invitation of the contact is revoked (one
    interpreter at a time). Audited.

    Errors: ticket.unknown, call.not_video, call.not_participant, invitation.not_interpreter.
    """
    now = ctx.queue.clock.now()
    with ctx.queue.uow() as uow:
        ticket = uow.tickets.get(ticket_id)
        _check_video(ticket)
        check_inviter(officer_id, ticket.officer_id if ticket.state in CALL_STATES else None)
        code = None
        if staff_id is not None:
            member = uow.staff.get(staff_id)
            if not (member.is_active and member.has_role(Role.INTERPRETER)):
                raise Invalid("invitation.not_interpreter", field="interpreter")
            invitation = Invitation.for_account(
                secrets.token_hex(16), ticket.id, officer_id, staff_id, now
            )
        else:
            # 256 bits: the link is the only key to the call.
            code = secrets.token_urlsafe(32)
            invitation = Invitation.for_link(
                secrets.token_hex(16), ticket.id, officer_id, code, now
            )
        for earlier in uow.invitations.for_ticket(ticket.id):
            if earlier.revoked_at is None:
                earlier.revoke(now)
                uow.invitations.save(earlier)
        uow.invitations.add(invitation)
        uow.audit.record(
            AuditRecord(
                actor=f"staff:{officer_id}",
                action=AuditAction.CREATE,
                subject_type="call_invitation",
                subject_id=invitation.id,
                at=now,
                details={"ticket": ticket.id, "kind": invitation.kind.value},
                personal_data=False,
            )
        )
        uow.commit()
    return InvitationMade(invitation=invitation, code=code)


def revoke_interpreter(ctx: CallContext, officer_id: int, ticket_id: str) -> list[Invitation]:
    """The officer removes the interpreter: every invitation of the contact is revoked.
    The revoked ones (the web layer puts their interpreter out of the call)."""
    now = ctx.queue.clock.now()
    with ctx.queue.uow() as uow:
        ticket = uow.tickets.get(ticket_id)
        check_inviter(officer_id, ticket.officer_id if ticket.state in CALL_STATES else None)
        revoked = []
        for invitation in uow.invitations.for_ticket(ticket.id):
            if invitation.revoked_at is None:
                invitation.revoke(now)
                uow.invitations.save(invitation)
                revoked.append(invitation)
        uow.commit()
    return revoked


def open_invitations(ctx: CallContext, staff_id: int) -> list[tuple[Invitation, Ticket]]:
    """An interpreter's invitations they may still use, with their contact."""
    now = ctx.queue.clock.now()
    found = []
    with ctx.queue.uow(read_only=True) as uow:
        for invitation in uow.invitations.for_staff(staff_id):
            if not invitation.is_valid(now):
                continue
            ticket = uow.tickets.get(invitation.ticket_id)
            if ticket.state in CALL_STATES:
                found.append((invitation, ticket))
    return found


def accept_link(ctx: CallContext, code: str, holder: str) -> Invitation:
    """Whoever opens a one-time link: the invitation binds to their browser (`holder`, a
    secret of that browser). Errors: invitation.unusable (unknown, revoked, expired, the
    contact is over), invitation.used (another browser accepted it)."""
    now = ctx.queue.clock.now()
    with ctx.queue.uow() as uow:
        invitation = uow.invitations.by_code_hash(code_hash(code), for_update=True)
        if invitation is None:
            raise Refused("invitation.unusable")
        ticket = uow.tickets.get(invitation.ticket_id)
        if ticket.state not in CALL_STATES:
            raise Refused("invitation.unusable")
        invitation.accept(now, holder=holder)
        uow.invitations.save(invitation)
        uow.commit()
    return invitation


def issue_interpreter_token(
    ctx: CallContext, invitation_id: str, *, staff_id: int | None = None, holder: str | None = None
) -> IssuedToken:
    """A call token for the interpreter of an invitation: its account (`staff_id`) or the
    browser that accepted its link (`holder`). Errors: invitation.unknown, invitation.unusable,
    invitation.used, invitation.not_yours, call.ended."""
    now = ctx.queue.clock.now()
    with ctx.queue.uow() as uow:
        invitation = uow.invitations.get(invitation_id, for_update=True)
        ticket = uow.tickets.get(invitation.ticket_id)
        if ticket.state not in CALL_STATES:
            raise Refused("call.ended")
        invitation.accept(now, staff_id=staff_id, holder=holder)
        uow.invitations.save(invitation)
        uow.commit()
    return _issue(ctx, ticket, CallRole.INTERPRETER, invitation.participant_id)


def interpreter_invitation(ctx: CallContext, invitation_id: str) -> tuple[Invitation, Ticket]:
    with ctx.queue.uow(read_only=True) as uow:
        invitation = uow.invitations.get(invitation_id)
        return invitation, uow.tickets.get(invitation.ticket_id)


def _check_video(ticket: Ticket) -> None:
    if ticket.service_code != VIDEO_SERVICE:
        raise Refused("call.not_video", ticket=ticket.number)


# -- ICE servers ------------------------------------------------------------------------------


def ice_servers(ctx: CallContext, grant: CallGrant) -> list[dict[str, object]]:
    """RTCIceServer entries for this participant; TURN logins expire after `turn_ttl`."""
    servers: list[dict[str, object]] = []
    if ctx.ice.stun_urls:
        servers.append({"urls": list(ctx.ice.stun_urls)})
    if ctx.ice.turn_urls and ctx.ice.turn_secret:
        login: TurnCredential = turn_credential(
            ctx.ice.turn_secret, grant.participant_id, ctx.queue.clock.now(), ctx.ice.turn_ttl
        )
        servers.append(
            {
                "urls": list(ctx.ice.turn_urls),
                "username": login.username,
                "credential": login.credential,
            }
        )
    return servers


# -- a citizen who never came back ------------------------------------------------------------


def return_abandoned_call(ctx: CallContext, ticket_id: str, officer_id: int) -> Ticket | None:
    """The citizen was gone longer than the grace period: their ticket goes back to the head
    of the queue (flagged returned) and the officer to wrap-up. None when the contact moved on
    meanwhile (finished, transferred): nothing to return.

    Events: TicketReturned, OfficerStatusChanged.
    """

    def attempt() -> Ticket | None:
        with ctx.queue.uow() as uow:
            officer = uow.staff.get_for_update(officer_id)  # officer before ticket
            try:
                ticket = uow.tickets.get_for_update(ticket_id)
            except NotFound:
                return None
            if ticket.officer_id != officer_id or ticket.state not in CALL_STATES:
                return None
            now = ctx.queue.clock.now()
            ticket.return_to_queue(now, ctx.queue.policy, reason="citizen_gone")
            uow.tickets.save(ticket)
            if officer.status is OfficerStatus.BUSY:
                officer.set_status(OfficerStatus.WRAP_UP, now)
                uow.staff.save(officer)
            uow.commit()
            return ticket

    return retrying(attempt)


# -- the calls this node relays ---------------------------------------------------------------


@dataclass
class QualitySample:
    role: CallRole
    at: datetime
    rtt_ms: float | None
    loss_percent: float | None
    bitrate_kbps: float | None
    audio_only: bool


@dataclass
class CallRecord:
    call: Call
    quality: dict[CallRole, QualitySample] = field(default_factory=dict)


@dataclass(frozen=True)
class RunningCall:
    """What the supervisor sees of a running call. Every node relaying a call sees its
    messages in one order, so every node's copy of it is the same."""

    call_id: str
    state: CallState
    started_at: datetime | None
    quality: Mapping[CallRole, QualitySample]


class CallBoardShare(Protocol):
    """Where the nodes tell each other which calls they relay (with Redis: a key per node)."""

    def publish(self, calls: list[RunningCall]) -> None:
        """This node's running calls, replacing what it said before."""

    def withdraw(self) -> None:
        """This node stops: its calls are no longer its to show."""

    def everyone(self) -> list[RunningCall]:
        """What every node said last, not older than a few seconds; [] when unreachable."""

    def close(self) -> None: ...


def running_calls(board: CallBoard, share: CallBoardShare | None) -> list[RunningCall]:
    """The calls running on any node, oldest first: this node's from its board, the others'
    as they last published them (a call relayed here too is taken from here, the freshest)."""
    by_id = {call.call_id: call for call in share.everyone()} if share is not None else {}
    by_id.update((call.call_id, call) for call in board.running_calls())
    return sorted(by_id.values(), key=lambda c: (c.started_at is None, c.started_at))


class CallBoard:
    """The calls with a participant on this node, with their latest quality per side.

    Kept in memory: a call's state and quality change every few seconds and matter only
    while it runs; nothing of it is a record to keep. Each node knows the calls it relays;
    see docs/calls.md for the supervisor's view across nodes.
    """

    def __init__(self, clock: Callable[[], datetime]) -> None:
        self._calls: dict[str, CallRecord] = {}
        self._now = clock

    def get(self, call_id: str) -> Call:
        record = self._calls.get(call_id)
        if record is None or record.call.state is CallState.ENDED:
            record = self._calls[call_id] = CallRecord(call=Call(call_id=call_id))
        return record.call

    def find(self, call_id: str) -> Call | None:
        record = self._calls.get(call_id)
        return None if record is None else record.call

    def report_quality(self, call_id: str, role: CallRole, report: Quality) -> None:
        record = self._calls.get(call_id)
        if record is None:
            return
        record.quality[role] = QualitySample(
            role=role,
            at=self._now(),
            rtt_ms=report.rtt_ms,
            loss_percent=report.loss_percent,
            bitrate_kbps=report.bitrate_kbps,
            audio_only=report.audio_only,
        )

    def now(self) -> datetime:
        return self._now()

    def apply(self, call_id: str, message: Mapping[str, Any]) -> None:
        """A relayed message, seen once by this node: the call's state follows it.

        Every node that relays a call sees its messages in the same order (one channel per
        call), so every node's copy of the call agrees.
        """
        kind = message.get("type")
        data = message.get("data") or {}
        try:
            role = CallRole(str(message.get("from")))
        except ValueError:
            return
        call = self.get(call_id) if kind == "call.peer" else self.find(call_id)
        if call is None:
            return
        now = self._now()
        # A late message for a call that moved on (ended, replaced): nothing to do.
        with contextlib.suppress(DomainError, TypeError):
            _apply(self, call, role, str(message.get("connection")), kind, data, now)

    def forget(self, call_id: str) -> None:
        """No participant of the call is on this node any more."""
        self._calls.pop(call_id, None)

    def running(self) -> list[CallRecord]:
        """Calls not ended, oldest first."""
        records = [r for r in self._calls.values() if r.call.state is not CallState.ENDED]
        return sorted(records, key=lambda r: (r.call.started_at is None, r.call.started_at))

    def running_calls(self) -> list[RunningCall]:
        """`running`, as the supervisor sees it and the nodes share it."""
        return [
            RunningCall(r.call.call_id, r.call.state, r.call.started_at, dict(r.quality))
            for r in self.running()
        ]


def _apply(
    board: CallBoard,
    call: Call,
    role: CallRole,
    connection: str,
    kind: object,
    data: Mapping[str, Any],
    now: datetime,
) -> None:
    if kind == "call.peer":
        if data.get("present"):
            call.join(role, str(data.get("participant")), connection, now)
        else:
            call.leave(role, connection, now)
    elif kind == "call.state" and role in PRINCIPALS:
        # The call's state is the citizen's and the officer's link; an interpreter's own
        # connections do not move it.
        state = data.get("connection")
        if state == ConnectionState.CONNECTED:
            call.connected(now)
        elif state in (ConnectionState.DISCONNECTED, ConnectionState.FAILED):
            call.media_lost()
    elif kind == "call.quality":
        board.report_quality(call.call_id, role, Quality(**data))
    elif kind == "call.hangup" and role in PRINCIPALS:
        call.end(now, f"hangup:{role.value}")
    elif kind == "call.ended":
        call.end(now, str(data.get("reason", "ended")))
