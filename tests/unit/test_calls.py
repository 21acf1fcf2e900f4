"""Calls: the life cycle, the signalling messages' checks, call tokens and TURN logins."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from loket.domain.calls import (
    MAX_CANDIDATE_CHARS,
    MAX_SDP_BYTES,
    TRANSITIONS,
    Answer,
    Call,
    CallGrant,
    CallRole,
    CallState,
    CallStep,
    ConnectionState,
    Ice,
    Join,
    Media,
    Offer,
    Quality,
    StateReport,
    parse_signal,
    turn_credential,
)
from loket.domain.errors import Invalid, Refused
from loket.services.calls import CallBoard

AT = datetime(2027, 1, 12, 9, 0, tzinfo=UTC)
SDP = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"


def make_call(**overrides: Any) -> Call:
    return Call(call_id=overrides.pop("call_id", "a" * 32), **overrides)


def both_joined() -> Call:
    call = make_call()
    call.join(CallRole.OFFICER, "staff:1", "o1", AT)
    call.join(CallRole.CITIZEN, "citizen:x", "c1", AT)
    return call


# -- the life cycle ---------------------------------------------------------------------------


def test_a_call_waits_until_both_the_citizen_and_the_officer_are_there() -> None:
    call = make_call()
    call.join(CallRole.CITIZEN, "citizen:x", "c1", AT)
    assert call.state is CallState.WAITING
    call.join(CallRole.OFFICER, "staff:1", "o1", AT + timedelta(seconds=5))
    assert call.state is CallState.CONNECTING
    assert call.started_at == AT + timedelta(seconds=5)


def test_a_connected_report_makes_the_call_active_and_a_second_one_changes_nothing() -> None:
    call = both_joined()
    call.connected(AT)
    call.connected(AT + timedelta(seconds=1))
    assert call.state is CallState.ACTIVE
    assert call.connected_at == AT


def test_a_dropped_side_makes_the_call_reconnect_and_its_return_renegotiates() -> None:
    call = both_joined()
    call.connected(AT)
    assert call.leave(CallRole.CITIZEN, "c1", AT + timedelta(seconds=3))
    assert call.state is CallState.RECONNECTING
    assert call.gone_since(CallRole.CITIZEN) == AT + timedelta(seconds=3)
    call.join(CallRole.CITIZEN, "citizen:x", "c2", AT + timedelta(seconds=9))
    assert call.state is CallState.CONNECTING
    assert call.gone_since(CallRole.CITIZEN) is None


def test_the_close_of_a_replaced_socket_does_not_drop_its_participant() -> None:
    call = both_joined()
    call.connected(AT)
    call.join(CallRole.CITIZEN, "citizen:x", "c2", AT)  # a reload, faster than the close
    assert not call.leave(CallRole.CITIZEN, "c1", AT)
    assert call.present_roles() == [CallRole.OFFICER, CallRole.CITIZEN]


def test_the_same_socket_announced_twice_is_one_join() -> None:
    call = both_joined()
    call.connected(AT)
    call.join(CallRole.CITIZEN, "citizen:x", "c1", AT)
    assert call.state is CallState.ACTIVE


def test_a_citizen_away_past_the_grace_period_is_gone_too_long() -> None:
    call = both_joined()
    call.leave(CallRole.CITIZEN, "c1", AT)
    grace = timedelta(seconds=60)
    assert not call.is_gone_too_long(CallRole.CITIZEN, grace, AT + timedelta(seconds=59))
    assert call.is_gone_too_long(CallRole.CITIZEN, grace, AT + timedelta(seconds=60))


def test_an_ended_call_refuses_to_be_joined() -> None:
    call = both_joined()
    call.end(AT, "hangup:officer")
    assert call.state is CallState.ENDED
    assert call.present_roles() == []
    with pytest.raises(Refused) as refused:
        call.join(CallRole.CITIZEN, "citizen:x", "c3", AT)
    assert refused.value.code == "call.ended"


def test_the_transition_table_has_no_way_out_of_ended() -> None:
    assert not [step for (state, step) in TRANSITIONS if state is CallState.ENDED]
    assert (CallState.WAITING, CallStep.CONNECT) not in TRANSITIONS


# -- messages ---------------------------------------------------------------------------------


def message(kind: str, **data: Any) -> dict[str, Any]:
    return {"type": kind, "version": 1, "data": data}


def test_each_kind_of_message_is_parsed_into_its_typed_model() -> None:
    assert parse_signal(message("call.join", token="t")) == Join(token="t")
    assert parse_signal(message("call.offer", sdp=SDP, session="s1")) == Offer(
        sdp=SDP, session="s1"
    )
    assert parse_signal(message("call.answer", sdp=SDP, session="s1")) == Answer(
        sdp=SDP, session="s1"
    )
    candidate = "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host"
    assert parse_signal(
        message("call.ice", session="s1", candidate=candidate, sdp_mid="0", sdp_mline_index=0)
    ) == Ice(session="s1", candidate=candidate, sdp_mid="0", sdp_mline_index=0)
    assert parse_signal(message("call.state", connection="connected")) == StateReport(
        connection=ConnectionState.CONNECTED
    )
    assert parse_signal(message("call.media", audio=False, video=True)) == Media(
        audio=False, video=True
    )
    assert parse_signal(
        message("call.quality", rtt_ms=12.5, loss_percent=0, bitrate_kbps=900)
    ) == Quality(rtt_ms=12.5, loss_percent=0.0, bitrate_kbps=900.0)


def test_the_end_of_candidates_is_an_empty_candidate() -> None:
    parsed = parse_signal(message("call.ice", session="s1", candidate=""))
    assert isinstance(parsed, Ice) and parsed.candidate == ""


@pytest.mark.parametrize(
    ("raw", "code", "field"),
    [
        ("not a dict", "call.bad_message", None),
        ({"type": "call.nonsense"}, "call.unknown_type", "type"),
        ({"type": 7}, "call.unknown_type", "type"),
        ({"type": "call.offer", "version": 2, "data": {}}, "call.unsupported_version", "version"),
        (
            {"type": "call.offer", "version": True, "data": {}},
            "call.unsupported_version",
            "version",
        ),
        ({"type": "call.offer", "data": []}, "call.bad_message", "data"),
        (message("call.offer", session="s1"), "call.bad_field", "sdp"),
        (message("call.offer", sdp="hello", session="s1"), "call.bad_field", "sdp"),
        (
            message("call.offer", sdp=SDP + "a" * MAX_SDP_BYTES, session="s1"),
            "call.too_large",
            "sdp",
        ),
        (
            message("call.ice", session="s1", candidate="c" * (MAX_CANDIDATE_CHARS + 1)),
            "call.too_large",
            "candidate",
        ),
        (
            message("call.ice", session="s1", candidate="c", sdp_mline_index="0"),
            "call.bad_field",
            "sdp_mline_index",
        ),
        (
            message("call.ice", session="s1", candidate="c", sdp_mline_index=-1),
            "call.bad_field",
            "sdp_mline_index",
        ),
        (message("call.state", connection="exploded"), "call.bad_field", "connection"),
        (message("call.media", audio="yes", video=True), "call.bad_field", "audio"),
        (
            message("call.quality", rtt_ms=float("nan"), loss_percent=None, bitrate_kbps=None),
            "call.bad_field",
            "rtt_ms",
        ),
        (
            message("call.quality", rtt_ms=1, loss_percent=101, bitrate_kbps=None),
            "call.bad_field",
            "loss_percent",
        ),
        (message("call.join"), "call.bad_field", "token"),
    ],
)
def test_a_malformed_message_is_refused_with_a_code_and_the_field(
    raw: Any, code: str, field: str | None
) -> None:
    with pytest.raises(Invalid) as refused:
        parse_signal(raw)
    assert refused.value.code == code
    assert refused.value.field == field


# -- tokens and TURN --------------------------------------------------------------------------


def test_a_grant_survives_its_json_form_and_expires() -> None:
    grant = CallGrant(
        call_id="a" * 32,
        role=CallRole.CITIZEN,
        participant_id="citizen:x",
        expires_at=AT + timedelta(minutes=2),
    )
    assert CallGrant.from_json(grant.to_json()) == grant
    assert not grant.is_expired(AT + timedelta(seconds=119))
    assert grant.is_expired(AT + timedelta(minutes=2))


@pytest.mark.parametrize(
    "body",
    [None, "x", {}, {"call": "a", "role": "spectator", "participant": "p", "exp": 1}],
)
def test_anything_but_a_grant_is_a_bad_token(body: Any) -> None:
    with pytest.raises(Invalid) as refused:
        CallGrant.from_json(body)
    assert refused.value.code == "call.bad_token"


def test_a_turn_login_follows_coturns_shared_secret_scheme() -> None:
    login = turn_credential("s3cret", "citizen:ab12", AT, timedelta(hours=1))
    expiry = int((AT + timedelta(hours=1)).timestamp())
    assert login.username == f"{expiry}:citizen:ab12"
    expected = hmac.new(b"s3cret", login.username.encode(), hashlib.sha1).digest()
    assert login.credential == base64.b64encode(expected).decode()
    assert login.expires_at == AT + timedelta(hours=1)


# -- the node's board -------------------------------------------------------------------------


def relayed(kind: str, role: str, socket: str, **data: Any) -> dict[str, Any]:
    return {"type": kind, "version": 1, "data": data, "from": role, "connection": socket}


def test_the_board_follows_relayed_messages_and_keeps_the_latest_quality() -> None:
    board = CallBoard(lambda: AT)
    call_id = "b" * 32
    board.apply(call_id, relayed("call.peer", "officer", "o1", present=True, participant="s:1"))
    board.apply(call_id, relayed("call.peer", "citizen", "c1", present=True, participant="c:x"))
    board.apply(call_id, relayed("call.state", "officer", "o1", connection="connected"))
    quality = {"rtt_ms": 30.0, "loss_percent": 0.5, "bitrate_kbps": 800.0, "audio_only": False}
    board.apply(call_id, relayed("call.quality", "citizen", "c1", **quality))
    [record] = board.running()
    assert record.call.state is CallState.ACTIVE
    assert record.quality[CallRole.CITIZEN].rtt_ms == 30.0
    board.apply(call_id, relayed("call.peer", "citizen", "c1", present=False))
    assert record.call.state is CallState.RECONNECTING
    board.apply(call_id, relayed("call.hangup", "officer", "o1"))
    assert board.running() == []


def test_the_board_ignores_messages_from_unknown_roles_and_late_ones() -> None:
    board = CallBoard(lambda: AT)
    board.apply("c" * 32, relayed("call.peer", "spectator", "x", present=True))
    assert board.find("c" * 32) is None
    board.apply("c" * 32, relayed("call.state", "officer", "o1", connection="connected"))
    assert board.find("c" * 32) is None


def test_an_interpreter_joining_or_leaving_does_not_change_the_call_of_the_other_two() -> None:
    call = both_joined()
    call.connected(AT)
    call.join(CallRole.INTERPRETER, "guest:x", "i1", AT)
    assert call.state is CallState.ACTIVE
    assert call.leave(CallRole.INTERPRETER, "i1", AT)
    assert call.state is CallState.ACTIVE
    assert set(call.present_roles()) == {CallRole.OFFICER, CallRole.CITIZEN}
