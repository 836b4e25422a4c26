// The only module that talks to the server's control WebSocket: state, events, commands, reconnect.
import { wsUrl } from './logic.js';

const MAX_BACKOFF_MS = 5000;
const ACK_TIMEOUT_MS = 10000;

/**
 * Dispatches `rc:hello`, `rc:state`, `rc:event`, `rc:connection` (detail: {state}) and `rc:ack`.
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
  }

  connect() {
    this.emit('rc:connection', { state: 'connecting' });
    const socket = new WebSocket(wsUrl(`/api/v1/ws?since=${this.lastSeq}`));
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
        this.emit('rc:hello', message);
        break;
      case 'state':
        this.state = message;
        this.emit('rc:state', message);
        break;
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
   * Send a command; resolves with {accepted, phase, detail, status}. Falls back to REST when the
   * socket is down, so a button press is never silently lost.
   */
  command(name, args = {}) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      const id = `c${this.nextId++}`;
      const result = new Promise((resolve, reject) => {
        this.pending.set(id, { resolve, reject });
        setTimeout(() => {
          if (this.pending.delete(id)) reject(new Error(`${name}: no acknowledgement`));
        }, ACK_TIMEOUT_MS);
      });
      this.socket.send(JSON.stringify({ type: 'command', name, id, args, client: 'page' }));
      return result;
    }
    return this.commandOverHttp(name, args);
  }

  async commandOverHttp(name, args) {
    const response = await fetch(`/api/v1/commands/${name}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Client-Id': 'page' },
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
