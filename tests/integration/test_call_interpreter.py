"""An interpreter in a video call: invited by the officer (an account or a one-time link),
joining as the third participant, leaving without ending the call; strangers refused."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from loket.adapters.db import schema as t
from loket.domain.errors import DomainError, Forbidden, Refused
from loket.domain.invitations import INVITATION_TTL
from loket.domain.staff import Role
from loket.domain.tickets import Outcome
from loket.services import calls as call_service
from loket.services import queue
from tests.conftest import PASSWORD, FakeClock, World, add_officer
from tests.integration.test_call_signalling import (
    BASE,
    call,
    client,
    closed_with_skipping,
    join,
    message,
    next_of,
    state_becomes,
)
from tests.integration.test_help import csrf_of

__all__ = ["call", "client"]  # the fixtures, shared with the signalling tests


def interpreter(world: World, name: str = "lina") -> int:
    return add_officer(
        world, name, roles=frozenset({Role.INTERPRETER}), languages=frozenset({"nl", "ar"})
    )


def link_token(world: World, running: dict[str, Any], holder: str = "browser-a") -> str:
    ctx = world.container.calls
    made = call_service.invite_interpreter(ctx, running["officer_id"], running["ticket"].id)
    assert made.code is not None
    invitation = call_service.accept_link(ctx, made.code, holder)
    return call_service.issue_interpreter_token(ctx, invitation.id, holder=holder).token


def interpreter_news(ws: Any) -> dict[str, Any]:
    """The next presence news about the interpreter."""
    for _ in range(10):
        peer = next_of(ws, "call.peer")
        if peer["from"] == "interpreter":
            return peer
    raise AssertionError("no news of the interpreter")


def audit_rows(world: World, action: str) -> list[tuple[str, str, bool]]:
    with world.container.engine.connect() as conn:
        rows = conn.execute(
            select(t.audit_log.c.actor, t.audit_log.c.subject_id, t.audit_log.c.personal_data)
            .where(t.audit_log.c.action == action)
            .order_by(t.audit_log.c.sequence)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


def test_an_interpreter_with_a_link_joins_as_the_third_participant_and_is_audited(
    world: World,
    client: TestClient,
    call: dict[str, Any],
) -> None:
    ws, _ = join(client, link_token(world, call))
    joined = next_of(ws, "call.joined")
    assert joined["data"]["role"] == "interpreter"
    assert sorted(joined["data"]["peers"]) == ["citizen", "officer"]
    for side in ("officer", "citizen"):
        assert interpreter_news(call[side])["data"]["present"] is True
    # Offers name their peer: the interpreter's offer reaches the citizen only.
    ws.send_text(json_to("call.offer", "citizen", sdp=SDP, session="i1"))
    assert next_of(call["citizen"], "call.offer")["from"] == "interpreter"
    call["officer"].send_text(json_to("call.offer", "interpreter", sdp=SDP, session="o2"))
    assert next_of(ws, "call.offer")["data"]["session"] == "o2"
    ticket_id = call["ticket"].id
    joins = [row for row in audit_rows(world, "join_call") if row[1] == ticket_id]
    assert [row[0].split(":")[0] for row in joins] == ["staff", "guest"]
    assert all(personal for _, _, personal in joins)
    assert [row[0] for row in audit_rows(world, "create")][-1] == f"staff:{call['officer_id']}"


SDP = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"


def json_to(kind: str, to: str, **data: Any) -> str:
    return json.dumps({"type": kind, "version": 1, "data": data, "to": to})


def test_the_interpreter_leaving_does_not_end_the_call(
    world: World,
    client: TestClient,
    call: dict[str, Any],
) -> None:
    call["citizen"].send_text(message("call.state", connection="connected"))
    state_becomes(call["officer"], "active")
    ws, _ = join(client, link_token(world, call))
    next_of(ws, "call.joined")
    ws.send_text(message("call.hangup"))
    for side in ("officer", "citizen"):
        assert interpreter_news(call[side])["data"]["present"] is True
        left = interpreter_news(call[side])["data"]
        assert left["present"] is False and left["left"] is True
    [record] = world.container.call_board.running()
    assert record.call.state.value == "active"
    call["officer"].send_text(message("call.ping", nonce="still"))
    assert next_of(call["officer"], "call.pong")["data"]["nonce"] == "still"


def test_a_used_link_is_refused_in_a_second_browser_but_rejoins_in_the_first(
    world: World,
    call: dict[str, Any],
) -> None:
    ctx = world.container.calls
    made = call_service.invite_interpreter(ctx, call["officer_id"], call["ticket"].id)
    assert made.code is not None
    first = call_service.accept_link(ctx, made.code, "browser-a")
    assert call_service.accept_link(ctx, made.code, "browser-a").id == first.id
    with pytest.raises(Refused) as refused:
        call_service.accept_link(ctx, made.code, "browser-b")
    assert refused.value.code == "invitation.used"
    with pytest.raises(Refused):
        call_service.issue_interpreter_token(ctx, first.id, holder="browser-b")
    with pytest.raises(Refused) as unknown:
        call_service.accept_link(ctx, "a-guessed-code", "browser-c")
    assert unknown.value.code == "invitation.unusable"


def test_an_expired_or_withdrawn_link_is_refused_and_the_interpreter_put_out(
    world: World,
    client: TestClient,
    clock: FakeClock,
    call: dict[str, Any],
) -> None:
    ctx = world.container.calls
    late = call_service.invite_interpreter(ctx, call["officer_id"], call["ticket"].id)
    clock.advance(seconds=INVITATION_TTL.total_seconds() + 1)
    with pytest.raises(Refused):
        call_service.accept_link(ctx, late.code or "", "browser-a")
    token = link_token(world, call)
    call_service.revoke_interpreter(ctx, call["officer_id"], call["ticket"].id)
    with pytest.raises(Forbidden):
        call_service.check_token(ctx, token)
    ws, _ = join(client, token)
    assert closed_with_skipping(ws) == 4403


def test_an_earlier_link_is_withdrawn_by_a_new_invitation(
    world: World,
    call: dict[str, Any],
) -> None:
    ctx = world.container.calls
    first = call_service.invite_interpreter(ctx, call["officer_id"], call["ticket"].id)
    call_service.invite_interpreter(ctx, call["officer_id"], call["ticket"].id)
    with pytest.raises(Refused):
        call_service.accept_link(ctx, first.code or "", "browser-a")


def test_only_the_officer_holding_the_contact_invites_and_only_interpreters_are_invited(
    world: World,
    call: dict[str, Any],
) -> None:
    ctx = world.container.calls
    other = add_officer(world, "bo")
    with pytest.raises(Forbidden):
        call_service.invite_interpreter(ctx, other, call["ticket"].id)
    with pytest.raises(DomainError) as not_interpreter:
        call_service.invite_interpreter(ctx, call["officer_id"], call["ticket"].id, staff_id=other)
    assert not_interpreter.value.code == "invitation.not_interpreter"


def test_an_account_interpreter_sees_the_invitation_and_joins_with_their_account(
    world: World,
    client: TestClient,
    call: dict[str, Any],
) -> None:
    ctx = world.container.calls
    lina = interpreter(world)
    assert [m.id for m in call_service.interpreters(ctx)] == [lina]
    made = call_service.invite_interpreter(ctx, call["officer_id"], call["ticket"].id, lina)
    assert made.code is None
    [(invitation, ticket)] = call_service.open_invitations(ctx, lina)
    assert ticket.id == call["ticket"].id
    with pytest.raises(Forbidden):
        call_service.issue_interpreter_token(ctx, invitation.id, staff_id=call["officer_id"])
    token = call_service.issue_interpreter_token(ctx, invitation.id, staff_id=lina).token
    ws, _ = join(client, token)
    assert next_of(ws, "call.joined")["data"]["role"] == "interpreter"
    # The contact finished: the invitation is gone from the list and the door shut.
    queue.finish_ticket(
        world.container.queue, call["officer_id"], call["ticket"].id, Outcome.INFORMED
    )
    assert call_service.open_invitations(ctx, lina) == []
    with pytest.raises(Refused):
        call_service.check_token(ctx, token)


def sign_in(client: TestClient, world: World, username: str) -> None:
    page = client.get("/staff/sign-in")
    form = {"username": username, "password": PASSWORD, "csrf_token": csrf_of(page.text)}
    assert client.post("/staff/sign-in", data=form, follow_redirects=False).status_code == 303
    code = {"code": world.code(username), "csrf_token": csrf_of(page.text)}
    assert client.post("/staff/sign-in/code", data=code, follow_redirects=False).is_redirect


# -- the pages --------------------------------------------------------------------------------


def test_a_link_page_binds_the_link_to_its_browser_and_refuses_another_clearly(
    world: World,
    client: TestClient,
    call: dict[str, Any],
) -> None:
    sign_in(client, world, "an")
    console = client.get("/officer")
    made = client.post(
        f"/officer/calls/{call['ticket'].id}/interpreter",
        data={"interpreter": "link", "csrf_token": csrf_of(console.text)},
    )
    assert made.status_code == 200 and made.headers["cache-control"] == "no-store"
    link = made.json()["link"]
    path = link.removeprefix(BASE)
    client.cookies.clear()  # the interpreter's browser, not the officer's
    page = client.get(path)
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    token = client.post(
        re.search(r'data-token-url="([^"]+)"', page.text)[1],  # type: ignore[index]
        data={"csrf_token": csrf_of(page.text)},
    )
    grant = call_service.check_token(world.container.calls, token.json()["token"])
    assert grant.role.value == "interpreter" and grant.participant_id.startswith("guest:")
    assert client.get(path).status_code == 200  # a reload rejoins
    client.cookies.clear()  # another browser
    used = client.get(path, headers={"Accept-Language": "en"})
    assert used.status_code == 409
    assert "already been used in another browser" in used.text
    in_dutch = client.get(path, headers={"Accept-Language": "nl"})
    assert "al in een andere browser gebruikt" in in_dutch.text
    wrong = client.get("/interpret/" + "x" * 43)
    assert wrong.status_code == 410 and 'id="refusal"' in wrong.text


def test_the_interpreter_pages_are_for_interpreters_only(
    world: World,
    client: TestClient,
    call: dict[str, Any],
) -> None:
    sign_in(client, world, "an")
    assert client.get("/interpreter", follow_redirects=False).status_code == 403
    console = client.get("/officer")
    refused = client.post(
        f"/officer/calls/{call['ticket'].id}/interpreter",
        data={"interpreter": "link", "csrf_token": "forged"},
    )
    assert refused.status_code == 403
    assert "interpreter-link" in client.get(f"/officer/calls/{call['ticket'].id}/interpreters").text
    assert csrf_of(console.text)
    client.cookies.clear()
    interpreter(world)
    sign_in(client, world, "lina")
    home = client.get("/interpreter")
    assert home.status_code == 200 and 'id="no-invitations"' in home.text
