// The officer's side of a video call: when the console's panel shows a video contact in
// service, open the camera and join its call; when the contact ends or moves on, hang up.

import { Devices } from "./call.js";
import { callText, startCall } from "./call-ui.js";
import { startInvite } from "./interpreter-invite.js";

const section = document.getElementById("officer-call");
const panel = document.getElementById("officer-panel");
const message = document.getElementById("device-message");
const text = callText();
const HELD = ["in_service", "on_hold"];
let current = null;

function videoContact() {
  for (const card of panel.querySelectorAll("article.contact-card[data-video='yes']")) {
    if (HELD.includes(card.dataset.state)) return card;
  }
  return null;
}

async function start(card) {
  const ticketId = card.dataset.ticketId;
  const devices = new Devices();
  current = { ticketId, devices, client: null };
  await devices.open();
  if (current?.ticketId !== ticketId) return devices.close(); // the contact moved on meanwhile
  message.hidden = !devices.problem;
  message.textContent = devices.problem ? text[devices.problem] ?? devices.problem : "";
  if (!devices.stream) return;
  section.hidden = false;
  document.getElementById("officer-call-number").textContent = card.querySelector(".contact-number")?.textContent ?? "";
  const csrf = document.querySelector("#officer-panel input[name=csrf_token]").value;
  current.client = startCall({
    role: "officer",
    tokenUrl: `/officer/calls/${ticketId}/token`,
    csrf,
    devices,
    text,
    onEnded() {
      devices.close();
    },
  });
  startInvite({ ticketId, csrf });
}

function stop() {
  if (!current) return;
  // Leave, not hang up: a transferred or returned contact keeps the citizen waiting for the
  // next officer (finishing hangs up, below).
  current.client?.finish("ended");
  current.devices.close();
  current = null;
}

function check() {
  const card = videoContact();
  const id = card ? card.dataset.ticketId : null;
  if (current && current.ticketId !== id) stop();
  if (card && !current) start(card);
  if (!card && !current) section.hidden = true;
}

// Finishing the contact ends the call for the citizen too, before the console reloads.
document.addEventListener("submit", (event) => {
  const action = event.target.getAttribute?.("action") ?? "";
  if (current?.client && action.includes(`/tickets/${current.ticketId}/finish`)) current.client.hangUp();
});

new MutationObserver(check).observe(panel, { childList: true, subtree: true, attributes: true, attributeFilter: ["data-state"] });
window.addEventListener("pagehide", () => current?.client?.finish("ended"));
check();
