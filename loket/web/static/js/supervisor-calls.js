// The supervisor's list of running calls: quality changes every few seconds without an event
// on the staff stream, so the list is fetched again on a timer.

const region = document.getElementById("running-calls");
const EVERY_MS = Number(region?.dataset.refreshMs ?? 5000);

async function refresh() {
  try {
    const response = await fetch(region.dataset.url, { cache: "no-store", credentials: "same-origin" });
    if (response.redirected || !response.ok) return;
    const template = document.createElement("template");
    template.innerHTML = await response.text();
    region.replaceChildren(template.content);
  } catch {
    // offline for a moment: the next round tries again
  }
}

if (region) setInterval(refresh, EVERY_MS);
