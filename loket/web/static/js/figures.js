// The supervisor's figures: the "today" part is fetched again from the server every half
// minute (the server draws the charts; this only swaps the fragment in).

const region = document.getElementById("today-live");
const state = document.getElementById("today-state");
const seconds = Number(state?.dataset.refreshSeconds ?? 30);

async function refresh() {
  try {
    const response = await fetch(region.dataset.url, { cache: "no-store", credentials: "same-origin" });
    if (response.redirected || response.status === 401 || response.status === 403) {
      location.reload(); // signed out meanwhile: the page itself leads to the sign-in
      return;
    }
    if (!response.ok) return;
    const template = document.createElement("template");
    template.innerHTML = await response.text();
    region.replaceChildren(template.content);
  } catch {
    // The next beat tries again; the figures shown stay as they were.
  }
}

if (region) setInterval(refresh, seconds * 1000);
