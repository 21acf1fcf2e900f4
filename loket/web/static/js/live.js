// A live stream from the server that survives reconnects: it resumes after the last
// sequence number it saw, so nothing is missed and nothing is applied twice.

const SIGNED_OUT = 4401;
const FINAL_CLOSE_CODES = new Set([SIGNED_OUT, 4403, 4404]);
const MAX_BACKOFF_MS = 15000;

export class LiveStream {
  /**
   * @param {object} options
   * @param {string} options.path  e.g. "/ws/locations/bree"
   * @param {(data: object, seq: number) => void} options.onSnapshot
   * @param {(message: object) => void} options.onEvent
   * @param {HTMLElement|null} [options.stateElement]  gets data-state="live" | "stale"
   * @param {boolean} [options.sendHello]  staff streams: the first message carries `after`
   * @param {number} [options.staleAfterMs]  no message for this long marks the data stale
   */
  constructor(options) {
    this.options = options;
    this.lastSeq = null;
    this.backoff = 1000;
    this.socket = null;
    this.stopped = false;
    this.lastMessageAt = Date.now();
    this.staleTimer = null;
  }

  start() {
    this.connect();
    const staleAfter = this.options.staleAfterMs ?? 45000;
    this.staleTimer = setInterval(() => {
      if (Date.now() - this.lastMessageAt > staleAfter) this.setState("stale");
    }, 1000);
    return this;
  }

  stop() {
    this.stopped = true;
    clearInterval(this.staleTimer);
    if (this.socket) this.socket.close(1000);
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    let url = `${scheme}//${location.host}${this.options.path}`;
    if (!this.options.sendHello && this.lastSeq !== null) url += `?after=${this.lastSeq}`;
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.backoff = 1000;
      if (this.options.sendHello) socket.send(JSON.stringify({ after: this.lastSeq }));
    });
    socket.addEventListener("message", (event) => this.receive(event.data));
    socket.addEventListener("close", (event) => {
      this.setState("stale");
      // A staff stream whose sign-in ended (account closed, new password, signed out
      // everywhere): the page itself now leads to the sign-in.
      if (event.code === SIGNED_OUT && this.options.sendHello && !this.stopped) {
        location.reload();
        return;
      }
      if (this.stopped || FINAL_CLOSE_CODES.has(event.code)) return;
      const wait = this.backoff;
      this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
      setTimeout(() => this.connect(), wait);
    });
  }

  receive(raw) {
    let message;
    try {
      message = JSON.parse(raw);
    } catch {
      return;
    }
    this.lastMessageAt = Date.now();
    this.setState("live");
    if (message.type === "heartbeat") return;
    if (message.type === "snapshot") {
      this.lastSeq = message.seq;
      this.options.onSnapshot(message.data, message.seq);
      return;
    }
    if (this.lastSeq !== null && message.seq <= this.lastSeq) return;
    this.lastSeq = message.seq;
    this.options.onEvent(message);
  }

  setState(state) {
    const element = this.options.stateElement;
    if (!element || element.dataset.state === state) return;
    element.dataset.state = state;
    const text = element.dataset[state === "live" ? "liveText" : "staleText"];
    if (text) element.textContent = text;
  }
}

/** The page's translated strings, handed over by the server in a JSON script element. */
export function pageText() {
  const element = document.getElementById("page-text");
  return element ? JSON.parse(element.textContent) : {};
}

/** Fill "%(name)s" placeholders the way the server's catalogs write them. */
export function format(template, values) {
  return template.replace(/%\((\w+)\)s/g, (_, name) => String(values[name] ?? ""));
}
