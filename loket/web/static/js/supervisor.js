// The supervisor's board, live: every event of the staff stream re-renders the board's live
// part on the server (aggregates and the service level are computed there, once); waits tick.

import { LiveStream, pageText, format } from "./live.js";

const page = pageText();
const text = page.text;
const region = document.getElementById("board-live");
// Pending tickets cross the target without any event; refresh now and then regardless.
const QUIET_REFRESH_MS = 30000;

let clockOffset = Date.parse(page.now) - Date.now();
const serverNow = () => Date.now() + clockOffset;

function formatWait(totalSeconds) {
  const seconds = Math.max(0, Math.floor(totalSeconds));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const pad = (n) => String(n).padStart(2, "0");
  if (seconds < 60) return format(text.seconds, { seconds: s });
  if (seconds < 3600) return format(text.minutes, { minutes: m, seconds: pad(s) });
  return format(text.hours, { hours: h, minutes: pad(m) });
}

function tick() {
  const now = serverNow();
  for (const element of region.querySelectorAll(".ticking[data-since]")) {
    const since = Date.parse(element.dataset.since);
    if (!Number.isNaN(since)) element.textContent = formatWait((now - since) / 1000);
  }
}

let timer = null;
let inFlight = false;
let again = false;

async function refresh() {
  if (inFlight) {
    again = true; // one more fetch once this one is in: nothing is missed, nothing piles up
    return;
  }
  inFlight = true;
  try {
    const response = await fetch(`/supervisor/live${page.query}`, { cache: "no-store", credentials: "same-origin" });
    if (response.redirected || response.status === 401 || response.status === 403) {
      location.reload(); // signed out meanwhile: the page itself leads to the sign-in
      return;
    }
    if (response.ok) replace(await response.text());
  } catch {
    // the live state already says the board is not up to date
  } finally {
    inFlight = false;
    if (again) {
      again = false;
      schedule();
    }
  }
}

function replace(html) {
  // A choice half made in a row's select, and the keyboard's place, survive the refresh.
  const kept = new Map();
  for (const field of region.querySelectorAll("select, input:not([type=hidden])")) {
    if (field.id && field.dataset.touched) kept.set(field.id, field.value);
  }
  const focusedId = region.contains(document.activeElement) ? document.activeElement.id : null;
  const template = document.createElement("template");
  template.innerHTML = html;
  region.replaceChildren(template.content);
  for (const [id, value] of kept) {
    const field = document.getElementById(id);
    if (field && [...(field.options ?? [])].some((o) => o.value === value)) {
      field.value = value;
      field.dataset.touched = "yes";
    }
  }
  const content = region.querySelector("[data-now]");
  if (content) clockOffset = Date.parse(content.dataset.now) - Date.now();
  if (focusedId) document.getElementById(focusedId)?.focus();
  tick();
}

function schedule() {
  clearTimeout(timer);
  timer = setTimeout(refresh, 120);
}

region.addEventListener("change", (event) => {
  if (event.target instanceof HTMLSelectElement) event.target.dataset.touched = "yes";
});

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || form.method.toLowerCase() !== "post") return;
  // A form a script sends itself (chat, documents, the shared draft) is sent again and again.
  if (event.defaultPrevented) return;
  if (form.dataset.submitting) {
    event.preventDefault();
    return;
  }
  form.dataset.submitting = "yes";
  const buttons = form.querySelectorAll("button[type=submit]");
  setTimeout(() => buttons.forEach((button) => (button.disabled = true)), 0);
});

tick();
setInterval(tick, 1000);
setInterval(schedule, QUIET_REFRESH_MS);
new LiveStream({
  path: "/ws/staff",
  sendHello: true,
  onSnapshot: schedule,
  onEvent: schedule,
  stateElement: document.getElementById("live-state"),
}).start();
