// The interpreter's call page: check the camera and microphone, then join the call as its
// third participant. "Leave the call" leaves; the others' call goes on.

import { Devices } from "./call.js";
import { callText, readiness, startCall } from "./call-ui.js";

const page = document.getElementById("call-page");
const text = callText();
const devices = new Devices();
const preview = document.getElementById("preview");
const message = document.getElementById("device-message");
const startButton = document.getElementById("start-devices");
const joinButton = document.getElementById("join-call");
// Once in the call, a reload (or a dropped page) joins again by itself.
const ready = readiness(`loket.call.ready.${page.dataset.tokenUrl}`);

async function openDevices() {
  const stream = await devices.open();
  message.hidden = !devices.problem;
  message.textContent = devices.problem ? text[devices.problem] ?? devices.problem : "";
  message.dataset.problem = devices.problem ?? "";
  preview.srcObject = stream;
  if (!stream) return false;
  startButton.hidden = true;
  joinButton.hidden = false;
  joinButton.focus();
  return true;
}

function join() {
  ready.set(true);
  document.getElementById("device-check").hidden = true;
  preview.srcObject = null;
  startCall({
    role: "interpreter",
    tokenUrl: page.dataset.tokenUrl,
    csrf: document.querySelector("#call-form input[name=csrf_token]").value,
    devices,
    text,
    onEnded() {
      ready.set(false);
      devices.close();
    },
  });
}

startButton.addEventListener("click", openDevices);
joinButton.addEventListener("click", join);

if (ready.get()) {
  openDevices().then((ok) => {
    if (ok) join();
  });
}
