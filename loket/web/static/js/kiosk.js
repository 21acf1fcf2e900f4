// The kiosk forgets each citizen: after a while without a touch it asks whether they are
// still there, then wipes what the browser holds and starts again for the next person.
//
// Test hook: a test may set window.LOKET_IDLE_SECONDS and window.LOKET_WARNING_SECONDS
// (for example with Playwright's add_init_script) to shorten the wait; pages never do.

const body = document.body;
const resetUrl = body.dataset.resetUrl;
const idleSeconds = Number(window.LOKET_IDLE_SECONDS ?? body.dataset.idleSeconds ?? 90);
const warningSeconds = Number(window.LOKET_WARNING_SECONDS ?? body.dataset.warningSeconds ?? 20);
const dialog = document.getElementById("idle-dialog");
const countdown = document.getElementById("idle-seconds");
const stay = document.getElementById("idle-stay");

let idleTimer = null;
let countdownTimer = null;

/** Wipe this page's traces and ask the server for a clean start (Clear-Site-Data). */
export function forget() {
  clearTimeout(idleTimer);
  clearInterval(countdownTimer);
  try {
    sessionStorage.clear();
    localStorage.clear();
  } catch {
    // Storage may be disabled; the server's Clear-Site-Data covers it.
  }
  for (const form of document.forms) form.reset();
  // replace(): the page of this citizen leaves the history instead of staying one step back.
  location.replace(resetUrl);
}

function showWarning() {
  let left = warningSeconds;
  const tick = () => {
    countdown.textContent = countdown.dataset.template.replace("%(seconds)s", String(left));
  };
  tick();
  if (typeof dialog.showModal === "function") dialog.showModal();
  else dialog.setAttribute("open", "");
  stay.focus();
  countdownTimer = setInterval(() => {
    left -= 1;
    if (left <= 0) {
      forget();
      return;
    }
    tick();
  }, 1000);
}

function restart() {
  clearTimeout(idleTimer);
  idleTimer = setTimeout(showWarning, idleSeconds * 1000);
}

function stillHere() {
  clearInterval(countdownTimer);
  if (dialog.open) dialog.close();
  restart();
}

if (body.dataset.idle === "on" && resetUrl) {
  for (const type of ["pointerdown", "keydown", "touchstart", "wheel", "input"]) {
    document.addEventListener(
      type,
      () => {
        if (!dialog.open) restart();
      },
      { passive: true, capture: true },
    );
  }
  stay.addEventListener("click", stillHere);
  // Escape closes a modal dialog; that is an answer too.
  dialog.addEventListener("cancel", (event) => {
    event.preventDefault();
    stillHere();
  });
  restart();
}

for (const link of document.querySelectorAll("[data-reset]")) {
  link.addEventListener("click", (event) => {
    event.preventDefault();
    forget();
  });
}

// Links move without adding history entries, so after a reset the back button has
// (almost) nothing of the previous citizen to go back to.
document.addEventListener("click", (event) => {
  const link = event.target.closest("a[href]");
  if (!link || link.hasAttribute("data-reset") || event.defaultPrevented) return;
  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  const target = new URL(link.href, location.href);
  if (target.origin !== location.origin || target.hash) return;
  event.preventDefault();
  location.replace(target.href);
});

// A double tap submits once; the idempotency key also guards the server side.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form.dataset.submitted === "yes") {
    event.preventDefault();
    return;
  }
  form.dataset.submitted = "yes";
});

// A page restored from the back-forward cache may show the previous citizen: fetch it anew.
window.addEventListener("pageshow", (event) => {
  if (event.persisted) location.reload();
});
