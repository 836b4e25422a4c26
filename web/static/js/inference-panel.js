// InferencePanel: the policy and its engine's health (latency, delay estimate, queue, starved ticks, chunk
// seams), coloured by health-levels.js, and the upcoming chunk drawn against the executed actions of one
// joint (time in seconds from now, the joint in its units, with a legend).
import { sessionLimits } from './health-levels.js';
import { paintLevels, sessionFacts, wireHelp } from './health-panel.js';
import { fmt } from './logic.js';
import { COLORS, drawAxes, fitCanvas, jointUnit, valueRange } from './plot-axes.js';

/** Draws executed (solid) and upcoming (dashed) values of one joint; x in seconds relative to now. */
function drawChunk(canvas, plot, fps) {
  const executed = plot.executed || [];
  const upcoming = plot.upcoming || [];
  const { ctx, width, height } = fitCanvas(canvas);
  if (executed.length + upcoming.length < 2) return;
  const tick = 1 / (fps || 30);
  const tExec = (i) => (i - (executed.length - 1)) * tick; // the last executed action is "now" (0 s)
  const tNext = (i) => (i + 1) * tick;
  const [lo, hi] = valueRange(executed.concat(upcoming));
  const axes = drawAxes(ctx, width, height, {
    x0: executed.length ? tExec(0) : 0, x1: upcoming.length ? tNext(upcoming.length - 1) : 0, y0: lo, y1: hi,
    xLabel: 'time from now (s)', yLabel: `${plot.joint} (${jointUnit(plot.joint)})`,
  });
  ctx.lineWidth = 2;
  ctx.strokeStyle = COLORS.action;
  ctx.beginPath();
  executed.forEach((v, i) => (i ? ctx.lineTo(axes.x(tExec(i)), axes.y(v)) : ctx.moveTo(axes.x(tExec(i)), axes.y(v))));
  ctx.stroke();
  ctx.strokeStyle = COLORS.upcoming;
  ctx.setLineDash([5, 3]);
  ctx.beginPath();
  if (executed.length) ctx.moveTo(axes.x(0), axes.y(executed.at(-1)));
  upcoming.forEach((v, i) => (i || executed.length ? ctx.lineTo(axes.x(tNext(i)), axes.y(v))
    : ctx.moveTo(axes.x(tNext(i)), axes.y(v))));
  ctx.stroke();
  ctx.setLineDash([]);
  ctx.strokeStyle = COLORS.now;
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(axes.x(0), axes.top);
  ctx.lineTo(axes.x(0), axes.bottom);
  ctx.stroke();
}

export function InferencePanel(root, controller) {
  const q = (id) => root.querySelector(`[data-testid="${id}"]`);
  const figure = q('chunk-figure');
  const canvas = q('chunk-plot');
  const label = q('chunk-plot-label');
  let known = { config: null, cameras: null };
  sessionFacts().then((value) => { known = value; });
  wireHelp(root);

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
    if (!inf) return; // the idle server's state: no engine
    const limits = sessionLimits(detail, known.config, known.cameras);
    if (detail.policy) q('policy-name').textContent = detail.policy.name;
    q('inference-engine').textContent = inf.engine;
    q('policy-latency').textContent = `${fmt(inf.latency_ms?.p50, 0)} / ${fmt(inf.latency_ms?.p95, 0)}`;
    q('inference-delay').textContent = inf.engine === 'rtc' ? String(inf.delay_ticks ?? '–') : '– (sync)';
    q('inference-queue').textContent = String(inf.queue_depth ?? '–');
    q('inference-starved').textContent = String(inf.starved_ticks ?? 0);
    root.dataset.starved = String((inf.starved_ticks ?? 0) > 0);
    const jump = inf.boundary_jump || {};
    q('inference-jump').textContent = `${fmt(jump.last, 1)} / ${fmt(jump.p99, 1)} / ${fmt(jump.max, 1)}`;
    q('inference-step').textContent = inf.step_change_p50 == null ? '' : `normal step ${fmt(inf.step_change_p50, 1)}`;
    showConnection(inf.connection);
    paintLevels(root, detail, limits);
    const plot = inf.plot;
    figure.hidden = !plot;
    canvas.hidden = !plot;
    if (plot) {
      label.textContent = `${plot.joint}: executed actions and the upcoming chunk; a kink at "now" is a seam.`;
      drawChunk(canvas, plot, limits.fps);
    }
  });
}
