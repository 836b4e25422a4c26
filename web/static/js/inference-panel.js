// InferencePanel: the engine's health (latency, delay estimate, queue, starved ticks, chunk seams) and
// the upcoming chunk drawn against the executed actions for one joint.
import { fmt } from './logic.js';

export function InferencePanel(root, controller) {
  const q = (id) => root.querySelector(`[data-testid="${id}"]`);
  const canvas = q('chunk-plot');
  const label = q('chunk-plot-label');

  function draw(plot) {
    const executed = plot.executed || [];
    const upcoming = plot.upcoming || [];
    const ctx = canvas.getContext('2d');
    const w = canvas.width;
    const h = canvas.height;
    ctx.clearRect(0, 0, w, h);
    const all = executed.concat(upcoming);
    if (all.length < 2) return;
    const lo = Math.min(...all);
    const hi = Math.max(...all);
    const span = hi - lo || 1;
    const n = executed.length + upcoming.length;
    const x = (i) => (i / Math.max(1, n - 1)) * (w - 8) + 4;
    const y = (v) => h - 6 - ((v - lo) / span) * (h - 12);
    ctx.lineWidth = 2;
    ctx.strokeStyle = '#4c8dff';
    ctx.beginPath();
    executed.forEach((v, i) => (i ? ctx.lineTo(x(i), y(v)) : ctx.moveTo(x(i), y(v))));
    ctx.stroke();
    ctx.strokeStyle = '#f0a030';
    ctx.setLineDash([5, 3]);
    ctx.beginPath();
    upcoming.forEach((v, i) => {
      const k = executed.length + i;
      if (i === 0 && executed.length) ctx.moveTo(x(k - 1), y(executed.at(-1)));
      ctx.lineTo(x(k), y(v));
    });
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.strokeStyle = '#888';
    ctx.beginPath();
    ctx.moveTo(x(executed.length - 1), 0);
    ctx.lineTo(x(executed.length - 1), h);
    ctx.stroke();
  }

  // A remote policy's connection: connecting, streaming, degraded, stalled or reconnecting.
  function showConnection(conn) {
    q('policy-server-label').hidden = !conn;
    const row = q('policy-server');
    row.hidden = !conn;
    if (!conn) return;
    row.dataset.state = conn.state;
    q('policy-server-state').textContent = conn.state;
    const rtt = conn.latency_ms?.p50 == null ? '' : ` · ${fmt(conn.latency_ms.p50, 0)} ms`;
    const error = conn.state === 'reconnecting' && conn.last_error ? ` · ${conn.last_error}` : '';
    q('policy-server-detail').textContent = `${conn.server}${rtt}${error}`;
  }

  controller.addEventListener('rc:state', ({ detail }) => {
    const inf = detail.inference;
    if (!inf) return;
    q('inference-engine').textContent = inf.engine;
    q('inference-latency').textContent = `${fmt(inf.latency_ms?.p50, 0)} / ${fmt(inf.latency_ms?.p95, 0)}`;
    q('inference-delay').textContent = String(inf.delay_ticks ?? '–');
    q('inference-queue').textContent = String(inf.queue_depth ?? '–');
    q('inference-starved').textContent = String(inf.starved_ticks ?? 0);
    root.dataset.starved = String((inf.starved_ticks ?? 0) > 0);
    const jump = inf.boundary_jump || {};
    q('inference-jump').textContent = `${fmt(jump.last, 1)} / ${fmt(jump.p99, 1)} / ${fmt(jump.max, 1)}`;
    showConnection(inf.connection);
    const plot = inf.plot;
    canvas.hidden = !plot;
    label.hidden = !plot;
    if (plot) {
      label.textContent = `${plot.joint}: executed (solid) and upcoming chunk (dashed)`;
      draw(plot);
    }
  });
}
