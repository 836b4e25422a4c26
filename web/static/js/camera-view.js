// CameraView: one camera tile fed by its binary JPEG WebSocket; decodes only the newest frame.
// PreviewSize: the preview size of every tile (Full, Half, Quarter), chosen in the page, kept per browser.
import { fmt, parsePacket, wsUrl } from './logic.js';

const STALE_AFTER_MS = 2000;
const RATE_WINDOW_MS = 2000;
export const PREVIEW_SCALES = ['1', '0.5', '0.25']; // the server's ?scale= values (api.md)
const SCALE_KEY = 'rcPreviewScale';
const SCALE_EVENT = 'rc:preview-scale';

/** The preview scale this browser chose ('1' when none or an unknown one is stored). */
export function loadPreviewScale(storage) {
  try {
    const stored = storage.getItem(SCALE_KEY);
    return PREVIEW_SCALES.includes(stored) ? stored : '1';
  } catch {
    return '1'; // storage refused (private mode): full size, as the server's default
  }
}

/** Bytes per second in words an operator reads at a glance. */
export function formatRate(bytesPerSecond) {
  if (bytesPerSecond === null || bytesPerSecond === undefined || Number.isNaN(bytesPerSecond)) return '–';
  if (bytesPerSecond >= 1e6) return `${(bytesPerSecond / 1e6).toFixed(1)} MB/s`;
  return `${Math.round(bytesPerSecond / 1e3)} kB/s`;
}

/**
 * PreviewSize: the <select> that sets the size of every camera preview on the page. The choice is kept in
 * this browser (localStorage) and announced on `document`; the camera tiles reconnect their own sockets
 * at the new size, nothing else reconnects.
 */
export function PreviewSize(select) {
  select.value = loadPreviewScale(localStorage);
  select.dataset.scale = select.value;
  select.addEventListener('change', () => {
    const scale = PREVIEW_SCALES.includes(select.value) ? select.value : '1';
    try {
      localStorage.setItem(SCALE_KEY, scale);
    } catch {
      // not remembered (storage refused); the page still uses it until reloaded
    }
    select.dataset.scale = scale;
    select.blur(); // the operator's hotkeys work again at once (they are off while a field has the focus)
    document.dispatchEvent(new CustomEvent(SCALE_EVENT, { detail: { scale } }));
  });
}

export function CameraView(el) {
  const name = el.dataset.camera;
  const canvas = el.querySelector('canvas');
  const stats = el.querySelector('.camera-stats');
  const context = canvas.getContext('2d');
  let frames = 0;
  let waiting = null; // newest packet not drawn yet
  let decoding = false;
  const arrivals = []; // [time ms, bytes] of the last RATE_WINDOW_MS
  let latencyMs = null;
  let backoff = 500;
  let scale = loadPreviewScale(localStorage);
  let socket = null;
  let connections = 0;

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

  // ?ack=1: every frame is acknowledged, so the server keeps at most a few in flight and a slow link gets
  // fewer, fresher frames instead of seconds of video queued in its buffers
  function connect() {
    const path = `/api/v1/cameras/${encodeURIComponent(name)}/ws?scale=${scale}&ack=1`;
    const current = new WebSocket(wsUrl(path));
    socket = current;
    current.binaryType = 'arraybuffer';
    current.addEventListener('open', () => {
      backoff = 500;
      connections += 1;
      el.dataset.connected = 'true';
      el.dataset.scale = scale;
      el.dataset.connections = String(connections);
    });
    current.addEventListener('message', (msg) => {
      const packet = parsePacket(msg.data);
      if (current.readyState === WebSocket.OPEN) current.send(JSON.stringify({ ack: packet.seq }));
      const now = performance.now();
      arrivals.push([now, msg.data.byteLength]);
      while (arrivals.length && now - arrivals[0][0] > RATE_WINDOW_MS) arrivals.shift();
      latencyMs = Date.now() - packet.capturedAt * 1000;
      waiting = packet;
      drawNext();
    });
    current.addEventListener('close', () => {
      if (socket !== current) return; // replaced by a socket at another size: nothing to do
      el.dataset.connected = 'false';
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 5000);
    });
  }

  // a new size: this tile's socket only is replaced (the page's control socket is untouched)
  document.addEventListener(SCALE_EVENT, (event) => {
    if (event.detail.scale === scale) return;
    scale = event.detail.scale;
    const old = socket;
    arrivals.length = 0;
    connect();
    old?.close(1000, 'preview size changed');
  });

  setInterval(() => {
    const span = arrivals.length > 1 ? (arrivals.at(-1)[0] - arrivals[0][0]) / 1000 : 0;
    const fps = span > 0 ? (arrivals.length - 1) / span : 0;
    const bytesPerSecond = span > 0 ? arrivals.slice(1).reduce((sum, [, bytes]) => sum + bytes, 0) / span : 0;
    el.dataset.bytesPerSecond = String(Math.round(bytesPerSecond));
    stats.textContent = `${fmt(fps, 0)} fps · ${fmt(latencyMs, 0)} ms · ${formatRate(bytesPerSecond)}`;
    // a picture that stopped changing must not look live (a frozen server keeps its sockets open)
    const stale = frames > 0 && (!arrivals.length || performance.now() - arrivals.at(-1)[0] > STALE_AFTER_MS);
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
    const toolbar = container.querySelector('.camera-toolbar'); // the preview size: a row of its own above the tiles
    const tilesHeight = height - (toolbar ? toolbar.offsetHeight + gap : 0);
    const best = bestGrid(tiles.length, width, tilesHeight, Math.min(...aspects), gap, caption);
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
