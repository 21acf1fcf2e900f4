// Messages and documents during a call (templates/calls/_exchange.html). Sent through
// /api/v1/calls with the call's short-lived token; what anyone sends comes back to every
// page through the call's socket (chat.message, document.added), so each page shows the
// conversation from one source, in order, whoever sent it.

const API = "/api/v1/calls";
// Call tokens live two minutes; one is reused for a minute, then a fresh one is fetched.
const TOKEN_REUSE_MS = 60_000;

export function startExchange(client) {
  const root = document.getElementById("call-exchange");
  if (!root) return { receive() {} };
  const words = root.dataset;
  const log = document.getElementById("chat-log");
  const documents = document.getElementById("document-list");
  const error = document.getElementById("exchange-error");
  const chatForm = document.getElementById("chat-form");
  const chatText = document.getElementById("chat-text");
  const documentForm = document.getElementById("document-form");
  const fileInput = document.getElementById("document-file");
  // A console serves one call after another: start from an empty conversation.
  log.replaceChildren();
  documents.replaceChildren();
  error.hidden = true;
  const seen = new Set();
  let token = null;
  let tokenAt = 0;

  async function authorised(path, init = {}) {
    if (!token || Date.now() - tokenAt > TOKEN_REUSE_MS) {
      token = await client.fetchToken();
      tokenAt = Date.now();
    }
    const headers = { ...(init.headers || {}), Authorization: `Bearer ${token}` };
    const response = await fetch(`${API}${path}`, { ...init, headers, credentials: "omit" });
    if (response.status === 401) token = null; // expired meanwhile: the next try fetches anew
    return response;
  }

  function who(role) {
    if (role === client.role) return words.you;
    return words[role] ?? role;
  }

  function time(at) {
    return new Date(at).toLocaleTimeString(document.documentElement.lang, { hour: "2-digit", minute: "2-digit" });
  }

  function showMessage(message) {
    if (seen.has(message.id)) return;
    seen.add(message.id);
    const item = document.createElement("li");
    item.className = "chat-message";
    item.dataset.role = message.role;
    item.dataset.id = message.id;
    const header = document.createElement("p");
    header.className = "chat-meta";
    header.textContent = `${who(message.role)} · ${time(message.at)}`;
    const body = document.createElement("p");
    body.className = "chat-text";
    body.textContent = message.text; // text, never markup
    item.append(header, body);
    // Ids sort in the order things were said: the history fetched on joining and what
    // arrives live meanwhile end up in one order.
    const later = [...log.children].find((other) => other.dataset.id > message.id);
    log.insertBefore(item, later ?? null);
    log.scrollTop = log.scrollHeight;
  }

  function showDocument(document_) {
    if (seen.has(document_.id)) return;
    seen.add(document_.id);
    const item = document.createElement("li");
    item.dataset.role = document_.role;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "link";
    button.id = `document-${document_.id}`;
    const size = words.kilobytes.replace("%(size)s", String(Math.max(1, Math.round(document_.size / 1024))));
    button.textContent = `${document_.filename} (${size})`;
    button.addEventListener("click", () => download(document_));
    const from = document.createElement("span");
    from.className = "document-from";
    from.textContent = ` ${who(document_.role)} · ${time(document_.at)}`;
    item.dataset.id = document_.id;
    item.append(button, from);
    const later = [...documents.children].find((other) => other.dataset.id > document_.id);
    documents.insertBefore(item, later ?? null);
  }

  async function download(document_) {
    const response = await authorised(`/documents/${encodeURIComponent(document_.id)}`);
    if (!response.ok) return showError(response, words.downloadFailed);
    const url = URL.createObjectURL(await response.blob());
    const link = document.createElement("a");
    link.href = url;
    link.download = document_.filename;
    link.hidden = true;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  }

  async function showError(response, fallback) {
    let detail = fallback;
    try {
      detail = (await response.json()).detail || fallback;
    } catch {
      // not problem+json (a proxy's page): the general words
    }
    error.textContent = detail;
    error.hidden = false;
  }

  chatForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = chatText.value;
    error.hidden = true;
    try {
      const response = await authorised("/messages", {
        method: "POST",
        headers: { "Content-Type": "application/json", "Accept-Language": document.documentElement.lang },
        body: JSON.stringify({ text }),
      });
      if (!response.ok) return showError(response, words.failed);
      // Cleared only once it is stored: a refused or lost message stays in the box.
      if (chatText.value === text) chatText.value = "";
      showMessage(await response.json());
    } catch {
      error.textContent = words.failed;
      error.hidden = false;
    }
  });

  documentForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = fileInput.files[0];
    if (!file) return;
    error.hidden = true;
    const body = new FormData();
    body.append("file", file);
    try {
      const response = await authorised("/documents", {
        method: "POST",
        headers: { "Accept-Language": document.documentElement.lang },
        body,
      });
      if (!response.ok) return showError(response, words.failed);
      fileInput.value = "";
      showDocument(await response.json());
    } catch {
      error.textContent = words.failed;
      error.hidden = false;
    }
  });

  // What was said before this page joined (a reload, a rejoin).
  async function catchUp() {
    try {
      const [messages, docs] = await Promise.all([authorised("/messages"), authorised("/documents")]);
      if (messages.ok) for (const message of await messages.json()) showMessage(message);
      if (docs.ok) for (const document_ of await docs.json()) showDocument(document_);
    } catch {
      // the live messages still arrive; a later reload catches up
    }
  }
  catchUp();

  return {
    receive(message) {
      if (message.type === "chat.message") showMessage(message.data);
      if (message.type === "document.added") showDocument(message.data);
    },
  };
}
