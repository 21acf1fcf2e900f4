// The citizen's call page: check the camera and microphone, wait (the ticket's status is kept
// current by citizen-ticket.js), and join the call's room. In a booth it all starts by itself.

import { Devices, fillDeviceSelect } from "./call.js";
import { callText, readiness, startCall } from "./call-ui.js";

const page = document.getElementById("call-page");
const text = callText();
const devices = new Devices();
const preview = document.getElementById("preview");
const message = document.getElementById("device-message");
const choices = document.getElementById("device-choices");
const cameraSelect = document.getElementById("camera-select");
const microphoneSelect = document.getElementById("microphone-select");
const startButton = document.getElementById("start-devices");
const readyButton = document.getElementById("devices-ready");
let client = null;
// Once the citizen is ready, a reload (or a dropped page) joins again by itself.
const ready = readiness(`loket.call.ready.${page.dataset.tokenUrl}`);

function say(problem) {
  message.hidden = !problem;
  message.textContent = problem ? text[problem] ?? problem : "";
  message.dataset.problem = problem ?? "";
}

async function openDevices() {
  const stream = await devices.open({
    cameraId: cameraSelect.value || undefined,
    microphoneId: microphoneSelect.value || undefined,
  });
  say(devices.problem);
  preview.srcObject = stream;
  if (!stream) return false;
  const found = await devices.list();
  fillDeviceSelect(cameraSelect, found.cameras, text.camera_on);
  fillDeviceSelect(microphoneSelect, found.microphones, text.unmuted);
  cameraSelect.disabled = found.cameras.length === 0;
  choices.hidden = false;
  readyButton.hidden = false;
  startButton.hidden = true;
  return true;
}

async function changeDevice() {
  if (client) return; // in the call the other side would see a gap; choose before joining
  await openDevices();
}

function join() {
  ready.set(true);
  document.getElementById("device-check").hidden = true;
  document.getElementById("waiting-room").hidden = false;
  preview.srcObject = null;
  client = startCall({
    role: "citizen",
    tokenUrl: page.dataset.tokenUrl,
    csrf: document.querySelector("#call-form input[name=csrf_token]").value,
    devices,
    text,
    onEnded() {
      ready.set(false);
      devices.close();
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

startButton.addEventListener("click", openDevices);
readyButton.addEventListener("click", join);
cameraSelect.addEventListener("change", changeDevice);
microphoneSelect.addEventListener("change", changeDevice);

if (page.dataset.autoJoin === "yes" || ready.get()) {
  // A booth: the devices are the booth's own, and the call fills the screen. Elsewhere: the
  // citizen was already in (or waiting for) the call before this page loaded again.
  openDevices().then((ok) => {
    if (ok) join();
  });
}
