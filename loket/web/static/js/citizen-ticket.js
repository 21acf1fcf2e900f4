// A ticket page that keeps itself current: the desk's live stream says when something
// changed, and the page fetches its status part again (also every so often, because an
// officer coming on duty changes the wait without an event on the desk's stream).

import { LiveStream } from "./live.js";

const POLL_MS = 15000;
const region = document.getElementById("ticket-status");
const cancelForm = document.getElementById("cancel-form");

function normalised(element) {
  const status = element.querySelector(".ticket-status");
  const state = status ? status.dataset.state : "";
  return `${state}|${element.textContent.replace(/\s+/g, " ").trim()}`;
}

if (region) {
  let pending = null;
  let stream = null;
  let poll = null;

  const apply = (html) => {
    const next = document.createElement("template");
    next.innerHTML = html;
    const holder = document.createElement("div");
    holder.append(next.content.cloneNode(true));
    // Only a real change is written: the region is aria-live, and every write is read out.
    if (normalised(holder) !== normalised(region)) region.replaceChildren(...holder.childNodes);
    const status = region.querySelector(".ticket-status");
    if (!status) return;
    if (cancelForm) cancelForm.hidden = status.dataset.cancellable !== "yes";
    if (status.dataset.final === "yes") {
      clearInterval(poll);
      if (stream) stream.stop();
    }
  };

  const refresh = async () => {
    try {
      const response = await fetch(region.dataset.statusUrl, {
        cache: "no-store",
        credentials: "same-origin",
        headers: { Accept: "text/html" },
      });
      if (response.ok) apply(await response.text());
    } catch {
      // Offline for a moment: the stream reconnects and the next poll tries again.
    }
  };

  const soon = () => {
    clearTimeout(pending);
    pending = setTimeout(refresh, 100);
  };

  const finished = region.querySelector(".ticket-status")?.dataset.final === "yes";
  if (!finished) {
    stream = new LiveStream({
      path: region.dataset.stream,
      onSnapshot: soon,
      onEvent: soon,
      stateElement: document.getElementById("live-state"),
    }).start();
    poll = setInterval(refresh, Number(window.LOKET_POLL_MS ?? POLL_MS));
  }
}
