// The officer's console, live: the central queue follows the staff stream row by row; the
// officer's own part (status, offer, contact) is fetched again from the server whenever an
// event concerns them; waits tick every second; the console renews its lease every 15 s.

import { LiveStream, pageText, format } from "./live.js";

const page = pageText();
const text = page.text;
const me = page.me;
const panel = document.getElementById("officer-panel");
const rows = document.getElementById("queue-rows");
const announcer = document.getElementById("officer-announcer");
const BOOTH_KEY = "loket.officer.booth";

// The server's clock, not this computer's, decides how long someone has waited.
let clockOffset = Date.parse(page.now) - Date.now();
const serverNow = () => Date.now() + clockOffset;

// -- waits -------------------------------------------------------------------------------

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
  for (const element of document.querySelectorAll(".ticking[data-since]")) {
    const since = Date.parse(element.dataset.since);
    if (!Number.isNaN(since)) element.textContent = formatWait((now - since) / 1000);
  }
  for (const element of document.querySelectorAll(".countdown[data-until]")) {
    const until = Date.parse(element.dataset.until);
    if (!Number.isNaN(until)) element.textContent = formatWait((until - now) / 1000);
  }
}

// -- the central queue -------------------------------------------------------------------

const tickets = new Map();

function fromSnapshot(t) {
  return {
    id: t.id,
    number: t.number,
    locationId: t.location_id,
    locationCode: t.location_code,
    service: t.service,
    language: t.language,
    priority: t.priority,
    state: t.state,
    officer: t.officer,
    isReturned: t.is_returned,
    takenAt: t.taken_at,
  };
}

function fromEvent(t) {
  return {
    id: t.id,
    number: t.number,
    locationId: t.location_id,
    locationCode: t.location_code,
    service: t.service_code,
    language: t.language,
    priority: t.priority,
    state: t.state,
    officer: t.officer_id == null ? null : page.officers[String(t.officer_id)] ?? `#${t.officer_id}`,
    isReturned: t.is_returned,
    takenAt: t.taken_at,
  };
}

// The hand-out's order (QueuePolicy.rank_for): priority is worth waiting time, and a returned
// ticket goes to the head of the queue.
function rank(t) {
  let value = Date.parse(t.takenAt) - t.priority * page.priority_step_seconds * 1000;
  if (t.isReturned) value -= page.head_boost_seconds * 1000;
  return value;
}

function compare(a, b) {
  return rank(a) - rank(b) || Date.parse(a.takenAt) - Date.parse(b.takenAt) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

function cell(value, className) {
  const td = document.createElement("td");
  if (className) td.className = className;
  if (value instanceof Node) td.append(value);
  else td.textContent = value ?? "";
  return td;
}

function row(t) {
  const tr = document.createElement("tr");
  tr.dataset.ticketId = t.id;
  tr.dataset.state = t.state;
  const number = document.createElement("span");
  number.textContent = t.number;
  const first = cell(number, "ticket-cell");
  if (t.isReturned) {
    const tag = document.createElement("span");
    tag.className = "tag";
    tag.textContent = text.returned;
    first.append(" ", tag);
  }
  const language = cell(page.languages[t.language] ?? t.language);
  language.lang = t.language;
  const waited = document.createElement("span");
  waited.className = "ticking";
  waited.dataset.since = t.takenAt;
  waited.textContent = formatWait((serverNow() - Date.parse(t.takenAt)) / 1000);
  tr.append(
    first,
    cell(page.desks[String(t.locationId)] ?? t.locationCode),
    cell(page.services[t.service] ?? t.service),
    language,
    cell(page.states[t.state] ?? t.state),
    cell(t.officer == null ? "" : page.names[t.officer] ?? t.officer),
    cell(waited, "numeric"),
  );
  return tr;
}

function renderQueue() {
  const sorted = [...tickets.values()].sort(compare);
  rows.replaceChildren(...sorted.map(row));
  const waiting = sorted.filter((t) => t.state === "waiting").length;
  document.getElementById("queue-summary").textContent = format(text.waiting_count, { count: waiting });
  document.getElementById("queue-empty").hidden = sorted.length > 0;
}

// -- the officer's own part --------------------------------------------------------------

let pending = null;
let generation = 0;

function myContacts() {
  const content = panel.querySelector("[data-contacts]");
  return new Set(content && content.dataset.contacts ? content.dataset.contacts.split(" ") : []);
}

function rememberedBooth() {
  try {
    return localStorage.getItem(BOOTH_KEY) || "";
  } catch {
    return "";
  }
}

function fillBooths() {
  const booth = rememberedBooth();
  for (const input of panel.querySelectorAll("input[data-booth]")) {
    if (!input.value && booth) input.value = booth;
  }
}

async function refreshPanel() {
  const mine = ++generation;
  let response;
  try {
    response = await fetch(`/officer/panel${page.lang_query}`, { cache: "no-store", credentials: "same-origin" });
  } catch {
    return; // the live state already says the page is not up to date
  }
  if (response.redirected || response.status === 401 || response.status === 403) {
    location.reload(); // signed out meanwhile: the page itself leads to the sign-in
    return;
  }
  if (!response.ok || mine !== generation) return;
  const html = await response.text();
  if (mine !== generation) return;
  // What the officer was typing or choosing survives the refresh: fields keep stable ids.
  const kept = new Map();
  for (const field of panel.querySelectorAll("input:not([type=hidden]), textarea, select")) {
    if (!field.id) continue;
    kept.set(field.id, field.type === "radio" || field.type === "checkbox" ? field.checked : field.value);
  }
  const focusedId = panel.contains(document.activeElement) ? document.activeElement.id : null;
  const template = document.createElement("template");
  template.innerHTML = html;
  panel.replaceChildren(template.content);
  for (const [id, value] of kept) {
    const field = document.getElementById(id);
    if (!field || !panel.contains(field)) continue;
    if (field.type === "radio" || field.type === "checkbox") field.checked = value;
    else if (field.tagName !== "SELECT" || [...field.options].some((o) => o.value === value)) field.value = value;
  }
  fillBooths();
  const content = panel.querySelector("[data-now]");
  if (content) clockOffset = Date.parse(content.dataset.now) - Date.now();
  if (focusedId) document.getElementById(focusedId)?.focus();
  tick();
}

function schedulePanel() {
  // Events come in bursts (the offer, then the call); one fetch answers a burst.
  clearTimeout(pending);
  pending = setTimeout(refreshPanel, 80);
}

// A script on the page changed the contact (call-draft.js started a report): show it.
document.addEventListener("loket:contact-changed", schedulePanel);

function concernsMe(message) {
  if (message.type === "officer.status_changed") return message.data.staff_id === me;
  const ticket = message.data.ticket;
  if (!ticket) return false;
  return ticket.officer_id === me || message.data.from_officer_id === me || myContacts().has(ticket.id);
}

// -- the stream --------------------------------------------------------------------------

function onSnapshot(data) {
  if (data.at) clockOffset = Date.parse(data.at) - Date.now();
  tickets.clear();
  for (const t of data.tickets) tickets.set(t.id, fromSnapshot(t));
  renderQueue();
  schedulePanel(); // whatever happened while disconnected
}

function onEvent(message) {
  const data = message.data;
  if (data.ticket) {
    const t = fromEvent(data.ticket);
    if (["finished", "no_show", "cancelled"].includes(t.state)) tickets.delete(t.id);
    else tickets.set(t.id, t);
    renderQueue();
    const offeredToMe =
      (message.type === "ticket.offered" || message.type === "ticket.transferred") && data.ticket.officer_id === me;
    if (offeredToMe) announcer.textContent = format(text.offered_to_you, { number: t.number });
  }
  if (message.type === "officer.status_changed") {
    page.officers[String(data.staff_id)] = data.username;
  }
  if (concernsMe(message)) schedulePanel();
}

// -- forms: one submission each ----------------------------------------------------------

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement)) return;
  // A form a script sends itself (chat, documents, the shared draft) is sent again and again.
  if (event.defaultPrevented) return;
  if (form.dataset.submitting) {
    event.preventDefault(); // a double click takes one ticket, not two
    return;
  }
  form.dataset.submitting = "yes";
  if (sendsInBackground(form)) {
    event.preventDefault();
    sendInBackground(form, event.submitter);
    return;
  }
  const booth = form.querySelector("input[data-booth]");
  if (booth) {
    try {
      localStorage.setItem(BOOTH_KEY, booth.value.trim());
    } catch {
      // storage may be off; the field is then simply typed each time
    }
  }
  // Disabled after the browser has collected the form, so the submission itself goes out.
  const buttons = form.querySelectorAll("button[type=submit]");
  setTimeout(() => buttons.forEach((button) => (button.disabled = true)), 0);
});

// While a video call is on, loading the page again would cut it: the console's own contact
// forms (hold, identity check, finish…) are then sent by script, and their answer (the
// console, with a notice or an error) replaces the panel and the messages above it.
function sendsInBackground(form) {
  if (document.getElementById("officer-call")?.hidden !== false || !panel.contains(form)) return false;
  const path = new URL(form.action, location.href).pathname;
  return path.startsWith("/officer/tickets/") || path === "/officer/status" || path === "/officer/next";
}

async function sendInBackground(form, submitter) {
  const buttons = form.querySelectorAll("button[type=submit]");
  buttons.forEach((button) => (button.disabled = true));
  let response;
  let body;
  try {
    response = await fetch(form.action, {
      method: "POST",
      body: new FormData(form, submitter),
      credentials: "same-origin",
    });
    body = await response.text(); // the connection may also drop while the answer comes in
  } catch {
    delete form.dataset.submitting;
    buttons.forEach((button) => (button.disabled = false));
    announcer.textContent = text.not_sent;
    return;
  }
  const answer = new DOMParser().parseFromString(body, "text/html");
  const newPanel = answer.getElementById("officer-panel");
  if (!newPanel) {
    // Signed out meanwhile (the sign-in page), or refused outright: the console itself says
    // where the officer stands.
    location.assign(response.redirected ? response.url : `/officer${page.lang_query}`);
    return;
  }
  ++generation; // an older refresh still under way must not overwrite this answer
  replaceMessage("error-summary", answer);
  replaceMessage("notice", answer);
  panel.replaceChildren(...newPanel.childNodes);
  fillBooths();
  tick();
  const problem = document.getElementById("error-summary");
  if (problem) problem.focus();
}

function replaceMessage(id, answer) {
  const fresh = answer.getElementById(id);
  document.getElementById(id)?.remove();
  if (!fresh) return;
  const heading = document.querySelector(".console-heading");
  if (id === "notice") heading.after(fresh);
  else heading.before(fresh);
}

// Back from the page cache (the back button): the buttons must work again.
window.addEventListener("pageshow", (event) => {
  if (!event.persisted) return;
  for (const form of document.querySelectorAll("form[data-submitting]")) {
    delete form.dataset.submitting;
    form.querySelectorAll("button[type=submit]").forEach((button) => (button.disabled = false));
  }
});

// -- the lease ---------------------------------------------------------------------------

async function heartbeat() {
  const csrf = document.querySelector("input[name=csrf_token]");
  if (!csrf) return;
  const body = new FormData();
  body.append("csrf_token", csrf.value);
  try {
    const response = await fetch("/officer/heartbeat", { method: "POST", body, credentials: "same-origin" });
    if (response.redirected || response.status === 401 || response.status === 403) location.reload();
  } catch {
    // offline for a moment: the lease lasts three heartbeats, the next one may make it
  }
}

fillBooths();
tick();
setInterval(tick, 1000);
setInterval(heartbeat, page.heartbeat_seconds * 1000);
new LiveStream({
  path: "/ws/staff",
  sendHello: true,
  onSnapshot,
  onEvent,
  stateElement: document.getElementById("live-state"),
}).start();
