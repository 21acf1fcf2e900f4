// The officer invites an interpreter into the running call (templates/calls/_invite.html):
// an interpreter's account, or a one-time link shown once with a copy button; and removes
// the interpreter again. Call after startCall (it renews the call area's buttons).

export function startInvite({ ticketId, csrf }) {
  const root = document.getElementById("invite-interpreter");
  if (!root) return;
  const openButton = document.getElementById("invite-open");
  const panel = document.getElementById("invite-panel");
  const form = document.getElementById("invite-form");
  const choices = document.getElementById("invite-choices");
  const status = document.getElementById("invite-status");
  const linkBox = document.getElementById("invite-link");
  const linkText = document.getElementById("invite-link-text");
  const copy = document.getElementById("invite-copy");
  const remove = document.getElementById("interpreter-remove");
  const base = `/officer/calls/${ticketId}/interpreter`;
  panel.hidden = true;
  linkBox.hidden = true;
  linkText.value = "";
  status.textContent = "";
  remove.hidden = true;
  openButton.setAttribute("aria-expanded", "false");

  const post = async (url, fields) => {
    const body = new FormData();
    body.append("csrf_token", csrf);
    for (const [name, value] of Object.entries(fields)) body.append(name, value);
    const response = await fetch(url, { method: "POST", body, credentials: "same-origin" });
    const answer = await response.json().catch(() => ({}));
    return { ok: response.ok, answer };
  };

  openButton.addEventListener("click", async () => {
    const opening = panel.hidden;
    panel.hidden = !opening;
    openButton.setAttribute("aria-expanded", String(opening));
    if (!opening) return;
    const response = await fetch(`/officer/calls/${ticketId}/interpreters`, { credentials: "same-origin" });
    if (response.ok) {
      const parsed = new DOMParser().parseFromString(await response.text(), "text/html");
      choices.replaceChildren(...parsed.body.childNodes);
      choices.querySelector("input:checked")?.focus();
    }
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const chosen = form.querySelector("input[name=interpreter]:checked");
    if (!chosen) return;
    const sending = form.querySelector("button[type=submit]");
    sending.disabled = true; // a double click makes one invitation
    const { ok, answer } = await post(base, { interpreter: chosen.value });
    sending.disabled = false;
    if (!ok) {
      status.textContent = answer.message ?? "";
      return;
    }
    panel.hidden = true;
    openButton.setAttribute("aria-expanded", "false");
    remove.hidden = false;
    const label = form.querySelector(`label[for="${chosen.id}"]`)?.textContent.trim() ?? "";
    status.textContent = `${openButton.textContent.trim()}: ${label}`;
    linkBox.hidden = !answer.link;
    linkText.value = answer.link ?? "";
    if (answer.link) linkText.select();
  });

  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(linkText.value);
    } catch {
      linkText.select(); // no clipboard access: the selected link can be copied by hand
      document.execCommand?.("copy");
    }
    status.textContent = copy.dataset.copied;
  });

  remove.addEventListener("click", async () => {
    const { ok } = await post(`${base}/remove`, {});
    if (!ok) return;
    remove.hidden = true;
    linkBox.hidden = true;
    linkText.value = "";
    status.textContent = "";
  });
}
