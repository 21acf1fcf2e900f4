// The report drafted together in a call (templates/calls/_draft.html), the same module on the
// citizen's page and the officer's console. The draft lives on the server; this page shows it
// answer by answer, lets its side answer or correct one (checked by the server with the same
// rules as the report pages), and confirms the final text.
//
// Live: the server announces every change on the call's socket (draft.changed, with a version
// tag); a page that missed one (a reconnect, a change made on the citizen's report pages)
// notices it by a small poll of the tag, which reads no answers. An open editor survives every
// refresh with what was typed in it: nothing entered is lost.

const API = "/api/v1/calls/draft";
const TOKEN_REUSE_MS = 60_000;
const POLL_MS = 4000;

export function startDraft(client) {
  const root = document.getElementById("call-draft");
  if (!root) return { receive() {} };
  const role = root.dataset.role;
  const words = JSON.parse(document.getElementById("draft-text").textContent);
  const statusLine = document.getElementById("draft-status");
  const errorLine = document.getElementById("draft-error");
  // A console serves one call after another: fresh forms, without the last call's handlers.
  const fresh = (id) => {
    const old = document.getElementById(id);
    if (!old) return null;
    const copy = old.cloneNode(true);
    old.replaceWith(copy);
    return copy;
  };
  const startForm = fresh("draft-start");
  const body = document.getElementById("draft-body");
  const title = document.getElementById("draft-title");
  const list = document.getElementById("draft-answers");
  const confirmForm = fresh("draft-confirm");
  const submitButton = fresh("draft-submit");
  const referenceLine = document.getElementById("draft-reference");
  list.replaceChildren();
  body.hidden = true;
  referenceLine.hidden = true;
  errorLine.hidden = true;
  const editors = new Map(); // question id -> { element, version, text }
  let draft = null;
  let tag = null;
  let token = null;
  let tokenAt = 0;
  let busy = false;
  let stopped = false;

  async function authorised(path, init = {}) {
    if (!token || Date.now() - tokenAt > TOKEN_REUSE_MS) {
      token = await client.fetchToken();
      tokenAt = Date.now();
    }
    const headers = {
      ...(init.headers || {}),
      Authorization: `Bearer ${token}`,
      "Accept-Language": document.documentElement.lang,
    };
    if (init.body) headers["Content-Type"] = "application/json";
    const response = await fetch(`${API}${path}`, { ...init, headers, credentials: "omit" });
    if (response.status === 401) token = null;
    return response;
  }

  const fill = (template, values) =>
    Object.entries(values).reduce((text, [key, value]) => text.replace(`%(${key})s`, String(value)), template);

  function element(tag_, attributes = {}, ...children) {
    const node = document.createElement(tag_);
    for (const [key, value] of Object.entries(attributes)) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = value;
      else node.setAttribute(key, value === true ? "" : value);
    }
    node.append(...children);
    return node;
  }

  async function problemOf(response) {
    try {
      return await response.json();
    } catch {
      return { detail: words.failed };
    }
  }

  function showError(text) {
    errorLine.textContent = text;
    errorLine.hidden = !text;
  }

  // -- showing the draft ------------------------------------------------------------------

  async function refresh() {
    const response = await authorised("");
    if (!response.ok) return false;
    render(await response.json());
    return true;
  }

  function render(state) {
    const previous = tag;
    draft = state.draft;
    tag = draft ? draft.tag : null;
    if (startForm && state.forms) {
      const select = document.getElementById("draft-form");
      if (!select.options.length) {
        for (const form of state.forms) select.append(element("option", { value: form.code, text: form.title }));
      }
      // Another report can start once this one is sent.
      startForm.hidden = Boolean(draft && !draft.reference);
    }
    if (!draft) {
      body.hidden = true;
      statusLine.textContent = role === "citizen" ? words.none_yet : "";
      return;
    }
    if (previous && previous !== tag) statusLine.textContent = words.updated;
    else if (!previous) statusLine.textContent = "";
    body.hidden = false;
    title.textContent = draft.title;
    list.replaceChildren(...draft.questions.map(row));
    for (const side of ["citizen", "officer"]) {
      const item = document.getElementById(`draft-confirmed-${side}`);
      const yes = draft.confirmed[side];
      item.dataset.confirmed = yes ? "yes" : "no";
      item.textContent = words[`${side}_${yes ? "confirmed" : "not_confirmed"}`];
    }
    const sent = Boolean(draft.reference);
    confirmForm.hidden = sent;
    if (submitButton) {
      submitButton.hidden = sent;
      submitButton.disabled = !draft.can_submit;
    }
    referenceLine.hidden = !sent;
    if (sent) {
      referenceLine.textContent = fill(words.sent, { reference: draft.reference });
      referenceLine.dataset.reference = draft.reference;
    }
  }

  function row(question) {
    const wrapper = element("div", {
      class: "check-row draft-row",
      id: `draft-row-${question.id}`,
      "data-changed-by-officer": question.changed_by_officer ? "yes" : "no",
    });
    wrapper.append(
      element("dt", { text: question.label }),
      element("dd", { class: "answer-text", id: `draft-text-${question.id}`, text: question.answered ? question.text : words.not_answered }),
    );
    const open = editors.get(question.id);
    const actions = element("dd", { class: "change" });
    if (!draft.reference) {
      if (question.editable) {
        const button = element(
          "button",
          { type: "button", class: "secondary", id: `draft-edit-${question.id}`, "aria-expanded": open ? "true" : "false" },
          question.answered ? words.change : words.answer,
          element("span", { class: "visually-hidden", text: ` ${question.label}` }),
        );
        button.addEventListener("click", () => toggle(question));
        actions.append(button);
      } else {
        actions.append(element("span", { text: words.file_elsewhere }));
      }
    }
    wrapper.append(actions);
    if (question.changed_by_officer) {
      wrapper.append(element("dd", { class: "draft-mark", id: `draft-mark-${question.id}`, text: words.changed_by_officer }));
    }
    if (open && !draft.reference) wrapper.append(open.element);
    return wrapper;
  }

  function toggle(question) {
    if (editors.has(question.id)) {
      editors.delete(question.id);
    } else {
      editors.set(question.id, { element: editor(question), version: draft.version, text: question.text });
    }
    render({ draft, forms: null });
    const first = document.querySelector(`#draft-row-${question.id} .draft-editor input, #draft-row-${question.id} .draft-editor textarea`);
    if (editors.has(question.id)) first?.focus();
    else document.getElementById(`draft-edit-${question.id}`)?.focus();
  }

  // -- editing one answer -------------------------------------------------------------------

  const fieldId = (name) => `draft-f-${name}`;

  function input(name, label, value, attributes = {}) {
    const field = element("div", { class: "field" });
    field.append(element("label", { for: fieldId(name), text: label }));
    const control = attributes.multiline
      ? element("textarea", { id: fieldId(name), rows: 4, maxlength: attributes.maxlength })
      : element("input", { id: fieldId(name), type: attributes.type || "text", maxlength: attributes.maxlength, inputmode: attributes.inputmode, autocomplete: "off" });
    control.value = value ?? "";
    field.append(control);
    return field;
  }

  function group(legend, ...children) {
    return element("fieldset", {}, element("legend", { text: legend }), ...children);
  }

  function editor(question) {
    const id = question.id;
    const value = question.value;
    const parts = Object.fromEntries(question.parts.map((p) => [p.name, p.label]));
    let content;
    switch (question.type) {
      case "text":
      case "amount":
        content = input(id, question.label, value, { maxlength: question.max_length, inputmode: question.type === "amount" ? "decimal" : null });
        break;
      case "long_text":
        content = input(id, question.label, value, { multiline: true, maxlength: question.max_length });
        break;
      case "date":
        content = input(id, question.label, value, { type: "date" });
        break;
      case "datetime":
        content = group(
          question.label,
          input(`${id}-date`, parts.date, value.date, { type: "date" }),
          input(`${id}-time`, parts.time, value.time, { type: "time" }),
        );
        break;
      case "choice":
      case "multi_choice": {
        const chosen = question.type === "choice" ? [value] : value;
        content = group(
          question.label,
          ...question.options.map((option, index) => {
            const box = element("input", {
              type: question.type === "choice" ? "radio" : "checkbox",
              id: fieldId(`${id}-${index}`),
              name: `draft-${id}`,
              value: option.value,
            });
            box.checked = chosen.includes(option.value);
            return element("div", { class: "choice" }, box, element("label", { for: fieldId(`${id}-${index}`), text: option.label }));
          }),
        );
        break;
      }
      case "place":
      case "person":
        content = group(question.label, ...question.parts.map((p) => input(`${id}-${p.name}`, p.label, value[p.name], { maxlength: 200 })));
        break;
      case "items": {
        const rows = Math.min(question.max_items, Math.max(value.length + 1, 1));
        const groups = [];
        for (let index = 0; index < rows; index += 1) {
          const item = value[index] || {};
          groups.push(
            group(
              fill(words.item, { number: index + 1 }),
              ...question.parts.map((p) => input(`${id}-${index}-${p.name}`, p.label, item[p.name], { maxlength: 200 })),
            ),
          );
        }
        content = group(question.label, ...groups);
        break;
      }
      default:
        content = element("p", { text: words.file_elsewhere });
    }
    const form = element("form", { class: "draft-editor-form", novalidate: true, "aria-label": question.label });
    const note = element("p", { class: "draft-note", id: `draft-note-${id}`, role: "status", hidden: true });
    const save = element("button", { type: "submit", id: `draft-save-${id}`, text: words.save });
    const cancel = element("button", { type: "button", class: "secondary", text: words.cancel });
    cancel.addEventListener("click", () => toggle(question));
    form.append(note, content, element("div", { class: "draft-buttons" }, save, cancel));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      event.stopPropagation(); // handled here: the console's one-submission guard is for page forms
      saveAnswer(question, form);
    });
    return element("dd", { class: "draft-editor", id: `draft-editor-${id}` }, form);
  }

  function read(question, form) {
    const id = question.id;
    const get = (name) => form.querySelector(`#${fieldId(name)}`)?.value ?? "";
    switch (question.type) {
      case "datetime":
        return { date: get(`${id}-date`), time: get(`${id}-time`) };
      case "choice":
        return form.querySelector(`input[name="draft-${id}"]:checked`)?.value ?? "";
      case "multi_choice":
        return [...form.querySelectorAll(`input[name="draft-${id}"]:checked`)].map((box) => box.value);
      case "place":
      case "person":
        return Object.fromEntries(question.parts.map((p) => [p.name, get(`${id}-${p.name}`)]));
      case "items": {
        const rows = form.querySelectorAll("fieldset fieldset").length;
        return Array.from({ length: rows }, (_, index) =>
          Object.fromEntries(question.parts.map((p) => [p.name, get(`${id}-${index}-${p.name}`)])),
        );
      }
      default:
        return get(id);
    }
  }

  function clearFieldErrors(scope) {
    for (const message of scope.querySelectorAll(".error-message.draft-field-error")) message.remove();
    for (const field of scope.querySelectorAll(".has-error")) field.classList.remove("has-error");
    for (const control of scope.querySelectorAll("[aria-invalid]")) {
      control.removeAttribute("aria-invalid");
      control.removeAttribute("aria-describedby");
    }
  }

  function fieldError(scope, field, text) {
    const control = field ? scope.querySelector(`#${CSS.escape(fieldId(field))}`) : null;
    if (!control) return false;
    const message = element("p", { class: "error-message draft-field-error", id: `${fieldId(field)}-error`, text });
    const holder = control.closest(".field, .choice") || control;
    holder.classList.add("has-error");
    holder.parentElement.insertBefore(message, holder);
    control.setAttribute("aria-invalid", "true");
    control.setAttribute("aria-describedby", message.id);
    control.focus();
    return true;
  }

  async function saveAnswer(question, form) {
    const open = editors.get(question.id);
    // The version the change is based on: the one shown when the editor opened, unless this
    // answer is still as it was then (a change to another answer is no conflict).
    const current = draft.questions.find((q) => q.id === question.id);
    const version = current && current.text === open.text ? draft.version : open.version;
    clearFieldErrors(form);
    showError("");
    let response;
    try {
      response = await authorised(`/answers/${encodeURIComponent(question.id)}`, {
        method: "PUT",
        body: JSON.stringify({ version, value: read(question, form) }),
      });
    } catch {
      return showError(words.failed);
    }
    if (response.ok) {
      editors.delete(question.id);
      render(await response.json());
      document.getElementById(`draft-edit-${question.id}`)?.focus();
      return;
    }
    const problem = await problemOf(response);
    if (problem.code === "codraft.changed_meanwhile" && problem.current) {
      // Someone else changed it first: show what it says now; what was typed stays.
      open.version = problem.current.version;
      open.text = problem.current.text;
      const note = form.querySelector(".draft-note");
      note.textContent = `${problem.detail} ${fill(words.now_reads, { text: problem.current.text })}`;
      note.hidden = false;
      note.setAttribute("tabindex", "-1");
      note.focus();
      await refresh();
      return;
    }
    if (!fieldError(form, problem.field, problem.detail)) showError(problem.detail || words.failed);
  }

  // -- starting, confirming, sending ----------------------------------------------------------

  startForm?.addEventListener("submit", async (event) => {
    event.preventDefault();
    event.stopPropagation(); // handled here: the console's one-submission guard is for page forms
    if (busy) return;
    busy = true;
    showError("");
    try {
      const response = await authorised("", {
        method: "POST",
        body: JSON.stringify({ form: document.getElementById("draft-form").value }),
      });
      if (!response.ok) return showError((await problemOf(response)).detail || words.failed);
      editors.clear();
      render(await response.json());
      // The console's panel shows what the new draft needs, such as the identity check on
      // camera; officer.js fetches it again (the call itself lives outside the panel).
      document.dispatchEvent(new CustomEvent("loket:contact-changed"));
    } catch {
      showError(words.failed);
    } finally {
      busy = false;
    }
  });

  confirmForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    event.stopPropagation(); // handled here: the console's one-submission guard is for page forms
    if (!draft) return;
    clearFieldErrors(confirmForm);
    showError("");
    const payload = { version: draft.version };
    if (role === "citizen") {
      payload.declared = document.getElementById("draft-f-declared").checked;
      payload.full_name = document.getElementById("draft-f-full_name").value;
    }
    try {
      const response = await authorised("/confirmations", { method: "POST", body: JSON.stringify(payload) });
      if (response.ok) return render(await response.json());
      const problem = await problemOf(response);
      if (problem.code === "codraft.changed_meanwhile") await refresh();
      if (!fieldError(confirmForm, problem.field, problem.detail)) showError(problem.detail || words.failed);
    } catch {
      showError(words.failed);
    }
  });

  submitButton?.addEventListener("click", async () => {
    if (busy) return;
    busy = true;
    submitButton.disabled = true;
    showError("");
    try {
      const response = await authorised("/submission", { method: "POST" });
      if (response.ok) return render(await response.json());
      showError((await problemOf(response)).detail || words.failed);
      await refresh();
    } catch {
      showError(words.failed);
    } finally {
      busy = false;
    }
  });

  // -- keeping current ------------------------------------------------------------------------

  async function probe() {
    if (stopped || !root.isConnected) return;
    if (["ended", "failed"].includes(client.state)) {
      stopped = true;
      return;
    }
    try {
      const response = await authorised("/version");
      if (response.ok) {
        const { version } = await response.json();
        if (version !== tag) await refresh();
      }
    } catch {
      // offline for a moment: the next probe tries again
    }
    setTimeout(probe, POLL_MS);
  }

  refresh().finally(() => setTimeout(probe, POLL_MS));

  return {
    receive(message) {
      if (message.type === "draft.changed" && message.data?.version !== tag) refresh();
    },
  };
}
