"""Video calls: one call per contact (ticket), its participants, its life cycle, and the
typed, versioned messages of its signalling.

Media never passes through Loket: the browsers exchange it directly (DTLS-SRTP) or through
TURN. Loket relays the signalling (offers, answers, ICE candidates) between the participants
of one call and keeps the call's state. Nothing of the media is recorded.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar

from loket.domain.errors import Invalid, Refused

PROTOCOL_VERSION = 1

# -- participants and the life cycle ---------------------------------------------------------


class CallRole(StrEnum):
    CITIZEN = "citizen"
    OFFICER = "officer"
    # Reserved: joins on the officer's invitation, leaves without ending the call.
    INTERPRETER = "interpreter"


class CallState(StrEnum):
    WAITING = "waiting"  # fewer than two participants have ever been present
    CONNECTING = "connecting"  # both present, media not yet flowing
    ACTIVE = "active"  # media flowing
    RECONNECTING = "reconnecting"  # a participant dropped and may come back
    ENDED = "ended"


class CallStep(StrEnum):
    JOIN = "join"  # the second participant is present: negotiate
    CONNECT = "connect"  # a browser reports its peer connection connected
    DROP = "drop"  # a participant's socket or media went away without hanging up
    REJOIN = "rejoin"  # everyone is present again: renegotiate
    END = "end"


C = CallState
TRANSITIONS: dict[tuple[CallState, CallStep], CallState] = {
    (C.WAITING, CallStep.JOIN): C.CONNECTING,
    (C.WAITING, CallStep.END): C.ENDED,
    (C.CONNECTING, CallStep.CONNECT): C.ACTIVE,
    (C.CONNECTING, CallStep.DROP): C.RECONNECTING,
    (C.CONNECTING, CallStep.END): C.ENDED,
    (C.ACTIVE, CallStep.CONNECT): C.ACTIVE,  # both browsers report it; the second is a no-op
    (C.ACTIVE, CallStep.DROP): C.RECONNECTING,
    (C.ACTIVE, CallStep.END): C.ENDED,
    (C.RECONNECTING, CallStep.REJOIN): C.CONNECTING,
    (C.RECONNECTING, CallStep.CONNECT): C.ACTIVE,  # ICE recovered on its own
    (C.RECONNECTING, CallStep.DROP): C.RECONNECTING,
    (C.RECONNECTING, CallStep.END): C.ENDED,
}

# The two who make a call; others (the interpreter) join a call that exists.
PRINCIPALS = frozenset({CallRole.CITIZEN, CallRole.OFFICER})


@dataclass
class Participant:
    role: CallRole
    participant_id: str
    # The socket that speaks for this participant now; a reload replaces it.
    connection: str | None = None
    joined_at: datetime | None = None
    dropped_at: datetime | None = None

    @property
    def is_present(self) -> bool:
        return self.connection is not None


@dataclass
class Call:
    """A call for one contact; `call_id` is the ticket's id."""

    call_id: str
    state: CallState = CallState.WAITING
    participants: dict[CallRole, Participant] = field(default_factory=dict)
    started_at: datetime | None = None
    connected_at: datetime | None = None
    ended_at: datetime | None = None
    end_reason: str | None = None

    def join(self, role: CallRole, participant_id: str, connection: str, at: datetime) -> None:
        """A participant's socket joined (or replaced its earlier socket)."""
        if self.state is C.ENDED:
            raise Refused("call.ended")
        participant = self.participants.get(role)
        if participant is not None and participant.connection == connection:
            return  # the same socket announced twice (a reply to a newcomer)
        if participant is None or participant.participant_id != participant_id:
            participant = Participant(role=role, participant_id=participant_id)
            self.participants[role] = participant
        participant.connection = connection
        participant.joined_at = at
        participant.dropped_at = None
        # The interpreter joins a call as it is: their arrival does not renegotiate the others.
        if role not in PRINCIPALS or not self._principals_present():
            return
        if self.state is C.WAITING:
            self.started_at = at
            self._move(CallStep.JOIN)
        elif self.state is C.RECONNECTING:
            self._move(CallStep.REJOIN)
        elif self.state in (C.CONNECTING, C.ACTIVE):
            # A reload faster than the drop was noticed: negotiate afresh all the same.
            self.state = C.CONNECTING

    def leave(self, role: CallRole, connection: str, at: datetime) -> bool:
        """A participant's socket closed without hanging up; False if it was a stale socket."""
        participant = self.participants.get(role)
        if participant is None or participant.connection != connection:
            return False
        participant.connection = None
        participant.dropped_at = at
        if self.state in (C.CONNECTING, C.ACTIVE, C.RECONNECTING) and role in PRINCIPALS:
            self._move(CallStep.DROP)
        return True

    def connected(self, at: datetime) -> None:
        """A browser reports media flowing."""
        if self.state is C.WAITING or self.state is C.ENDED:
            return  # a late report from a connection that is gone
        self._move(CallStep.CONNECT)
        if self.connected_at is None:
            self.connected_at = at

    def media_lost(self) -> None:
        """A browser reports its peer connection disconnected or failed (ICE restart next)."""
        if self.state in (C.ACTIVE, C.CONNECTING):
            self._move(CallStep.DROP)

    def end(self, at: datetime, reason: str) -> None:
        if self.state is C.ENDED:
            return
        self._move(CallStep.END)
        self.ended_at = at
        self.end_reason = reason
        for participant in self.participants.values():
            participant.connection = None

    def present_roles(self) -> list[CallRole]:
        return [role for role, p in self.participants.items() if p.is_present]

    def gone_since(self, role: CallRole) -> datetime | None:
        """When `role` dropped, if it is away now."""
        participant = self.participants.get(role)
        if participant is None or participant.is_present:
            return None
        return participant.dropped_at

    def is_gone_too_long(self, role: CallRole, grace: timedelta, at: datetime) -> bool:
        since = self.gone_since(role)
        return since is not None and at - since >= grace

    def _principals_present(self) -> bool:
        return all(
            role in self.participants and self.participants[role].is_present for role in PRINCIPALS
        )

    def _move(self, step: CallStep) -> None:
        target = TRANSITIONS.get((self.state, step))
        if target is None:
            raise Refused("call.illegal_transition", state=self.state.value, step=step.value)
        self.state = target


# -- who may join: the grant a call token carries ---------------------------------------------


@dataclass(frozen=True)
class CallGrant:
    """What a call token says: this participant may join this call until `expires_at`."""

    call_id: str
    role: CallRole
    participant_id: str
    expires_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "call": self.call_id,
            "role": self.role.value,
            "participant": self.participant_id,
            "exp": int(self.expires_at.timestamp()),
        }

    @classmethod
    def from_json(cls, data: Any) -> CallGrant:
        """The grant in a token's body; Invalid("call.bad_token") if it is not one."""
        try:
            return cls(
                call_id=str(data["call"]),
                role=CallRole(data["role"]),
                participant_id=str(data["participant"]),
                expires_at=datetime.fromtimestamp(int(data["exp"]), tz=UTC),
            )
        except (KeyError, TypeError, ValueError):
            raise Invalid("call.bad_token") from None

    def is_expired(self, at: datetime) -> bool:
        return at >= self.expires_at


# -- TURN credentials (coturn's shared-secret REST scheme) -----------------------------------


@dataclass(frozen=True)
class TurnCredential:
    username: str
    credential: str
    expires_at: datetime


def turn_credential(secret: str, participant: str, at: datetime, ttl: timedelta) -> TurnCredential:
    """A time-limited TURN login: username "<expiry>:<participant>", password
    base64(HMAC-SHA1(secret, username)), as coturn's `use-auth-secret` checks it."""
    expires_at = at + ttl
    username = f"{math.floor(expires_at.timestamp())}:{participant}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return TurnCredential(
        username=username, credential=base64.b64encode(digest).decode(), expires_at=expires_at
    )


# -- signalling messages ----------------------------------------------------------------------

# An SDP of a two-party audio+video call is 3-8 KB; screen sharing and many codecs stay far
# below this. Anything larger is not an SDP a browser made.
MAX_SDP_BYTES = 64 * 1024
# A candidate line is ~100-200 characters; mids and ufrags are short tokens.
MAX_CANDIDATE_CHARS = 512
MAX_TOKEN_CHARS = 2048
MAX_SHORT_CHARS = 64
# A whole message (JSON text) may not exceed this: an SDP plus its envelope.
MAX_MESSAGE_BYTES = MAX_SDP_BYTES + 4096


@dataclass(frozen=True)
class Signal:
    """Base of every signalling message; `type` is the dotted name clients switch on."""

    type: ClassVar[str] = "call.signal"
    version: ClassVar[int] = PROTOCOL_VERSION
    # Relayed to the other participants; the rest is handled by the server.
    is_relayed: ClassVar[bool] = True

    def data(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True)
class Join(Signal):
    """The first message on a socket: the call token (never in the URL)."""

    type: ClassVar[str] = "call.join"
    is_relayed: ClassVar[bool] = False
    token: str
    # The negotiation this browser still has running (a socket-only drop), so the peer may
    # keep it rather than start over.
    resume: str | None = None


@dataclass(frozen=True)
class Offer(Signal):
    type: ClassVar[str] = "call.offer"
    sdp: str
    # One id per peer connection: a reload starts a new one, an ICE restart keeps it.
    session: str
    is_restart: bool = False


@dataclass(frozen=True)
class Answer(Signal):
    type: ClassVar[str] = "call.answer"
    sdp: str
    session: str


@dataclass(frozen=True)
class Ice(Signal):
    """A trickled ICE candidate; `candidate` empty means the end of candidates."""

    type: ClassVar[str] = "call.ice"
    session: str
    candidate: str
    sdp_mid: str | None = None
    sdp_mline_index: int | None = None


class ConnectionState(StrEnum):
    NEW = "new"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    FAILED = "failed"
    CLOSED = "closed"


@dataclass(frozen=True)
class StateReport(Signal):
    """A browser's peer connection changed state; the server moves the call and tells all."""

    type: ClassVar[str] = "call.state"
    is_relayed: ClassVar[bool] = False
    connection: ConnectionState


@dataclass(frozen=True)
class Hangup(Signal):
    type: ClassVar[str] = "call.hangup"
    is_relayed: ClassVar[bool] = False


@dataclass(frozen=True)
class Media(Signal):
    """What the sender sends now: the other side shows "muted" or "camera off"."""

    type: ClassVar[str] = "call.media"
    audio: bool
    video: bool
    screen: bool = False


@dataclass(frozen=True)
class Quality(Signal):
    """The sender's view of the connection, from getStats, every few seconds."""

    type: ClassVar[str] = "call.quality"
    is_relayed: ClassVar[bool] = False
    rtt_ms: float | None
    loss_percent: float | None
    bitrate_kbps: float | None
    audio_only: bool = False


@dataclass(frozen=True)
class Ping(Signal):
    """Answered by the server with call.pong: a client's measure of the signalling delay."""

    type: ClassVar[str] = "call.ping"
    is_relayed: ClassVar[bool] = False
    nonce: str


# Room for later kinds (call.chat, call.document, call.invite): each is one class here.
SIGNALS: dict[str, type[Signal]] = {
    cls.type: cls for cls in (Join, Offer, Answer, Ice, StateReport, Hangup, Media, Quality, Ping)
}


def parse_signal(message: Any) -> Signal:
    """A client's message, checked: {"type", "version", "data"}.

    Errors (Invalid): call.bad_message, call.unknown_type, call.unsupported_version,
    call.bad_field (with `field`), call.too_large (with `field`).
    """
    if not isinstance(message, dict):
        raise Invalid("call.bad_message")
    kind = message.get("type")
    cls = SIGNALS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise Invalid("call.unknown_type", field="type")
    version = message.get("version", PROTOCOL_VERSION)
    if version != cls.version or isinstance(version, bool):
        raise Invalid("call.unsupported_version", field="version", version=str(version)[:8])
    data = message.get("data", {})
    if not isinstance(data, dict):
        raise Invalid("call.bad_message", field="data")
    return _build(cls, data)


def _build(cls: type[Signal], data: dict[str, Any]) -> Signal:
    if cls is Join:
        return Join(
            token=_text(data, "token", MAX_TOKEN_CHARS),
            resume=_optional_text(data, "resume", MAX_SHORT_CHARS),
        )
    if cls is Offer:
        return Offer(
            sdp=_sdp(data),
            session=_text(data, "session", MAX_SHORT_CHARS),
            is_restart=_flag(data, "is_restart", default=False),
        )
    if cls is Answer:
        return Answer(sdp=_sdp(data), session=_text(data, "session", MAX_SHORT_CHARS))
    if cls is Ice:
        index = data.get("sdp_mline_index")
        if index is not None and (type(index) is not int or not 0 <= index < 64):
            raise Invalid("call.bad_field", field="sdp_mline_index")
        return Ice(
            session=_text(data, "session", MAX_SHORT_CHARS),
            candidate=_text(data, "candidate", MAX_CANDIDATE_CHARS, allow_empty=True),
            sdp_mid=_optional_text(data, "sdp_mid", MAX_SHORT_CHARS),
            sdp_mline_index=index,
        )
    if cls is StateReport:
        try:
            connection = ConnectionState(str(data.get("connection")))
        except ValueError:
            raise Invalid("call.bad_field", field="connection") from None
        return StateReport(connection=connection)
    if cls is Media:
        return Media(
            audio=_flag(data, "audio"),
            video=_flag(data, "video"),
            screen=_flag(data, "screen", default=False),
        )
    if cls is Quality:
        return Quality(
            rtt_ms=_measure(data, "rtt_ms", 60_000),
            loss_percent=_measure(data, "loss_percent", 100),
            bitrate_kbps=_measure(data, "bitrate_kbps", 1_000_000),
            audio_only=_flag(data, "audio_only", default=False),
        )
    if cls is Ping:
        return Ping(nonce=_text(data, "nonce", MAX_SHORT_CHARS))
    return cls()


def _text(data: dict[str, Any], name: str, limit: int, *, allow_empty: bool = False) -> str:
    value = data.get(name)
    if not isinstance(value, str) or (not value and not allow_empty):
        raise Invalid("call.bad_field", field=name)
    if len(value) > limit:
        raise Invalid("call.too_large", field=name, maximum=limit)
    return value


def _optional_text(data: dict[str, Any], name: str, limit: int) -> str | None:
    if data.get(name) is None:
        return None
    return _text(data, name, limit)


def _sdp(data: dict[str, Any]) -> str:
    value = _text(data, "sdp", MAX_SDP_BYTES)
    if len(value.encode()) > MAX_SDP_BYTES:
        raise Invalid("call.too_large", field="sdp", maximum=MAX_SDP_BYTES)
    if not value.startswith("v=0"):
        raise Invalid("call.bad_field", field="sdp")
    return value


def _flag(data: dict[str, Any], name: str, default: bool | None = None) -> bool:
    value = data.get(name, default)
    if not isinstance(value, bool):
        raise Invalid("call.bad_field", field=name)
    return value


def _measure(data: dict[str, Any], name: str, maximum: float) -> float | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Invalid("call.bad_field", field=name)
    if not math.isfinite(value) or not 0 <= value <= maximum:
        raise Invalid("call.bad_field", field=name)
    return float(value)


def envelope(kind: str, data: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A message as it goes over the socket."""
    return {"type": kind, "version": PROTOCOL_VERSION, "data": data, **extra}
