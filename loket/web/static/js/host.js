// The host's tablet: on every event of this desk (a call for the host, a ticket moving), the
// live part of the page is fetched again from the server, which renders it as it did at first.

import { LiveStream, pageText } from "./live.js";

const page = pageText();
const region = document.getElementById("host-live");
const announcer = document.getElementById("host-announcer");
let pending = null;
let generation = 0;

function openCount() {
  const section = region.querySelector("[data-open-count]");
  return section ? Number(section.dataset.openCount) : 0;
}

function showCount() {
  const count = openCount();
  document.title = `${count ? `(${count}) ` : ""}${page.title} – Loket`;
}

async function refresh() {
  const mine = ++generation;
  let response;
  try {
    response = await fetch(`/host/${encodeURIComponent(page.slug)}/live`, {
      cache: "no-store",
      credentials: "same-origin",
    });
  } catch {
    return; // the stream's state already shows that the page is not up to date
  }
  if (response.redirected || response.status === 401 || response.status === 403) {
    location.reload(); // signed out meanwhile: the page itself leads to the sign-in
    return;
  }
  if (!response.ok || mine !== generation) return;
  const html = await response.text();
  if (mine !== generation) return;
  // Keep the keyboard where it was: buttons carry stable ids across renders.
  const focusedId = region.contains(document.activeElement) ? document.activeElement.id : null;
  const template = document.createElement("template");
  template.innerHTML = html;
  region.replaceChildren(template.content);
  if (focusedId) document.getElementById(focusedId)?.focus();
  showCount();
}

function scheduleRefresh() {
  // Events come in bursts (an offer, then the call); one fetch answers a burst.
  clearTimeout(pending);
  pending = setTimeout(refresh, 100);
}

function onEvent(message) {
  if (message.type === "help.requested") {
    const kiosk = message.data.help.kiosk;
    announcer.textContent = kiosk ? `${page.new_call}: ${kiosk}` : page.new_call;
  }
  if (message.type.startsWith("help.") || message.type.startsWith("ticket.")) scheduleRefresh();
}

showCount();
new LiveStream({
  path: `/ws/locations/${encodeURIComponent(page.slug)}`,
  // A snapshot comes first and after a long break: whatever was missed, fetch it all.
  onSnapshot: () => {
    document.body.dataset.stream = "connected";
    scheduleRefresh();
  },
  onEvent,
  stateElement: document.getElementById("live-state"),
}).start();
