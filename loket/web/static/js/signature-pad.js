// The signature pad on the check page: draw with a finger, pen or mouse (pointer events), the
// drawing goes with the form as a PNG. Without this script the pad stays hidden and the
// ticked declaration with the typed name is the way to confirm, as for keyboard users.

const pad = document.getElementById("signature-pad");
const canvas = document.getElementById("signature-canvas");
const field = document.getElementById("signature");
const clear = document.getElementById("signature-clear");
const status = document.getElementById("signature-status");

if (pad && canvas && field && clear && canvas.getContext) {
  const context = canvas.getContext("2d");
  context.lineWidth = 3;
  context.lineCap = "round";
  context.lineJoin = "round";
  context.strokeStyle = "#0b0c0c";
  let drawing = false;
  let drawn = false;

  // The canvas is drawn at 600×200 whatever size CSS gives it on screen.
  const point = (event) => {
    const box = canvas.getBoundingClientRect();
    return {
      x: ((event.clientX - box.left) * canvas.width) / box.width,
      y: ((event.clientY - box.top) * canvas.height) / box.height,
    };
  };

  canvas.addEventListener("pointerdown", (event) => {
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    drawing = true;
    const { x, y } = point(event);
    context.beginPath();
    context.moveTo(x, y);
    // A dot for a tap, so a single touch leaves a mark.
    context.lineTo(x + 0.1, y + 0.1);
    context.stroke();
  });

  canvas.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    const { x, y } = point(event);
    context.lineTo(x, y);
    context.stroke();
    drawn = true;
  });

  const finish = () => {
    if (!drawing) return;
    drawing = false;
    if (drawn) {
      field.value = canvas.toDataURL("image/png");
      status.textContent = pad.dataset.signedText;
    }
  };
  canvas.addEventListener("pointerup", finish);
  canvas.addEventListener("pointercancel", finish);

  clear.addEventListener("click", () => {
    context.clearRect(0, 0, canvas.width, canvas.height);
    field.value = "";
    drawn = false;
    status.textContent = pad.dataset.clearedText;
  });

  pad.hidden = false;
}
