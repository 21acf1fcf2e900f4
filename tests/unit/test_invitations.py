"""Inviting an interpreter: expiry, a link's single use, withdrawal, who may invite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from loket.domain.errors import Forbidden, Refused
from loket.domain.invitations import (
    INVITATION_TTL,
    Invitation,
    InvitationKind,
    check_inviter,
    code_hash,
)

AT = datetime(2027, 1, 12, 9, 0, tzinfo=UTC)


def link() -> Invitation:
    return Invitation.for_link("i" * 32, "t" * 32, 7, "the-code", AT)


def account() -> Invitation:
    return Invitation.for_account("j" * 32, "t" * 32, 7, 12, AT)


def test_a_link_keeps_only_the_hash_of_its_code_and_names_a_guest() -> None:
    invitation = link()
    assert invitation.kind is InvitationKind.LINK
    assert invitation.code_hash == code_hash("the-code") != "the-code"
    assert invitation.participant_id.startswith("guest:")
    assert account().participant_id == "staff:12"


def test_an_invitation_not_accepted_in_time_can_no_longer_be_used() -> None:
    invitation = link()
    with pytest.raises(Refused) as refused:
        invitation.accept(AT + INVITATION_TTL, holder="browser-a")
    assert refused.value.code == "invitation.unusable"


def test_an_accepted_invitation_lasts_past_its_expiry_so_a_reload_rejoins() -> None:
    invitation = link()
    invitation.accept(AT + timedelta(minutes=1), holder="browser-a")
    invitation.accept(AT + INVITATION_TTL + timedelta(hours=1), holder="browser-a")
    assert invitation.accepted_at == AT + timedelta(minutes=1)
    assert invitation.is_valid(AT + INVITATION_TTL + timedelta(hours=1))


def test_a_link_accepted_in_one_browser_is_refused_in_another() -> None:
    invitation = link()
    invitation.accept(AT, holder="browser-a")
    with pytest.raises(Refused) as refused:
        invitation.accept(AT, holder="browser-b")
    assert refused.value.code == "invitation.used"
    assert invitation.holder_hash == code_hash("browser-a")


def test_a_withdrawn_invitation_cannot_be_accepted_even_when_accepted_before() -> None:
    invitation = account()
    invitation.accept(AT, staff_id=12)
    invitation.revoke(AT + timedelta(minutes=2))
    assert not invitation.is_valid(AT + timedelta(minutes=3))
    with pytest.raises(Refused):
        invitation.accept(AT + timedelta(minutes=3), staff_id=12)


def test_an_account_invitation_is_for_that_interpreter_only() -> None:
    with pytest.raises(Forbidden) as forbidden:
        account().accept(AT, staff_id=13)
    assert forbidden.value.code == "invitation.not_yours"


def test_only_the_officer_holding_the_contact_may_invite() -> None:
    check_inviter(7, 7)
    for holder in (8, None):
        with pytest.raises(Forbidden):
            check_inviter(7, holder)
