// The only module that talks to the server's control WebSocket: state, events, commands, reconnect.
import { loadClientName, saveClientName } from './client-name.js';
import { wsUrl } from './logic.js';

const MAX_BACKOFF_MS = 5000;
const ACK_TIMEOUT_MS = 10000;
/** State messages come at 10 Hz; this long without one and the page stops calling itself live. */
const STALE_AFTER_MS = 3000;
/** An E-STOP sent over the socket without an answer this soon is retried over HTTP. */
const ESTOP_ACK_MS = 1500;
/** One HTTP attempt at an E-STOP (a frozen server accepts the connection and never answers). */
const ESTOP_HTTP_TIMEOUT_MS = 3000;
/** How long an undelivered E-STOP keeps being retried over HTTP, one attempt a second. */
const ESTOP_RETRY_FOR_MS = 30000;
const ENDED_PHASES = new Set(['stopped']);

/** A random id per browser tab: the lease holder's identity (kept across reloads of the tab). */
function tabClientId() {
  let id = sessionStorage.getItem('rcClientId');
  if (!id) {
    id = `tab-${Math.random().toString(36).slice(2, 10)}`;
    sessionStorage.setItem('rcClientId', id);
  }
  return id;
}

/**
 * Dispatches `rc:hello`, `rc:state`, `rc:event`, `rc:ack`, `rc:lease`, `rc:estop` (an E-STOP's delivery:
 * {state: retrying|delivered|failed, text}) and `rc:connection` with
 * {state, live, seenAt, phase}: state is `connecting` (never connected yet), `connected` (state
 * messages arriving: live), `stale` (the socket is open but nothing arrived for STALE_AFTER_MS: a
 * frozen or overloaded server), `disconnected` (lost; reconnecting) or `ended` (the session stopped
 * and its server went away, as it does after Stop). `seenAt` is the Date.now() of the last state.
 */
export class Controller extends EventTarget {
  constructor() {
    super();
    this.socket = null;
    this.lastSeq = 0;
    this.sessionId = null;
    this.backoff = 500;
    this.nextId = 1;
    this.pending = new Map();
    this.state = null;
    this.clientId = tabClientId();
    this.label = loadClientName(localStorage, navigator.userAgent, navigator.maxTouchPoints); // the name asked for
    this.lastHeartbeat = 0;
    this.heartbeatMs = 500;
    this.connection = 'connecting';
    this.seenAt = null; // Date.now() of the last state message
    this.ended = false; // the session said it stopped (event or phase) before the socket closed
    this.estopDelivery = null; // the E-STOP being delivered, if any
    this.exitWhenStopped = false; // the server exits when its session stops (hello says)
    this.reloading = false; // the page is reloading for another session (or for none)
    setInterval(() => this.watch(), 500);
  }

  /** Live: state messages arriving now. Commands other than E-STOP need a live page. */
  get live() {
    return this.connection === 'connected';
  }

  setConnection(state) {
    if (state === this.connection) return;
    this.connection = state;
    this.emit('rc:connection', { state, live: this.live, seenAt: this.seenAt, phase: this.state?.phase ?? null });
  }

  /** A socket that stays open while nothing arrives (a frozen server) is not live either. */
  watch() {
    const open = this.socket && this.socket.readyState === WebSocket.OPEN;
    if (open && this.seenAt !== null && Date.now() - this.seenAt > STALE_AFTER_MS) this.setConnection('stale');
  }

  connect() {
    const socket = new WebSocket(wsUrl(`/api/v1/ws?client=${encodeURIComponent(this.clientId)}`
      + `&name=${encodeURIComponent(this.label)}&since=${this.lastSeq}`));
    this.socket = socket;
    socket.addEventListener('open', () => {
      this.backoff = 500;
    });
    socket.addEventListener('message', (msg) => this.onMessage(JSON.parse(msg.data)));
    socket.addEventListener('close', () => {
      if (this.socket !== socket) return;
      this.socket = null;
      const phase = this.state?.phase;
      if (ENDED_PHASES.has(phase)) this.ended = true;
      this.setConnection(this.ended ? 'ended' : 'disconnected');
      for (const [id, entry] of this.pending) {
        entry.reject(new Error('connection lost'));
        this.pending.delete(id);
      }
      setTimeout(() => this.connect(), this.backoff);
      this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
    });
  }

  onMessage(message) {
    switch (message.type) {
      case 'hello':
        this.exitWhenStopped = Boolean(message.exit_when_stopped);
        if (this.followSession(message.session_id, message.server_closing)) return;
        if (this.sessionId && this.sessionId !== message.session_id) {
          this.lastSeq = 0; // a new server: its sequence numbers start again
          this.resyncEvents();
        }
        if (this.sessionId !== message.session_id) this.ended = false;
        this.sessionId = message.session_id;
        this.heartbeatMs = (message.lease?.heartbeat_s ?? 0.5) * 1000;
        this.emit('rc:hello', message);
        break;
      case 'state':
        if (this.followSession(message.session_id, message.server_closing)) {
          this.settleEnded(message.last_session);
          return;
        }
        this.state = message;
        this.seenAt = Date.now();
        this.keepLease();
        this.setConnection('connected');
        this.emit('rc:state', message);
        break;
      case 'lease': {
        const entry = this.pending.get(message.id);
        if (entry) {
          this.pending.delete(message.id);
          entry.resolve(message);
        }
        this.emit('rc:lease', message);
        break;
      }
      case 'event':
        if (message.seq <= this.lastSeq) return;
        this.lastSeq = message.seq;
        if (message.kind === 'session_stopped') this.ended = true;
        this.emit('rc:event', message);
        break;
      case 'ack': {
        const entry = this.pending.get(message.id);
        if (entry) {
          this.pending.delete(message.id);
          entry.resolve(message);
        }
        this.emit('rc:ack', message);
        break;
      }
      case 'error':
        console.warn('server error', message.detail);
        break;
      default:
        break;
    }
  }

  /**
   * A page is drawn for one session (its strategy's buttons) or for none (the New session form). When the
   * server's current session is another one, the page reloads to draw the right one, unless the session
   * ended on a server that exits with it (--server.exit_when_stopped) or that is shutting down: then the
   * page keeps the session's last state and says it ended. Returns true when the message is not for this
   * page (a reload is under way, or the idle server's state on a page that stays with its ended session).
   */
  followSession(sessionId, serverClosing = false) {
    const drawnFor = document.body.dataset.sessionId;
    if (drawnFor === undefined || this.reloading) return this.reloading;
    const current = sessionId || '';
    if (current === drawnFor) return false;
    if (!current && (this.exitWhenStopped || serverClosing)) {
      this.seenAt = Date.now(); // the server still answers: not stale, only ended
      return true;
    }
    this.reloading = true;
    window.location.reload();
    return true;
  }

  /**
   * On a page that stays with its ended session, show that session's last phase (a state computed just
   * before the end may have said "stopping" after the event that said "stopped").
   */
  settleEnded(last) {
    if (!last || last.id !== document.body.dataset.sessionId || !this.state || this.state.phase === last.phase) return;
    this.state = { ...this.state, phase: last.phase, available_commands: ['estop'] };
    this.emit('rc:state', this.state);
  }

  async resyncEvents() {
    const response = await fetch(`/api/v1/events?since=${this.lastSeq}`);
    if (!response.ok) return;
    const body = await response.json();
    for (const event of body.data) this.onMessage(event);
  }

  /**
   * Heartbeats ride on the server's state messages (10 Hz) rather than on a timer, so a background
   * tab whose timers the browser throttles still keeps control while it is connected.
   */
  keepLease() {
    if (!this.state?.lease?.yours || !this.socket || this.socket.readyState !== WebSocket.OPEN) return;
    const now = performance.now();
    if (now - this.lastHeartbeat < this.heartbeatMs) return;
    this.lastHeartbeat = now;
    this.socket.send(JSON.stringify({ type: 'lease', action: 'heartbeat' }));
  }

  /** A lease operation: acquire (force), release, request, respond (accept). Resolves with the answer. */
  lease(action, extra = {}) {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) {
      return Promise.reject(new Error('not connected'));
    }
    const id = `l${this.nextId++}`;
    const answer = new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      setTimeout(() => {
        if (this.pending.delete(id)) reject(new Error(`lease ${action}: no answer`));
      }, ACK_TIMEOUT_MS);
    });
    this.socket.send(JSON.stringify({ type: 'lease', action, id, label: this.label, ...extra }));
    return answer;
  }

  /**
   * Pick this browser's name (remembered; empty: the device default). Resolves with the server's answer,
   * whose `name` is what others see (numbered when another client has it), or null while not connected.
   */
  async rename(text) {
    this.label = saveClientName(localStorage, text, navigator.userAgent, navigator.maxTouchPoints);
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN) return null;
    return this.lease('name');
  }

  /** Take control when nobody holds it, so the robot pauses if this tab goes away. */
  async ensureControl() {
    const lease = this.state?.lease;
    if (lease && !lease.holder && this.state.role === 'operator') {
      try {
        await this.lease('acquire');
      } catch (err) {
        console.warn('could not take control', err);
      }
    }
  }

  /**
   * Send a command; resolves with {accepted, phase, detail, status}. Falls back to REST when the
   * socket is down, so a button press is never silently lost. E-STOP has its own delivery (below).
   */
  async command(name, args = {}) {
    if (name === 'estop') return this.estop();
    await this.ensureControl();
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      return this.commandOverSocket(name, args, ACK_TIMEOUT_MS);
    }
    return this.commandOverHttp(name, args);
  }

  commandOverSocket(name, args, timeoutMs) {
    const id = `c${this.nextId++}`;
    const result = new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      setTimeout(() => {
        if (this.pending.delete(id)) reject(new Error(`no acknowledgement within ${timeoutMs / 1000} s`));
      }, timeoutMs);
    });
    this.socket.send(JSON.stringify({ type: 'command', name, id, args }));
    return result;
  }

  /**
   * E-STOP: over the live socket when there is one, answered within ESTOP_ACK_MS; otherwise (or when
   * that fails) the page says so at once (`rc:estop`, shown as an error banner) and retries over HTTP
   * every second until the server answers or ESTOP_RETRY_FOR_MS pass. A repeated estop is harmless
   * ("already estopped"), so a retry that overlaps a late delivery does no damage.
   */
  async estop() {
    if (this.estopDelivery) return this.estopDelivery;
    this.estopDelivery = this.deliverEstop().finally(() => { this.estopDelivery = null; });
    return this.estopDelivery;
  }

  async deliverEstop() {
    let why = this.live ? null : this.notLiveReason();
    if (!why) {
      try {
        const ack = await this.commandOverSocket('estop', {}, ESTOP_ACK_MS);
        if (ack.accepted) return ack;
        why = `refused: ${ack.detail}`;
      } catch (err) {
        why = err.message;
      }
    }
    const deadline = Date.now() + ESTOP_RETRY_FOR_MS;
    this.emit('rc:estop', { state: 'retrying', text: `E-STOP not delivered over the live connection (${why}); retrying over HTTP…` });
    for (let attempt = 1; ; attempt += 1) {
      const started = Date.now();
      try {
        const ack = await this.commandOverHttp('estop', {}, ESTOP_HTTP_TIMEOUT_MS);
        const text = ack.accepted
          ? `E-STOP delivered over HTTP (phase ${ack.phase}${ack.detail ? `: ${ack.detail}` : ''}); the live connection is still down`
          : `E-STOP refused over HTTP: ${ack.detail}`;
        this.emit('rc:estop', { state: ack.accepted ? 'delivered' : 'failed', text });
        return ack;
      } catch (err) {
        const text = `E-STOP NOT DELIVERED: the console does not answer (${err.message}; attempt ${attempt}). `
          + 'Use the robot\'s hardware emergency stop.';
        if (Date.now() >= deadline) {
          this.emit('rc:estop', { state: 'failed', text });
          throw new Error('E-STOP not delivered');
        }
        this.emit('rc:estop', { state: 'retrying', text: `${text} Retrying…` });
      }
      await new Promise((resolve) => { setTimeout(resolve, Math.max(0, 1000 - (Date.now() - started))); });
    }
  }

  notLiveReason() {
    if (this.connection === 'stale') return 'no data from the console for more than 3 s';
    if (this.connection === 'connecting') return 'not connected yet';
    return 'connection lost';
  }

  async commandOverHttp(name, args, timeoutMs = ACK_TIMEOUT_MS) {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    let response;
    let body;
    try {
      response = await fetch(`/api/v1/commands/${name}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Client-Id': this.clientId },
        body: JSON.stringify(args),
        signal: abort.signal,
      });
      body = await response.json();
    } catch (err) {
      throw new Error(err.name === 'AbortError' ? `no answer within ${timeoutMs / 1000} s` : err.message);
    } finally {
      clearTimeout(timer);
    }
    const ack = response.ok
      ? { accepted: true, phase: body.phase, detail: body.detail, status: response.status }
      : { accepted: false, phase: this.state?.phase, detail: body.detail, status: response.status };
    this.emit('rc:ack', ack);
    return ack;
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
