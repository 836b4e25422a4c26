// CameraView: one camera tile fed by its binary JPEG WebSocket; decodes only the newest frame.
import { fmt, parsePacket, wsUrl } from './logic.js';

const STALE_AFTER_MS = 2000;

export function CameraView(el) {
  const name = el.dataset.camera;
  const canvas = el.querySelector('canvas');
  const stats = el.querySelector('.camera-stats');
  const context = canvas.getContext('2d');
  let frames = 0;
  let waiting = null; // newest packet not drawn yet
  let decoding = false;
  const arrivals = [];
  let latencyMs = null;
  let backoff = 500;

  async function drawNext() {
    if (decoding || !waiting) return;
    decoding = true;
    const packet = waiting;
    waiting = null;
    try {
      const bitmap = await createImageBitmap(new Blob([packet.jpeg], { type: 'image/jpeg' }));
      if (canvas.width !== bitmap.width || canvas.height !== bitmap.height) {
        canvas.width = bitmap.width;
        canvas.height = bitmap.height;
      }
      context.drawImage(bitmap, 0, 0);
      bitmap.close();
      frames += 1;
      el.dataset.frames = String(frames);
      el.dataset.seq = String(packet.seq);
      el.dataset.width = String(canvas.width);
      el.dataset.height = String(canvas.height);
    } catch (err) {
      console.warn(`camera ${name}: cannot decode frame`, err);
    } finally {
      decoding = false;
      if (waiting) drawNext();
    }
  }

  function connect() {
    const socket = new WebSocket(wsUrl(`/api/v1/cameras/${encodeURIComponent(name)}/ws`));
    socket.binaryType = 'arraybuffer';
    socket.addEventListener('open', () => { backoff = 500; el.dataset.connected = 'true'; });
    socket.addEventListener('message', (msg) => {
      const packet = parsePacket(msg.data);
      const now = performance.now();
      arrivals.push(now);
      while (arrivals.length && now - arrivals[0] > 2000) arrivals.shift();
      latencyMs = Date.now() - packet.capturedAt * 1000;
      waiting = packet;
      drawNext();
    });
    socket.addEventListener('close', () => {
      el.dataset.connected = 'false';
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 5000);
    });
  }

  setInterval(() => {
    const fps = arrivals.length > 1 ? (arrivals.length - 1) / ((arrivals.at(-1) - arrivals[0]) / 1000) : 0;
    stats.textContent = `${fmt(fps, 0)} fps · ${fmt(latencyMs, 0)} ms`;
    // a picture that stopped changing must not look live (a frozen server keeps its sockets open)
    const stale = frames > 0 && (!arrivals.length || performance.now() - arrivals.at(-1) > STALE_AFTER_MS);
    el.dataset.stale = String(stale);
  }, 500);

  connect();
}
