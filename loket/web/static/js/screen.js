// The info screen: keeps the desk's board live, and calls each ticket with a chime and a
// spoken announcement pieced together from the language's pre-rendered audio sprite.

import { LiveStream, pageText, format } from "./live.js";

const page = pageText();
const text = page.text;
const WAITING_SHOWN = page.limits.waiting_shown;
const RECENT_CALLS = page.limits.recent_calls;
// The location stream only carries this desk's events; the other desks' counts come from
// the board, fetched this often.
const ELSEWHERE_REFRESH_MS = 20000;
// Announcements that pile up (a burst replayed after a reconnect) are not all read out.
const MAX_PENDING_CALLS = 2;

const byId = (id) => document.getElementById(id);

let waiting = [];
let called = [];
let elsewhere = {};
const booths = new Map();

function applyBoard(board) {
  waiting = board.waiting.map((t) => ({ number: t.number, takenAt: t.taken_at }));
  sortWaiting();
  if (board.booths) for (const [number, booth] of Object.entries(board.booths)) booths.set(number, booth);
  called = board.called.map((t) => ({ number: t.number }));
  elsewhere = board.waiting_elsewhere;
}

function sortWaiting() {
  // The order the numbers were handed out: what a citizen holding one expects to see.
  waiting.sort((a, b) => (a.takenAt < b.takenAt ? -1 : a.takenAt > b.takenAt ? 1 : a.number.localeCompare(b.number)));
}

function item(...parts) {
  const li = document.createElement("li");
  parts.forEach(([className, value], index) => {
    if (index > 0) li.append(" ");
    const span = document.createElement("span");
    span.className = className;
    span.textContent = value;
    li.append(span);
  });
  return li;
}

function render() {
  const latest = called[0];
  const number = byId("called-number");
  const booth = byId("called-booth");
  if (latest) {
    number.textContent = latest.number;
    const where = booths.get(latest.number);
    booth.textContent = where ? format(text.booth, { booth: where }) : text.your_turn;
  } else {
    number.textContent = "";
    booth.textContent = text.nobody_called;
  }

  byId("recent-list").replaceChildren(
    ...called.slice(1, RECENT_CALLS).map((t) => {
      const where = booths.get(t.number);
      return where ? item(["number", t.number], ["where", format(text.booth, { booth: where })]) : item(["number", t.number]);
    }),
  );

  byId("waiting-count").textContent = String(waiting.length);
  byId("waiting-list").replaceChildren(
    ...waiting.slice(0, WAITING_SHOWN).map((t) => {
      const li = document.createElement("li");
      li.textContent = t.number;
      return li;
    }),
  );
  const more = byId("waiting-more");
  if (waiting.length === 0) more.textContent = text.nobody_waiting;
  else if (waiting.length > WAITING_SHOWN) more.textContent = format(text.more_waiting, { count: waiting.length - WAITING_SHOWN });
  else more.textContent = "";

  const others = Object.entries(elsewhere)
    .filter(([, count]) => count > 0)
    .sort((a, b) => b[1] - a[1]);
  byId("elsewhere-list").replaceChildren(...others.map(([code, count]) => item(["name", page.names[code] ?? code], ["count", String(count)])));
  byId("elsewhere-none").hidden = others.length > 0;
}

function onEvent(message) {
  if (!message.type.startsWith("ticket.")) return;
  const ticket = message.data.ticket;
  waiting = waiting.filter((t) => t.number !== ticket.number);
  if (ticket.state === "waiting") {
    waiting.push({ number: ticket.number, takenAt: ticket.taken_at });
    sortWaiting();
  }
  if (message.type === "ticket.called") {
    const booth = message.data.booth || null;
    if (booth) booths.set(ticket.number, booth);
    else booths.delete(ticket.number);
    called = [{ number: ticket.number }, ...called.filter((t) => t.number !== ticket.number)].slice(0, RECENT_CALLS);
    render();
    flash();
    announcer.announce(ticket.number, booth);
    return;
  }
  render();
}

function flash() {
  const panel = byId("now-calling");
  panel.classList.remove("flash");
  void panel.offsetWidth; // restart the animation for a call that follows quickly
  panel.classList.add("flash");
}

// -- sound --------------------------------------------------------------------------------

/** The pieces that say "Ticket H H 7, please go to booth 2" (see render_announcements.py). */
export function announcementPieces(number, booth) {
  const [prefix, sequence] = number.includes("-") ? number.split("-", 2) : ["", number];
  const pieces = ["ticket", ...spell(prefix), ...spokenNumber(sequence)];
  if (booth) {
    pieces.push("go_to", ...(/^\d{1,3}$/.test(booth) ? spokenNumber(booth) : spell(booth)));
  } else {
    pieces.push("your_turn");
  }
  return pieces;
}

function spell(value) {
  return [...value.toLowerCase()].flatMap((c) => (/[a-z]/.test(c) ? [`letter_${c}`] : /\d/.test(c) ? [`n${c}`] : []));
}

function spokenNumber(digits) {
  if (!/^\d+$/.test(digits)) return spell(digits);
  const n = Number(digits);
  if (n < 100) return [`n${n}`];
  if (n < 1000) return n % 100 ? [`h${Math.floor(n / 100)}`, `n${n % 100}`] : [`h${n / 100}`];
  return spell(digits);
}

class Announcer {
  constructor(audio) {
    this.audio = audio;
    this.context = null;
    this.sprite = null;
    this.pieces = null;
    this.pending = [];
    this.busy = false;
  }

  async start() {
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    this.context = new Context();
    const panel = byId("sound-panel");
    const update = () => {
      const running = this.context.state === "running";
      panel.hidden = running;
      document.body.dataset.sound = running ? "on" : "off";
    };
    this.context.addEventListener("statechange", update);
    update();
    // Browsers start audio suspended until someone touches the page, unless the kiosk
    // browser was started with --autoplay-policy=no-user-gesture-required (docs/screen.md).
    byId("enable-sound").addEventListener("click", async () => {
      await this.context.resume();
      this.chime(this.context.currentTime + 0.05);
    });
    if (!this.audio) return;
    try {
      const [index, sound] = await Promise.all([
        fetch(this.audio.index).then((r) => r.json()),
        fetch(this.audio.sound).then((r) => r.arrayBuffer()),
      ]);
      this.pieces = index.pieces;
      this.sprite = await this.context.decodeAudioData(sound);
      document.body.dataset.voice = "ready";
    } catch {
      document.body.dataset.voice = "unavailable"; // the chime still sounds
    }
  }

  announce(number, booth) {
    const pieces = announcementPieces(number, booth);
    document.body.dataset.lastAnnouncement = pieces.join(" ");
    if (!this.context || this.context.state !== "running") return;
    this.pending.push(pieces);
    while (this.pending.length > MAX_PENDING_CALLS) this.pending.shift();
    if (!this.busy) this.next();
  }

  next() {
    const pieces = this.pending.shift();
    if (!pieces) {
      this.busy = false;
      return;
    }
    this.busy = true;
    let at = this.context.currentTime + 0.05;
    at = this.chime(at) + 0.3;
    if (this.sprite && this.pieces) {
      pieces.forEach((name, index) => {
        const piece = this.pieces[name];
        if (!piece) return;
        const source = this.context.createBufferSource();
        source.buffer = this.sprite;
        source.connect(this.context.destination);
        source.start(at, piece[0], piece[1]);
        at += piece[1] + 0.08;
        // A breath before the booth, so the ticket number stands on its own.
        if (pieces[index + 1] === "go_to" || pieces[index + 1] === "your_turn") at += 0.3;
      });
    }
    const wait = (at - this.context.currentTime + 1.0) * 1000;
    setTimeout(() => this.next(), wait);
  }

  /** A two-tone "ding-dong", synthesised: no file to fetch. Returns when it has faded. */
  chime(at) {
    const notes = [
      [659.25, 0],
      [523.25, 0.45],
    ];
    for (const [frequency, offset] of notes) {
      for (const [multiple, level] of [
        [1, 0.3],
        [2, 0.08],
        [3, 0.03],
      ]) {
        const oscillator = this.context.createOscillator();
        const gain = this.context.createGain();
        oscillator.type = "sine";
        oscillator.frequency.value = frequency * multiple;
        const start = at + offset;
        gain.gain.setValueAtTime(0.0001, start);
        gain.gain.exponentialRampToValueAtTime(level, start + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, start + 1.2);
        oscillator.connect(gain).connect(this.context.destination);
        oscillator.start(start);
        oscillator.stop(start + 1.25);
      }
    }
    return at + 0.45 + 1.2;
  }
}

async function refreshElsewhere() {
  try {
    const response = await fetch(`/screen/${encodeURIComponent(page.slug)}/board`, { cache: "no-store" });
    if (!response.ok) return;
    const board = await response.json();
    elsewhere = board.waiting_elsewhere;
    for (const [number, booth] of Object.entries(board.booths)) if (!booths.has(number)) booths.set(number, booth);
    render();
  } catch {
    // The stream's state already tells the hall when the screen lost the server.
  }
}

const announcer = new Announcer(page.audio);
applyBoard(page.state);
render();
announcer.start();

new LiveStream({
  path: `/ws/locations/${encodeURIComponent(page.slug)}`,
  onSnapshot: (board) => {
    applyBoard(board);
    render();
    document.body.dataset.stream = "connected";
  },
  onEvent,
  stateElement: byId("live-state"),
  // The server sends a heartbeat after 15 s of silence: three missed ones mean trouble.
  staleAfterMs: 45000,
}).start();
setInterval(refreshElsewhere, ELSEWHERE_REFRESH_MS);
