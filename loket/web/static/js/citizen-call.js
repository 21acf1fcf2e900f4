// The citizen's call page: check the camera and microphone, wait (the ticket's status is kept
// current by citizen-ticket.js), and join the call's room. In a booth it all starts by itself.

import { callText, readiness, startCall } from "./call-ui.js";
import { deviceCheck } from "./device-check.js";

const page = document.getElementById("call-page");
const text = callText();
const check = deviceCheck(text);
let client = null;
// Once the citizen is ready, a reload (or a dropped page) joins again by itself.
const ready = readiness(`loket.call.ready.${page.dataset.tokenUrl}`);

function join() {
  ready.set(true);
  check.done();
  document.getElementById("waiting-room").hidden = false;
  client = startCall({
    role: "citizen",
    tokenUrl: page.dataset.tokenUrl,
    csrf: document.querySelector("#call-form input[name=csrf_token]").value,
    devices: check.devices,
    text,
    onEnded() {
      ready.set(false);
      check.devices.close();
    },
  });
  // The contact is over (finished, lapsed): so is the call, whatever the socket says.
  const status = document.getElementById("ticket-status");
  new MutationObserver(() => {
    if (status.querySelector(".ticket-status[data-final='yes']")) client.finish("ended");
  }).observe(status, { childList: true, subtree: true });
  const waiting = document.getElementById("waiting-room");
  const area = document.getElementById("call-area");
  // The waiting room shows until the officer is there; then the call takes the page.
  new MutationObserver(() => {
    waiting.hidden = area.dataset.state !== "waiting";
  }).observe(area, { attributes: true, attributeFilter: ["data-state"] });
}

check.readyButton.addEventListener("click", join);

if (page.dataset.autoJoin === "yes" || ready.get()) {
  // A booth: the devices are the booth's own, and the call fills the screen. Elsewhere: the
  // citizen was already in (or waiting for) the call before this page loaded again.
  check.open().then((ok) => {
    if (ok) join();
  });
}
