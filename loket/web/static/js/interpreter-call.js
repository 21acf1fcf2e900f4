// The interpreter's call page: check the camera and microphone, then join the call as its
// third participant. "Leave the call" leaves; the others' call goes on.

import { callText, readiness, startCall } from "./call-ui.js";
import { deviceCheck } from "./device-check.js";

const page = document.getElementById("call-page");
const text = callText();
const check = deviceCheck(text);
// Once in the call, a reload (or a dropped page) joins again by itself.
const ready = readiness(`loket.call.ready.${page.dataset.tokenUrl}`);

function join() {
  ready.set(true);
  check.done();
  startCall({
    role: "interpreter",
    tokenUrl: page.dataset.tokenUrl,
    csrf: document.querySelector("#call-form input[name=csrf_token]").value,
    devices: check.devices,
    text,
    onEnded() {
      ready.set(false);
      check.devices.close();
    },
  });
}

check.readyButton.addEventListener("click", join);

if (ready.get()) {
  check.open().then((ok) => {
    if (ok) join();
  });
}
