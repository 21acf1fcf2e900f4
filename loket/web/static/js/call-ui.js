// The call's controls and messages, the same on the citizen's page and the officer's console:
// they drive a CallClient (call.js) and show its state in the page's words.

import { CallClient } from "./call.js";
import { startDraft } from "./call-draft.js";
import { startExchange } from "./call-exchange.js";

/** Wire the call area (templates/calls/_call_area.html) to a new CallClient and join. */
export function startCall({ role, tokenUrl, csrf, devices, text, onEnded }) {
  const area = document.getElementById("call-area");
  // A console serves one call after another: fresh buttons, without the last call's handlers.
  for (const button of area.querySelectorAll("button")) {
    const fresh = button.cloneNode(true);
    fresh.disabled = false;
    if (fresh.hasAttribute("aria-pressed")) fresh.setAttribute("aria-pressed", "false");
    button.replaceWith(fresh);
  }
  const note = document.getElementById("call-note");
  note.hidden = true;
  const stateLine = document.getElementById("call-state");
  const peerLine = document.getElementById("peer-media");
  const noteLine = note;
  const microphone = document.getElementById("toggle-microphone");
  const camera = document.getElementById("toggle-camera");
  const screen = document.getElementById("share-screen");
  const hangUp = document.getElementById("hang-up");
  const peers = document.getElementById("call-peers");
  peers.textContent = "";
  const thirdFigure = document.getElementById("third-figure");
  thirdFigure.hidden = true;
  document.getElementById("local-video").srcObject = devices.stream;

  let exchange = null;
  let draft = null;
  const client = new CallClient({
    onSignal(message) {
      exchange?.receive(message);
      draft?.receive(message);
    },
    role,
    tokenUrl,
    csrf,
    devices,
    videoFor(peer) {
      if (peer === client.mainPeer) return document.getElementById("remote-video");
      return document.getElementById("third-video");
    },
    onPeer(peer, present, left) {
      const name = peers.dataset[peer] ?? peer;
      if (peer !== client.mainPeer) {
        thirdFigure.hidden = !present;
        thirdFigure.dataset.role = peer;
        document.getElementById("third-caption").textContent = name;
      }
      // The interpreter comes and goes; the citizen and the officer show in the call's state.
      if (peer === "interpreter" || role === "interpreter") {
        peers.dataset.last = `${peer}.${present ? "joined" : left ? "left" : "away"}`;
        if (present || left) peers.textContent = peers.dataset[present ? "joined" : "left"].replace("%(who)s", name);
      }
    },
    onState(state) {
      stateLine.dataset.state = state;
      stateLine.textContent = text[state] ?? state;
      area.dataset.state = state;
      if (state === "ended" || state === "failed") {
        for (const button of area.querySelectorAll("button")) button.disabled = true;
        onEnded?.(state);
      }
    },
    onPeerMedia(media, peer) {
      if (peer && peer !== client.mainPeer) return;
      const notes = [];
      if (!media.audio) notes.push(text.peer_muted);
      if (!media.video && !media.screen) notes.push(text.peer_camera_off);
      peerLine.textContent = notes.join(" ");
      peerLine.dataset.audio = String(media.audio);
      peerLine.dataset.video = String(media.video);
      peerLine.dataset.screen = String(Boolean(media.screen));
    },
    onNote(note) {
      noteLine.hidden = false;
      noteLine.textContent = text[note] ?? note;
      setToggle(camera, true);
    },
  });

  const setToggle = (button, pressed) => button.setAttribute("aria-pressed", String(pressed));
  if (!devices.videoTrack) {
    camera.disabled = true;
    noteLine.hidden = false;
    noteLine.textContent = text.no_camera;
  }
  microphone.addEventListener("click", () => {
    const muted = microphone.getAttribute("aria-pressed") !== "true";
    setToggle(microphone, muted);
    client.setMicrophone(!muted);
  });
  camera.addEventListener("click", () => {
    const off = camera.getAttribute("aria-pressed") !== "true";
    setToggle(camera, off);
    client.setCamera(!off);
  });
  screen?.addEventListener("click", async () => {
    if (screen.getAttribute("aria-pressed") === "true") {
      await client.stopScreen();
      setToggle(screen, false);
      return;
    }
    try {
      await client.shareScreen();
      setToggle(screen, true);
      client.screenTrack.addEventListener("ended", () => setToggle(screen, false));
    } catch {
      // the person chose not to share: nothing changes
    }
  });
  hangUp.addEventListener("click", () => client.hangUp());

  area.hidden = false;
  exchange = startExchange(client);
  draft = startDraft(client);
  client.options.onState(client.state);
  window.loketCall = client; // for the browser tests and the benchmark
  client.join();
  return client;
}

/** The page's call words, from the JSON the server rendered. */
export function callText() {
  const element = document.getElementById("call-text");
  return element ? JSON.parse(element.textContent) : {};
}

/** Whether this tab was in (or waiting for) the call: a reload then joins again by itself. */
export function readiness(key) {
  return {
    set(ready) {
      try {
        if (ready) sessionStorage.setItem(key, "yes");
        else sessionStorage.removeItem(key);
      } catch {
        // storage off: a reload then asks for the device check again
      }
    },
    get() {
      try {
        return sessionStorage.getItem(key) === "yes";
      } catch {
        return false;
      }
    },
  };
}
