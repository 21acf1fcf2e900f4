// A participant's side of a video call, shared by the citizen's page and the officer's
// console: devices, the signalling socket (/ws/calls), the peer connection, recovery and
// quality reports. Media goes browser to browser over DTLS-SRTP, never through Loket.
//
// The officer's browser always makes the offer; the citizen's answers. A new peer connection
// gets a new `session` id (a reload); an ICE restart keeps it (a network change).

const FINAL_CLOSE_CODES = new Set([4403, 4404, 4409, 4410]);
const QUALITY_EVERY_MS = 5000;
// Two poor samples in a row (10 s) switch the call to sound only.
const POOR_SAMPLES = 2;
const POOR_LOSS_PERCENT = 10;
const POOR_BITRATE_KBPS = 100;
// ICE "disconnected" often heals by itself within a few seconds; only then restart.
const RESTART_AFTER_MS = 3000;
const MAX_BACKOFF_MS = 4000;

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

export class CallClient {
  /**
   * @param {object} options
   * @param {"citizen"|"officer"} options.role
   * @param {string} options.tokenUrl  POST with the page's csrf_token; answers {token}
   * @param {string} options.csrf
   * @param {Devices} options.devices
   * @param {HTMLVideoElement} options.remoteVideo
   * @param {(state: string) => void} options.onState  waiting|connecting|active|reconnecting|ended|failed
   * @param {(media: object) => void} [options.onPeerMedia]
   * @param {(note: string) => void} [options.onNote]  "audio_only"
   */
  constructor(options) {
    this.options = options;
    this.role = options.role;
    this.socket = null;
    this.pc = null;
    this.session = null;
    this.iceServers = [];
    this.pendingCandidates = [];
    this.peerPresent = false;
    this.ended = false;
    this.backoff = 500;
    this.restartTimer = null;
    this.qualityTimer = null;
    this.lastStats = null;
    this.poorSamples = 0;
    this.audioOnly = false;
    this.screenTrack = null;
    this.videoSender = null;
    this.media = { audio: true, video: Boolean(options.devices.videoTrack), screen: false };
    this.state = "waiting";
    this.events = []; // [time, what]: the benchmark and tests read it
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
      const resume = this.pc && this.pc.connectionState === "connected" ? this.session : null;
      this.send("call.join", { token, resume });
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
      error.final = [403, 404, 409].includes(response.status);
      throw error;
    }
    return (await response.json()).token;
  }

  retry() {
    const wait = this.backoff;
    this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
    setTimeout(() => this.join(), wait);
  }

  send(type, data) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify({ type, version: 1, data }));
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
    this.note(message.type);
    switch (message.type) {
      case "call.joined":
        this.backoff = 500;
        this.iceServers = data.ice_servers || [];
        this.peerPresent = data.peers.length > 0;
        this.sendMedia();
        if (this.role === "officer" && this.peerPresent) this.maybeOffer(null);
        if (!this.peerPresent) this.setState(this.pc ? "reconnecting" : "waiting");
        break;
      case "call.peer":
        if (data.role === this.role) break;
        this.peerPresent = data.present;
        if (data.present) {
          if (this.role === "officer") this.maybeOffer(data.resume ?? null);
          this.sendMedia();
        } else {
          this.setState("reconnecting");
        }
        break;
      case "call.status":
        if (data.state === "reconnecting" || data.state === "connecting") this.setState(data.state);
        if (data.state === "active" && this.pc?.connectionState === "connected") this.setState("active");
        break;
      case "call.offer":
        await this.onOffer(data);
        break;
      case "call.answer":
        if (this.pc && data.session === this.session) {
          await this.pc.setRemoteDescription({ type: "answer", sdp: data.sdp });
          await this.flushCandidates();
        }
        break;
      case "call.ice":
        await this.onCandidate(data);
        break;
      case "call.media":
        this.options.onPeerMedia?.(data);
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

  // -- the peer connection -------------------------------------------------------------

  newPeerConnection(session) {
    if (this.pc) this.pc.close();
    this.session = session;
    this.pendingCandidates = [];
    const pc = new RTCPeerConnection({ iceServers: this.iceServers });
    this.pc = pc;
    const stream = this.options.devices.stream;
    if (stream) for (const track of stream.getTracks()) pc.addTrack(track, stream);
    // Receive video even when this side sends none (no camera): the officer's face.
    if (!this.options.devices.videoTrack) pc.addTransceiver("video", { direction: "recvonly" });
    this.videoSender = pc.getSenders().find((s) => s.track?.kind === "video") ?? null;
    if (this.screenTrack) this.replaceVideo(this.screenTrack);
    pc.addEventListener("icecandidate", (event) => {
      const c = event.candidate;
      this.send("call.ice", {
        session,
        candidate: c ? c.candidate : "",
        sdp_mid: c ? c.sdpMid : null,
        sdp_mline_index: c ? c.sdpMLineIndex : null,
      });
    });
    pc.addEventListener("track", (event) => {
      const video = this.options.remoteVideo;
      if (video.srcObject !== event.streams[0]) video.srcObject = event.streams[0] ?? new MediaStream([event.track]);
    });
    pc.addEventListener("connectionstatechange", () => this.onConnectionState(pc));
    return pc;
  }

  async maybeOffer(resume) {
    // The peer came back with its media still flowing (only its socket dropped): keep it.
    if (resume && resume === this.session && this.pc?.connectionState === "connected") {
      this.setState("active");
      return;
    }
    this.setState("connecting");
    await this.offer(this.newPeerConnection(randomId()), false);
  }

  async offer(pc, isRestart) {
    const description = await pc.createOffer(isRestart ? { iceRestart: true } : {});
    if (pc !== this.pc) return;
    await pc.setLocalDescription(description);
    this.send("call.offer", { sdp: pc.localDescription.sdp, session: this.session, is_restart: isRestart });
  }

  async onOffer(data) {
    if (this.role !== "citizen") return;
    let pc = this.pc;
    if (!pc || data.session !== this.session) pc = this.newPeerConnection(data.session);
    this.setState(this.state === "active" && data.is_restart ? "reconnecting" : "connecting");
    await pc.setRemoteDescription({ type: "offer", sdp: data.sdp });
    await this.flushCandidates();
    const answer = await pc.createAnswer();
    if (pc !== this.pc) return;
    await pc.setLocalDescription(answer);
    this.send("call.answer", { sdp: pc.localDescription.sdp, session: data.session });
  }

  async onCandidate(data) {
    if (!this.pc || data.session !== this.session) return;
    const candidate = data.candidate
      ? { candidate: data.candidate, sdpMid: data.sdp_mid, sdpMLineIndex: data.sdp_mline_index }
      : null;
    if (!this.pc.remoteDescription) {
      this.pendingCandidates.push(candidate);
      return;
    }
    try {
      await this.pc.addIceCandidate(candidate);
    } catch (error) {
      console.warn("call: candidate refused", error);
    }
  }

  async flushCandidates() {
    const pending = this.pendingCandidates;
    this.pendingCandidates = [];
    for (const candidate of pending) {
      try {
        await this.pc.addIceCandidate(candidate);
      } catch {
        // a candidate of an older negotiation
      }
    }
  }

  onConnectionState(pc) {
    if (pc !== this.pc || this.ended) return;
    const state = pc.connectionState;
    this.note(`pc.${state}`);
    this.send("call.state", { connection: state });
    clearTimeout(this.restartTimer);
    if (state === "connected") {
      this.setState("active");
      this.startQuality();
    } else if (state === "disconnected" || state === "failed") {
      this.setState("reconnecting");
      // The offerer restarts ICE over the same connection (a network change, a new address).
      if (this.role === "officer") {
        const wait = state === "failed" ? 0 : RESTART_AFTER_MS;
        this.restartTimer = setTimeout(() => {
          if (pc === this.pc && pc.connectionState !== "connected" && this.peerPresent) this.offer(pc, true);
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
    if (this.videoSender) await this.videoSender.replaceTrack(track);
  }

  async replaceDevice(kind, track) {
    const sender = this.pc?.getSenders().find((s) => s.track?.kind === kind);
    if (sender) await sender.replaceTrack(track);
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
    const poor = sample.loss_percent > POOR_LOSS_PERCENT || (sample.bitrate_kbps !== null && sample.bitrate_kbps < POOR_BITRATE_KBPS && this.media.video);
    this.poorSamples = poor ? this.poorSamples + 1 : 0;
    if (this.poorSamples >= POOR_SAMPLES && !this.audioOnly && this.media.video) {
      this.audioOnly = true;
      this.setCamera(false);
      this.options.onNote?.("audio_only");
    }
    this.send("call.quality", {
      rtt_ms: sample.rtt_ms,
      loss_percent: sample.loss_percent,
      bitrate_kbps: sample.bitrate_kbps,
      audio_only: this.audioOnly || !this.options.devices.videoTrack,
    });
  }

  // -- the end -------------------------------------------------------------------------

  hangUp() {
    this.send("call.hangup", {});
    this.finish("ended");
  }

  finish(state, code) {
    if (this.ended) return;
    this.ended = true;
    clearInterval(this.qualityTimer);
    clearTimeout(this.restartTimer);
    if (this.pc) this.pc.close();
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
