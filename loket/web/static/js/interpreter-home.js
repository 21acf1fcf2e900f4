// The interpreter's invitations: fetched again every few seconds, so a new one shows
// without a reload. A failed fetch keeps the list as it is.

const region = document.getElementById("invitations");
const EVERY_MS = 5000;

async function refresh() {
  try {
    const response = await fetch(region.dataset.url, { credentials: "same-origin" });
    if (!response.ok) return;
    const html = await response.text();
    // Replace only when something changed: a screen reader would read it all again.
    if (html.trim() !== region.dataset.last) {
      region.dataset.last = html.trim();
      const parsed = new DOMParser().parseFromString(html, "text/html");
      region.replaceChildren(...parsed.body.childNodes);
    }
  } catch {
    // offline for a moment: try again at the next turn
  }
}

setInterval(refresh, EVERY_MS);
