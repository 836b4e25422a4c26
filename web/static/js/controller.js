// The only module that talks to the server's control WebSocket: state, events, commands, reconnect.
import { wsUrl } from './logic.js';

const MAX_BACKOFF_MS = 5000;
const ACK_TIMEOUT_MS = 10000;

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
 * Dispatches `rc:hello`, `rc:state`, `rc:event`, `rc:connection` (detail: {state}), `rc:ack`, `rc:lease`.
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
    this.label = localStorage.getItem('rcLabel') || navigator.platform || 'browser';
    this.lastHeartbeat = 0;
    this.heartbeatMs = 500;
  }

  connect() {
    this.emit('rc:connection', { state: 'connecting' });
    const socket = new WebSocket(wsUrl(`/api/v1/ws?client=${encodeURIComponent(this.clientId)}&since=${this.lastSeq}`));
    this.socket = socket;
    socket.addEventListener('open', () => {
      this.backoff = 500;
      this.emit('rc:connection', { state: 'connected' });
    });
    socket.addEventListener('message', (msg) => this.onMessage(JSON.parse(msg.data)));
    socket.addEventListener('close', () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.emit('rc:connection', { state: 'disconnected' });
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
        if (this.sessionId && this.sessionId !== message.session_id) {
          this.lastSeq = 0; // a new server: its sequence numbers start again
          this.resyncEvents();
        }
        this.sessionId = message.session_id;
        this.heartbeatMs = (message.lease?.heartbeat_s ?? 0.5) * 1000;
        this.emit('rc:hello', message);
        break;
      case 'state':
        this.state = message;
        this.keepLease();
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
   * socket is down, so a button press is never silently lost.
   */
  async command(name, args = {}) {
    if (name !== 'estop') await this.ensureControl();
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      const id = `c${this.nextId++}`;
      const result = new Promise((resolve, reject) => {
        this.pending.set(id, { resolve, reject });
        setTimeout(() => {
          if (this.pending.delete(id)) reject(new Error(`${name}: no acknowledgement`));
        }, ACK_TIMEOUT_MS);
      });
      this.socket.send(JSON.stringify({ type: 'command', name, id, args }));
      return result;
    }
    return this.commandOverHttp(name, args);
  }

  async commandOverHttp(name, args) {
    const response = await fetch(`/api/v1/commands/${name}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Client-Id': this.clientId },
      body: JSON.stringify(args),
    });
    const body = await response.json();
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
