// A participant's side of a video call, shared by the citizen's page and the officer's
// console: devices, the signalling socket (/ws/calls), the peer connection, recovery and
// quality reports. Media goes browser to browser over DTLS-SRTP, never through Loket.
//
// A call of two or three (with an interpreter) is a mesh: one RTCPeerConnection per other
// participant, keyed by their role. Who offers is fixed, so two never offer at once: the
// officer offers to everyone, the interpreter to the citizen; the citizen only answers.
// Offers, answers and candidates name their peer (`to`). A new peer connection gets a new
// `session` id (a reload); an ICE restart keeps it (a network change).

const FINAL_CLOSE_CODES = new Set([4403, 4404, 4409, 4410]);
const QUALITY_EVERY_MS = 5000;
// Two poor samples in a row (10 s) switch the call to sound only.
const POOR_SAMPLES = 2;
const POOR_LOSS_PERCENT = 10;
const POOR_BITRATE_KBPS = 100;
// ICE "disconnected" often heals by itself within a few seconds; only then restart.
const RESTART_AFTER_MS = 3000;
const MAX_BACKOFF_MS = 4000;
const RANK = { officer: 3, interpreter: 2, citizen: 1 };
// The peer whose connection is "the call" for this side: its state, quality and video.
const MAIN_PEER = { officer: "citizen", citizen: "officer", interpreter: "officer" };
const PRINCIPALS = new Set(["officer", "citizen"]);

/** The camera and microphone: a stream, the chosen devices, and why there is no video. */
export class Devices {
  constructor() {
    this.stream = null;
    this.problem = null; // "denied" | "no_camera" | "no_devices" | null
  }

  async open({ cameraId, microphoneId } = {}) {
    this.close();
    const audio = microphoneId ? { deviceId: { exact: microphoneId } } : true;
    const video = cameraId ? { deviceId: { exact: cameraId } } : { width: 640, height: 480 };
    this.problem = null;
    try {
      this.stream = await navigator.mediaDevices.getUserMedia({ audio, video });
    } catch (error) {
      if (error.name === "NotAllowedError" || error.name === "SecurityError") {
        this.problem = "denied";
        return null;
      }
      // No camera (or it is busy): sound only is still a call.
      try {
        this.stream = await navigator.mediaDevices.getUserMedia({ audio, video: false });
        this.problem = "no_camera";
      } catch (second) {
        this.problem = second.name === "NotAllowedError" ? "denied" : "no_devices";
        return null;
      }
    }
    return this.stream;
  }

  async list() {
    const all = await navigator.mediaDevices.enumerateDevices();
    return {
      cameras: all.filter((d) => d.kind === "videoinput"),
      microphones: all.filter((d) => d.kind === "audioinput"),
    };
  }

  get audioTrack() {
    return this.stream?.getAudioTracks()[0] ?? null;
  }

  get videoTrack() {
    return this.stream?.getVideoTracks()[0] ?? null;
  }

  close() {
    this.stream?.getTracks().forEach((track) => track.stop());
    this.stream = null;
  }
}

/** Fill a <select> with devices, keeping the current choice. */
export function fillDeviceSelect(select, devices, label) {
  const chosen = select.value;
  select.replaceChildren(
    ...devices.map((device, index) => {
      const option = document.createElement("option");
      option.value = device.deviceId;
      option.textContent = device.label || `${label} ${index + 1}`;
      return option;
    }),
  );
  if ([...select.options].some((o) => o.value === chosen)) select.value = chosen;
}

/** One other participant: our peer connection with them. */
class PeerLink {
  constructor(role) {
    this.role = role;
    this.pc = null;
    this.session = null;
    this.pendingCandidates = [];
    this.videoSender = null;
    this.restartTimer = null;
  }
}

export class CallClient {
  /**
   * @param {object} options
   * @param {"citizen"|"officer"|"interpreter"} options.role
   * @param {string} options.tokenUrl  POST with the page's csrf_token; answers {token}
   * @param {string} options.csrf
   * @param {Devices} options.devices
   * @param {(role: string) => HTMLVideoElement} options.videoFor  where a peer's video shows
   * @param {(state: string) => void} options.onState  waiting|connecting|active|reconnecting|ended|failed
   * @param {(media: object, role: string) => void} [options.onPeerMedia]
   * @param {(role: string, present: boolean, left: boolean) => void} [options.onPeer]
   * @param {(note: string) => void} [options.onNote]  "audio_only"
   */
  constructor(options) {
    this.options = options;
    this.role = options.role;
    this.mainPeer = MAIN_PEER[this.role];
    this.socket = null;
    this.links = new Map();
    this.present = new Set();
    this.iceServers = [];
    this.ended = false;
    this.backoff = 500;
    this.qualityTimer = null;
    this.lastStats = null;
    this.poorSamples = 0;
    this.audioOnly = false;
    this.screenTrack = null;
    this.media = { audio: true, video: Boolean(options.devices.videoTrack), screen: false };
    this.state = "waiting";
    this.events = []; // [time, what]: the benchmark and tests read it
  }

  // The connection with the main peer (the tests and the quality reports read it).
  get pc() {
    return this.links.get(this.mainPeer)?.pc ?? null;
  }

  get session() {
    return this.links.get(this.mainPeer)?.session ?? null;
  }

  get videoSender() {
    return this.links.get(this.mainPeer)?.videoSender ?? null;
  }

  get peerPresent() {
    return this.present.has(this.mainPeer);
  }

  offersTo(role) {
    return RANK[this.role] > RANK[role];
  }

  // -- the socket ----------------------------------------------------------------------

  async join() {
    if (this.ended) return;
    let token;
    try {
      token = await this.fetchToken();
    } catch (error) {
      if (error.final) return this.finish("failed");
      return this.retry();
    }
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(`${scheme}//${location.host}/ws/calls?lang=${document.documentElement.lang}`);
    this.socket = socket;
    socket.addEventListener("open", () => {
      // The sessions still carrying media (only the socket dropped): the peers keep them.
      const running = [...this.links.values()].filter((l) => l.pc?.connectionState === "connected").map((l) => l.session);
      this.send("call.join", { token, resume: running.length ? running.join(",") : null });
    });
    socket.addEventListener("message", (event) => this.receive(event.data));
    socket.addEventListener("close", (event) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.ended) return;
      if (FINAL_CLOSE_CODES.has(event.code)) {
        this.finish(event.code === 4410 ? "ended" : "failed", event.code);
        return;
      }
      this.setState("reconnecting");
      this.retry();
    });
  }

  async fetchToken() {
    const body = new FormData();
    body.append("csrf_token", this.options.csrf);
    const response = await fetch(this.options.tokenUrl, { method: "POST", body, credentials: "same-origin" });
    if (!response.ok) {
      const error = new Error(`token: ${response.status}`);
      // The contact is over or not ours: trying again will not change that.
      error.final = [403, 404, 409, 410].includes(response.status);
      throw error;
    }
    return (await response.json()).token;
  }

  retry() {
    const wait = this.backoff;
    this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
    setTimeout(() => this.join(), wait);
  }

  send(type, data, to) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      const message = { type, version: 1, data };
      if (to) message.to = to;
      this.socket.send(JSON.stringify(message));
    }
  }

  async receive(raw) {
    let message;
    try {
      message = JSON.parse(raw);
    } catch {
      return;
    }
    const data = message.data || {};
    const from = message.from;
    this.note(message.type);
    switch (message.type) {
      case "call.joined":
        this.backoff = 500;
        this.iceServers = data.ice_servers || [];
        this.present = new Set(data.peers);
        this.sendMedia();
        for (const role of data.peers) {
          this.options.onPeer?.(role, true, false);
          if (this.offersTo(role)) this.maybeOffer(role, null);
        }
        if (!this.peerPresent) this.setState(this.links.size ? "reconnecting" : "waiting");
        break;
      case "call.peer":
        this.onPeer(data);
        break;
      case "call.status":
        if (data.state === "reconnecting" || data.state === "connecting") {
          // The interpreter's own links stand apart from the citizen-officer link.
          if (this.role !== "interpreter" || !this.pc || this.pc.connectionState !== "connected") this.setState(data.state);
        }
        if (data.state === "active" && this.pc?.connectionState === "connected") this.setState("active");
        break;
      case "call.offer":
        await this.onOffer(from, data);
        break;
      case "call.answer": {
        const link = this.links.get(from);
        if (link?.pc && data.session === link.session) {
          await link.pc.setRemoteDescription({ type: "answer", sdp: data.sdp });
          await this.flushCandidates(link);
        }
        break;
      }
      case "call.ice":
        await this.onCandidate(from, data);
        break;
      case "call.media":
        this.options.onPeerMedia?.(data, from);
        break;
      case "call.ended":
        this.finish("ended");
        break;
      case "call.error":
        console.warn("call:", data.code, data.message);
        break;
      default:
        this.options.onSignal?.(message); // chat.message, document.added: call-exchange.js
        break;
    }
  }

  onPeer(data) {
    const role = data.role;
    if (role === this.role || !(role in RANK)) return;
    const known = this.present.has(role);
    if (data.present) {
      this.present.add(role);
      if (!known || !data.is_reply) this.options.onPeer?.(role, true, false);
      // A reply only says the peer was there all along: a running connection stays.
      if (this.offersTo(role) && !(data.is_reply && this.links.has(role))) this.maybeOffer(role, data.resume ?? null);
      this.sendMedia();
      return;
    }
    this.present.delete(role);
    this.options.onPeer?.(role, false, Boolean(data.left));
    if (data.left) {
      // The interpreter left (or was removed): the others' call goes on.
      this.closeLink(role);
    }
    if (role === this.mainPeer || PRINCIPALS.has(role)) this.setState("reconnecting");
  }

  // -- the peer connections ------------------------------------------------------------

  newPeerConnection(role, session) {
    this.closeLink(role);
    const link = new PeerLink(role);
    link.session = session;
    this.links.set(role, link);
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    link.pc = pc;
    const stream = this.options.devices.stream;
    if (stream) for (const track of stream.getTracks()) pc.addTrack(track, stream);
    // Receive video even when this side sends none (no camera): the other's face.
    if (!this.options.devices.videoTrack) pc.addTransceiver("video", { direction: "recvonly" });
    link.videoSender = pc.getSenders().find((s) => s.track?.kind === "video") ?? null;
    if (this.screenTrack && link.videoSender) link.videoSender.replaceTrack(this.screenTrack);
    pc.addEventListener("icecandidate", (event) => {
      const c = event.candidate;
      this.send(
        "call.ice",
        {
          session,
          candidate: c ? c.candidate : "",
          sdp_mid: c ? c.sdpMid : null,
          sdp_mline_index: c ? c.sdpMLineIndex : null,
        },
        role,
      );
    });
    pc.addEventListener("track", (event) => {
      const video = this.options.videoFor(role);
      if (video && video.srcObject !== event.streams[0]) video.srcObject = event.streams[0] ?? new MediaStream([event.track]);
    });
    pc.addEventListener("connectionstatechange", () => this.onConnectionState(link, pc));
    return pc;
  }

  closeLink(role) {
    const link = this.links.get(role);
    if (!link) return;
    clearTimeout(link.restartTimer);
    link.pc?.close();
    this.links.delete(role);
    const video = this.options.videoFor(role);
    if (video && role !== this.mainPeer) video.srcObject = null;
  }

  async maybeOffer(role, resume) {
    const link = this.links.get(role);
    // The peer came back with its media still flowing (only its socket dropped): keep it.
    if (resume && link && resume.split(",").includes(link.session) && link.pc?.connectionState === "connected") {
      if (role === this.mainPeer) this.setState("active");
      return;
    }
    if (role === this.mainPeer) this.setState("connecting");
    await this.offer(role, this.newPeerConnection(role, randomId()), false);
  }

  async offer(role, pc, isRestart) {
    const description = await pc.createOffer(isRestart ? { iceRestart: true } : {});
    const link = this.links.get(role);
    if (!link || pc !== link.pc) return;
    await pc.setLocalDescription(description);
    this.send("call.offer", { sdp: pc.localDescription.sdp, session: link.session, is_restart: isRestart }, role);
  }

  async onOffer(from, data) {
    if (!(from in RANK) || this.offersTo(from)) return;
    let link = this.links.get(from);
    let pc = link?.pc;
    if (!pc || data.session !== link.session) pc = this.newPeerConnection(from, data.session);
    link = this.links.get(from);
    if (from === this.mainPeer) this.setState(this.state === "active" && data.is_restart ? "reconnecting" : "connecting");
    await pc.setRemoteDescription({ type: "offer", sdp: data.sdp });
    await this.flushCandidates(link);
    const answer = await pc.createAnswer();
    if (pc !== this.links.get(from)?.pc) return;
    await pc.setLocalDescription(answer);
    this.send("call.answer", { sdp: pc.localDescription.sdp, session: data.session }, from);
  }

  async onCandidate(from, data) {
    const link = this.links.get(from);
    if (!link?.pc || data.session !== link.session) return;
    const candidate = data.candidate
      ? { candidate: data.candidate, sdpMid: data.sdp_mid, sdpMLineIndex: data.sdp_mline_index }
      : null;
    if (!link.pc.remoteDescription) {
      link.pendingCandidates.push(candidate);
      return;
    }
    try {
      await link.pc.addIceCandidate(candidate);
    } catch (error) {
      console.warn("call: candidate refused", error);
    }
  }

  async flushCandidates(link) {
    const pending = link.pendingCandidates;
    link.pendingCandidates = [];
    for (const candidate of pending) {
      try {
        await link.pc.addIceCandidate(candidate);
      } catch {
        // a candidate of an older negotiation
      }
    }
  }

  onConnectionState(link, pc) {
    if (pc !== link.pc || this.links.get(link.role) !== link || this.ended) return;
    const state = pc.connectionState;
    const main = link.role === this.mainPeer;
    this.note(main ? `pc.${state}` : `pc.${link.role}.${state}`);
    // The call's state on the server is the citizen-officer link's.
    if (PRINCIPALS.has(this.role) && PRINCIPALS.has(link.role)) this.send("call.state", { connection: state });
    clearTimeout(link.restartTimer);
    if (state === "connected") {
      if (main || this.state !== "active") this.setState("active");
      if (main) this.startQuality();
    } else if (state === "disconnected" || state === "failed") {
      if (main) this.setState("reconnecting");
      // The offerer restarts ICE over the same connection (a network change, a new address).
      if (this.offersTo(link.role)) {
        const wait = state === "failed" ? 0 : RESTART_AFTER_MS;
        link.restartTimer = setTimeout(() => {
          if (pc === link.pc && pc.connectionState !== "connected" && this.present.has(link.role)) this.offer(link.role, pc, true);
        }, wait);
      }
    }
  }

  // -- media controls ------------------------------------------------------------------

  setMicrophone(on) {
    const track = this.options.devices.audioTrack;
    if (track) track.enabled = on;
    this.media.audio = on;
    this.sendMedia();
  }

  setCamera(on) {
    const track = this.options.devices.videoTrack;
    if (track) track.enabled = on;
    this.media.video = on && Boolean(track);
    this.sendMedia();
  }

  async shareScreen() {
    const display = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    this.screenTrack = display.getVideoTracks()[0];
    this.screenTrack.addEventListener("ended", () => this.stopScreen());
    await this.replaceVideo(this.screenTrack);
    this.media.screen = true;
    this.sendMedia();
    return this.screenTrack;
  }

  async stopScreen() {
    if (!this.screenTrack) return;
    this.screenTrack.stop();
    this.screenTrack = null;
    await this.replaceVideo(this.options.devices.videoTrack);
    this.media.screen = false;
    this.sendMedia();
  }

  async replaceVideo(track) {
    for (const link of this.links.values()) if (link.videoSender) await link.videoSender.replaceTrack(track);
  }

  async replaceDevice(kind, track) {
    for (const link of this.links.values()) {
      const sender = link.pc?.getSenders().find((s) => s.track?.kind === kind);
      if (sender) await sender.replaceTrack(track);
    }
  }

  sendMedia() {
    this.send("call.media", this.media);
  }

  // -- quality -------------------------------------------------------------------------

  startQuality() {
    if (this.qualityTimer) return;
    this.qualityTimer = setInterval(() => this.reportQuality(), QUALITY_EVERY_MS);
  }

  async reportQuality() {
    if (!this.pc || this.pc.connectionState !== "connected") return;
    const sample = await measure(this.pc, this.lastStats);
    this.lastStats = sample.totals;
    this.judgeQuality(sample);
    this.send("call.quality", {
      rtt_ms: sample.rtt_ms,
      loss_percent: sample.loss_percent,
      bitrate_kbps: sample.bitrate_kbps,
      audio_only: this.audioOnly || !this.options.devices.videoTrack,
    });
  }

  /** Two poor samples in a row turn one's camera off: sound alone gets through where
   * video stutters. (The browser test feeds it samples: loss cannot be staged on loopback.) */
  judgeQuality(sample) {
    const poor = sample.loss_percent > POOR_LOSS_PERCENT || (sample.bitrate_kbps !== null && sample.bitrate_kbps < POOR_BITRATE_KBPS && this.media.video);
    this.poorSamples = poor ? this.poorSamples + 1 : 0;
    if (this.poorSamples >= POOR_SAMPLES && !this.audioOnly && this.media.video) {
      this.audioOnly = true;
      this.setCamera(false);
      this.options.onNote?.("audio_only");
    }
  }

  // -- the end -------------------------------------------------------------------------

  /** End the call (the citizen, the officer) or leave it (the interpreter). */
  hangUp() {
    this.send("call.hangup", {});
    this.finish("ended");
  }

  finish(state, code) {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.qualityTimer);
    for (const role of [...this.links.keys()]) this.closeLink(role);
    if (this.screenTrack) this.screenTrack.stop();
    const socket = this.socket;
    this.socket = null;
    if (socket && socket.readyState <= WebSocket.OPEN) setTimeout(() => socket.close(1000), 200);
    this.closeCode = code ?? null;
    this.setState(state);
  }

  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.note(`state.${state}`);
    this.options.onState(state);
  }

  note(what) {
    this.events.push([performance.timeOrigin + performance.now(), what]);
    if (this.events.length > 500) this.events.shift();
  }
}

/** Round-trip time, loss and receive bitrate from getStats, against the previous totals. */
export async function measure(pc, previous) {
  const report = await pc.getStats();
  let rtt = null;
  let bytes = 0;
  let lost = 0;
  let received = 0;
  let at = performance.now();
  report.forEach((stat) => {
    if (stat.type === "candidate-pair" && stat.state === "succeeded" && stat.currentRoundTripTime !== undefined) {
      rtt = stat.currentRoundTripTime * 1000;
    }
    if (stat.type === "inbound-rtp") {
      bytes += stat.bytesReceived ?? 0;
      lost += Math.max(0, stat.packetsLost ?? 0);
      received += stat.packetsReceived ?? 0;
    }
  });
  const totals = { bytes, lost, received, at };
  let bitrate = null;
  let loss = 0;
  if (previous) {
    const seconds = (at - previous.at) / 1000;
    if (seconds > 0) bitrate = ((bytes - previous.bytes) * 8) / 1000 / seconds;
    const newLost = lost - previous.lost;
    const newReceived = received - previous.received;
    if (newLost + newReceived > 0) loss = (100 * newLost) / (newLost + newReceived);
  }
  return {
    rtt_ms: rtt === null ? null : Math.round(rtt * 10) / 10,
    loss_percent: Math.min(100, Math.max(0, Math.round(loss * 10) / 10)),
    bitrate_kbps: bitrate === null ? null : Math.max(0, Math.round(bitrate)),
    totals,
  };
}

function randomId() {
  const bytes = new Uint8Array(8);
  crypto.getRandomValues(bytes);
  return [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
}
