"""Inviting an interpreter into a video call: by their account, or by a one-time link.

The officer holding the contact invites; the interpreter joins the call as its third
participant and may leave without ending it. A link's code is a bearer secret: only its hash
is kept, and accepting it binds the invitation to the browser that did (a reload rejoins, a
second browser is refused).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from loket.domain.errors import Forbidden, Refused

# Long enough to reach an interpreter by phone and have them open the link; short enough
# that a forwarded link is soon useless.
INVITATION_TTL = timedelta(minutes=30)


class InvitationKind(StrEnum):
    ACCOUNT = "account"  # a staff member with the interpreter role
    LINK = "link"  # whoever opens the one-time link first


def code_hash(code: str) -> str:
    """What is stored of a link's code (or of the browser's binding secret)."""
    return hashlib.sha256(code.encode()).hexdigest()


@dataclass
class Invitation:
    id: str
    ticket_id: str
    kind: InvitationKind
    invited_by: int  # the officer's staff id
    created_at: datetime
    expires_at: datetime
    staff_id: int | None = None  # ACCOUNT: the interpreter invited
    code_hash: str | None = None  # LINK: the hash of the code shown once to the officer
    holder_hash: str | None = None  # LINK: the hash of the secret of the browser that accepted
    accepted_at: datetime | None = None
    revoked_at: datetime | None = None

    @classmethod
    def for_account(
        cls, invitation_id: str, ticket_id: str, officer_id: int, staff_id: int, at: datetime
    ) -> Invitation:
        return cls._new(invitation_id, ticket_id, officer_id, at, staff_id=staff_id)

    @classmethod
    def for_link(
        cls, invitation_id: str, ticket_id: str, officer_id: int, code: str, at: datetime
    ) -> Invitation:
        return cls._new(invitation_id, ticket_id, officer_id, at, code_hash=code_hash(code))

    @classmethod
    def _new(
        cls, invitation_id: str, ticket_id: str, officer_id: int, at: datetime, **who: object
    ) -> Invitation:
        kind = InvitationKind.ACCOUNT if "staff_id" in who else InvitationKind.LINK
        return cls(
            id=invitation_id,
            ticket_id=ticket_id,
            kind=kind,
            invited_by=officer_id,
            created_at=at,
            expires_at=at + INVITATION_TTL,
            **who,  # type: ignore[arg-type]
        )

    @property
    def participant_id(self) -> str:
        """Who the interpreter is in the call (a link's guest is no staff member)."""
        if self.kind is InvitationKind.ACCOUNT:
            return f"staff:{self.staff_id}"
        return f"guest:{self.id[:12]}"

    def is_valid(self, at: datetime) -> bool:
        """Not revoked, and accepted or still acceptable. Once accepted, an invitation lasts
        as long as the contact (the interpreter may reload and rejoin)."""
        if self.revoked_at is not None:
            return False
        return self.accepted_at is not None or at < self.expires_at

    def accept(
        self, at: datetime, *, staff_id: int | None = None, holder: str | None = None
    ) -> None:
        """The interpreter opens the call. Errors: invitation.unusable (revoked, expired),
        invitation.used (a link already accepted by another browser), invitation.not_yours.
        """
        if not self.is_valid(at):
            raise Refused("invitation.unusable")
        if self.kind is InvitationKind.ACCOUNT:
            if staff_id is None or staff_id != self.staff_id:
                raise Forbidden("invitation.not_yours")
        else:
            if holder is None:
                raise Forbidden("invitation.not_yours")
            if self.holder_hash is not None:
                if not hmac.compare_digest(self.holder_hash, code_hash(holder)):
                    raise Refused("invitation.used")
            else:
                self.holder_hash = code_hash(holder)
        if self.accepted_at is None:
            self.accepted_at = at

    def revoke(self, at: datetime) -> None:
        if self.revoked_at is None:
            self.revoked_at = at


def check_inviter(officer_id: int, holder_id: int | None) -> None:
    """Only the officer holding the contact invites or removes its interpreter."""
    if holder_id is None or officer_id != holder_id:
        raise Forbidden("call.not_participant")
