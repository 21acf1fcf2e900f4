// The device check before a call (templates/calls/_device_check.html), the same for the
// citizen and the interpreter: open the camera and microphone, preview them, offer a choice
// of devices, and say clearly what is missing.

import { Devices, fillDeviceSelect } from "./call.js";

export function deviceCheck(text) {
  const devices = new Devices();
  const preview = document.getElementById("preview");
  const message = document.getElementById("device-message");
  const choices = document.getElementById("device-choices");
  const cameraSelect = document.getElementById("camera-select");
  const microphoneSelect = document.getElementById("microphone-select");
  const startButton = document.getElementById("start-devices");
  const readyButton = document.getElementById("devices-ready");
  let inCall = false;

  function say(problem) {
    message.hidden = !problem;
    message.textContent = problem ? text[problem] ?? problem : "";
    message.dataset.problem = problem ?? "";
  }

  async function open() {
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

  async function change() {
    if (inCall) return; // in the call the others would see a gap; choose before joining
    await open();
  }

  startButton.addEventListener("click", open);
  cameraSelect.addEventListener("change", change);
  microphoneSelect.addEventListener("change", change);

  return {
    devices,
    open,
    readyButton,
    /** The call starts: the check steps aside and the devices stay as chosen. */
    done() {
      inCall = true;
      document.getElementById("device-check").hidden = true;
      preview.srcObject = null;
    },
  };
}
