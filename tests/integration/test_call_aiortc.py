"""The signalling protocol with real WebRTC peers but no browser: two aiortc peers (officer
and citizen) negotiate through a real uvicorn server's /ws/calls and exchange media."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from loket.domain.staff import OfficerStatus
from loket.services import calls as call_service
from loket.services import queue
from tests.browser.conftest import LiveServer, live_server, seeded_template  # noqa: F401

aiortc = pytest.importorskip("aiortc")
websockets = pytest.importorskip("websockets")

from aiortc import RTCPeerConnection, RTCSessionDescription  # noqa: E402
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack  # noqa: E402

TIMEOUT = 20.0


def loopback_only_hosts() -> None:
    """aioice leaves out 127.0.0.1; on a machine with nothing else, offer it anyway."""
    import aioice.ice

    if not aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=False):
        aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]


class Side:
    """One participant: its socket to the server and its peer connection."""

    def __init__(self, socket: Any, role: str) -> None:
        self.socket = socket
        self.role = role
        self.pc = RTCPeerConnection()
        self.states: list[str] = []
        self.connected = asyncio.Event()
        self.pc.on("connectionstatechange", self._on_state)

    async def _on_state(self) -> None:
        await self.send("call.state", connection=self.pc.connectionState)
        if self.pc.connectionState == "connected":
            self.connected.set()

    async def send(self, kind: str, **data: Any) -> None:
        await self.socket.send(json.dumps({"type": kind, "version": 1, "data": data}))

    async def next_of(self, kind: str) -> dict[str, Any]:
        while True:
            message = json.loads(await asyncio.wait_for(self.socket.recv(), TIMEOUT))
            if message["type"] == "call.status":
                self.states.append(message["data"]["state"])
            if message["type"] == kind:
                return message  # type: ignore[no-any-return]


async def open_side(url: str, token: str, role: str) -> Side:
    socket = await websockets.connect(url)
    side = Side(socket, role)
    await side.send("call.join", token=token)
    joined = await side.next_of("call.joined")
    assert joined["data"]["role"] == role
    return side


async def negotiate(url: str, officer_token: str, citizen_token: str) -> dict[str, Any]:
    citizen = await open_side(url, citizen_token, "citizen")
    officer = await open_side(url, officer_token, "officer")
    try:
        # The officer offers (as the console does); candidates travel inside the SDP here,
        # because aiortc gathers them all before it answers.
        officer.pc.addTrack(AudioStreamTrack())
        officer.pc.addTrack(VideoStreamTrack())
        await officer.pc.setLocalDescription(await officer.pc.createOffer())
        await officer.send("call.offer", sdp=officer.pc.localDescription.sdp, session="s1")

        offer = await citizen.next_of("call.offer")
        assert offer["from"] == "officer"
        received = asyncio.get_running_loop().create_future()

        @citizen.pc.on("track")
        def on_track(track: Any) -> None:
            if track.kind == "video" and not received.done():
                received.set_result(track)

        await citizen.pc.setRemoteDescription(
            RTCSessionDescription(sdp=offer["data"]["sdp"], type="offer")
        )
        citizen.pc.addTrack(AudioStreamTrack())
        await citizen.pc.setLocalDescription(await citizen.pc.createAnswer())
        await citizen.send("call.answer", sdp=citizen.pc.localDescription.sdp, session="s1")

        answer = await officer.next_of("call.answer")
        await officer.pc.setRemoteDescription(
            RTCSessionDescription(sdp=answer["data"]["sdp"], type="answer")
        )
        await asyncio.wait_for(officer.connected.wait(), TIMEOUT)
        await asyncio.wait_for(citizen.connected.wait(), TIMEOUT)
        track = await asyncio.wait_for(received, TIMEOUT)
        frame = await asyncio.wait_for(track.recv(), TIMEOUT)
        while "active" not in officer.states:
            await officer.next_of("call.status")
        await officer.send("call.hangup")
        ended = await citizen.next_of("call.ended")
        return {"frame": frame, "ended": ended, "officer_states": officer.states}
    finally:
        for side in (officer, citizen):
            await side.pc.close()
            await side.socket.close()


@pytest.mark.slow
def test_two_webrtc_peers_connect_through_the_real_servers_signalling(
    live_server: LiveServer,  # noqa: F811
) -> None:
    loopback_only_hosts()
    live = live_server
    officer_id = live.staff_ids["an"]
    queue.set_officer_status(live.container.queue, officer_id, OfficerStatus.AVAILABLE)
    ticket = queue.take_ticket(
        live.container.queue,
        location_slug="online",
        service_code="contact.video",
        language="nl",
        channel="home",
    )
    assert queue.offer_next(live.container.queue, officer_id) is not None
    queue.accept_ticket(live.container.queue, officer_id, ticket.id)
    ctx = live.container.calls
    officer_token = call_service.issue_officer_token(ctx, officer_id, ticket.id).token
    citizen_token = call_service.issue_citizen_token(ctx, ticket.id).token
    url = live.url.replace("http://", "ws://") + "/ws/calls"

    outcome = asyncio.run(negotiate(url, officer_token, citizen_token))

    assert outcome["frame"].width > 0
    assert outcome["officer_states"][-1] == "active"
    assert outcome["ended"]["data"]["reason"] == "hangup:officer"
