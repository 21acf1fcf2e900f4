// The chat with the virtual agent, in place: the question form posts to the API and the
// answer (with its buttons) is added to the transcript and read out by the live region.
// Without this script the same form posts to the page and the server renders the answer.
// Every word shown comes from the page (translated there); none is written here.

const chat = document.getElementById("chat");
const form = document.getElementById("chat-form");
const field = document.getElementById("question");
const transcript = document.getElementById("transcript");
const live = document.getElementById("chat-live");
const banner = document.getElementById("chat-emergency");
const text = JSON.parse(document.getElementById("chat-text").textContent);

function bubble(kind, who, body) {
  const box = document.createElement("div");
  box.className = `bubble ${kind}`;
  const name = document.createElement("span");
  name.className = "who";
  name.textContent = who;
  const para = document.createElement("p");
  para.textContent = body;
  box.append(name, " ", para);
  return box;
}

function actionElement(action) {
  if (action.method === "POST") {
    const post = document.createElement("form");
    post.method = "post";
    post.action = action.url;
    post.className = "chat-action-form";
    const fields = { csrf_token: chat.dataset.csrf, ...action.fields };
    for (const [name, value] of Object.entries(fields)) {
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = value;
      post.append(input);
    }
    const button = document.createElement("button");
    button.type = "submit";
    button.className = "chat-action";
    button.id = `action-${action.kind}`;
    button.dataset.kind = action.kind;
    button.textContent = action.label;
    post.append(button);
    return post;
  }
  const link = document.createElement("a");
  link.className = "button chat-action";
  link.href = action.url;
  link.id = `action-${action.kind}`;
  link.dataset.kind = action.kind;
  link.textContent = action.label;
  return link;
}

function showError(message) {
  let error = document.getElementById("question-error");
  if (!error) {
    error = document.createElement("p");
    error.className = "error-message";
    error.id = "question-error";
    field.before(error);
    field.setAttribute("aria-describedby", "question-hint question-error");
  }
  error.textContent = message;
  field.closest(".field").classList.add("has-error");
  field.focus();
}

function clearError() {
  document.getElementById("question-error")?.remove();
  field.setAttribute("aria-describedby", "question-hint");
  field.closest(".field").classList.remove("has-error");
}

async function ask(question) {
  const response = await fetch(chat.dataset.api, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    credentials: "same-origin",
    body: JSON.stringify({
      text: question,
      conversation_id: chat.dataset.conversation || null,
      language: chat.dataset.language,
      location: chat.dataset.location,
      channel: chat.dataset.channel,
    }),
  });
  const body = await response.json();
  if (!response.ok) throw new Error(body.detail || text.failed);
  return body;
}

function addTurn(question, answer) {
  document.getElementById("latest")?.removeAttribute("id");
  for (const old of transcript.querySelectorAll(".chat-actions")) old.remove();
  const turn = document.createElement("li");
  turn.className = "turn";
  turn.id = "latest";
  turn.append(bubble("question", text.you, question));
  const reply = bubble(
    answer.is_emergency ? "answer emergency-answer" : "answer",
    text.agent,
    answer.reply,
  );
  reply.dataset.intent = answer.intent;
  if (answer.also_reply) {
    const also = document.createElement("p");
    also.textContent = `${text.also} ${answer.also_reply}`;
    reply.append(also);
  }
  if (answer.actions.length) {
    const row = document.createElement("div");
    row.className = "chat-actions";
    for (const action of answer.actions) row.append(actionElement(action));
    reply.append(row);
  }
  turn.append(reply);
  transcript.append(turn);
  banner.hidden = !answer.is_emergency;
  live.textContent = answer.is_emergency ? `${text.emergency_heading}: ${answer.reply}` : answer.reply;
  if (answer.is_emergency) banner.scrollIntoView({ block: "start" });
  else turn.scrollIntoView({ block: "nearest" });
}

async function send(question, button) {
  if (!question.trim()) {
    showError(text.empty);
    return;
  }
  button.disabled = true;
  try {
    const answer = await ask(question);
    chat.dataset.conversation = answer.conversation_id;
    clearError();
    addTurn(question, answer);
    field.value = "";
  } catch (error) {
    showError(error.message || text.failed);
  } finally {
    button.disabled = false;
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  send(field.value, form.querySelector("button[type=submit]"));
});

for (const suggestion of document.querySelectorAll("form .suggestion")) {
  suggestion.form.addEventListener("submit", (event) => {
    event.preventDefault();
    send(suggestion.form.elements.text.value, suggestion);
  });
}
