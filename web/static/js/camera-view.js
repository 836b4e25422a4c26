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
        el.dispatchEvent(new CustomEvent('rc:camera-size', { bubbles: true })); // the grid refits
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

const MIN_TILE_PX = 120;

/**
 * The column count and tile width (px) that make `count` tiles as large as possible in a `width` x
 * `height` box, each tile a picture of `aspect` (width / height) plus a caption of `caption` px.
 */
export function bestGrid(count, width, height, aspect, gap, caption) {
  let best = { columns: 1, tileWidth: 0 };
  for (let columns = 1; columns <= count; columns += 1) {
    const rows = Math.ceil(count / columns);
    const byWidth = (width - gap * (columns - 1)) / columns;
    const byHeight = ((height - gap * (rows - 1)) / rows - caption) * aspect;
    const tileWidth = Math.floor(Math.min(byWidth, byHeight));
    if (tileWidth > best.tileWidth) best = { columns, tileWidth };
  }
  // a box too small for any useful picture: tiles of a minimum size (the page scrolls to them)
  const floor = Math.min(MIN_TILE_PX, Math.floor(width));
  if (best.tileWidth < floor) best = { columns: Math.max(1, Math.floor((width + gap) / (floor + gap))), tileWidth: floor };
  return best;
}

/**
 * CameraGrid: the camera tiles as large as their area allows, each picture whole (no crop) at its own
 * aspect ratio. The area is the container's own box (`data-fit="box"`: the tablet, whose cameras take
 * what its buttons leave) or the parent's width by the viewport's height below the container's top
 * (`data-fit="viewport"`: the desktop, whose top block stays in view and whose panels are below or
 * beside the cameras). Refits on any resize, a banner appearing, or a camera's frame size changing.
 */
export function CameraGrid(container) {
  const tiles = [...container.querySelectorAll('.camera-view')];
  if (!tiles.length) return;
  const px = (value) => parseFloat(value) || 0;
  let scheduled = false;

  function area() {
    if (container.dataset.fit === 'box') return { width: container.clientWidth, height: container.clientHeight };
    const parent = container.parentElement;
    const style = getComputedStyle(parent);
    const width = parent.clientWidth - px(style.paddingLeft) - px(style.paddingRight);
    const top = container.getBoundingClientRect().top + window.scrollY;
    return { width, height: window.innerHeight - top - px(style.paddingBottom) };
  }

  function fit() {
    scheduled = false;
    const { width, height } = area();
    if (width <= 0) return;
    const aspects = tiles.map((tile) => {
      const canvas = tile.querySelector('canvas');
      return canvas.width > 0 && canvas.height > 0 ? canvas.width / canvas.height : 4 / 3;
    });
    const caption = tiles[0].querySelector('figcaption')?.offsetHeight ?? 0;
    const gap = px(getComputedStyle(container).rowGap);
    const best = bestGrid(tiles.length, width, height, Math.min(...aspects), gap, caption);
    container.style.setProperty('--camera-columns', String(best.columns));
    container.style.setProperty('--camera-width', `${best.tileWidth}px`);
    container.dataset.columns = String(best.columns);
  }

  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    requestAnimationFrame(fit);
  };
  const observer = new ResizeObserver(schedule);
  observer.observe(container.dataset.fit === 'box' ? container : container.parentElement);
  for (const el of document.body.children) if (el !== container.parentElement) observer.observe(el);
  window.addEventListener('resize', schedule);
  container.addEventListener('rc:camera-size', schedule);
  fit();
}
