// plot-axes.js: the small canvas plots' frame: sizing to the displayed box, "nice" ticks, axes with units.
// Shared by the inference panel's chunk plot and the review dialog's plot.

/** Plot colours: distinct in hue and lightness, never the same for two things on one plot. */
export const COLORS = {
  state: '#5aa9ff', // measured: light blue, solid
  action: '#ffb23e', // commanded / executed: amber, dashed in review
  upcoming: '#ff6bd5', // the planned chunk: magenta, dashed
  intervention: 'rgba(46, 204, 113, 0.22)', // human correction band: green
  interventionEdge: 'rgba(46, 204, 113, 0.85)',
  now: '#f4f4f4',
  axis: '#8a93a3',
  grid: 'rgba(138, 147, 163, 0.18)',
};

/** The tick step for about `count` ticks over [lo, hi]: 1, 2 or 5 × 10^k. */
function tickStep(lo, hi, count) {
  const raw = (hi - lo) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw * (1 - 1e-9)) ?? 10 * power;
}

/** Round tick values covering [lo, hi]: about `count` of them at 1, 2 or 5 × 10^k. */
export function niceTicks(lo, hi, count = 4) {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi === lo) return [lo];
  const step = tickStep(lo, hi, count);
  const ticks = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toFixed(10)));
  return ticks;
}

/** Decimals a tick label needs so neighbouring ticks read differently (0.5 steps: 1; 20 steps: 0). */
export function tickDigits(lo, hi, count = 4) {
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || hi === lo) return 0;
  return Math.max(0, -Math.floor(Math.log10(tickStep(lo, hi, count)) + 1e-9));
}

/** Makes the canvas's pixels match its displayed size (crisp text); returns the context in CSS pixels. */
export function fitCanvas(canvas) {
  const dpr = window.devicePixelRatio || 1;
  const width = Math.max(1, Math.round(canvas.clientWidth || canvas.width));
  const height = Math.max(1, Math.round(canvas.clientHeight || canvas.height));
  if (canvas.width !== Math.round(width * dpr) || canvas.height !== Math.round(height * dpr)) {
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
  }
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, width, height);
  return { ctx, width, height };
}

/**
 * Draws the axes, grid and labels; returns the scales `x(value)` and `y(value)` into the plot area.
 * `xLabel`/`yLabel` carry the units, e.g. "time (s)" and "shoulder_pan (°)".
 */
export function drawAxes(ctx, width, height, { x0, x1, y0, y1, xLabel, yLabel }) {
  const pad = { left: 44, right: 8, top: 16, bottom: 30 };
  const plotW = Math.max(1, width - pad.left - pad.right);
  const plotH = Math.max(1, height - pad.top - pad.bottom);
  const xSpan = x1 - x0 || 1;
  const ySpan = y1 - y0 || 1;
  const x = (v) => pad.left + ((v - x0) / xSpan) * plotW;
  const y = (v) => pad.top + plotH - ((v - y0) / ySpan) * plotH;
  ctx.save();
  ctx.font = '11px system-ui, sans-serif';
  ctx.lineWidth = 1;
  ctx.fillStyle = COLORS.axis;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  const yCount = Math.max(3, Math.floor(plotH / 25));
  const yDigits = tickDigits(y0, y1, yCount);
  for (const v of niceTicks(y0, y1, yCount)) {
    ctx.strokeStyle = COLORS.grid;
    ctx.beginPath();
    ctx.moveTo(pad.left, y(v));
    ctx.lineTo(pad.left + plotW, y(v));
    ctx.stroke();
    ctx.fillText(v.toFixed(yDigits), pad.left - 4, y(v));
  }
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  const xCount = Math.max(2, Math.floor(plotW / 60));
  const xDigits = tickDigits(x0, x1, xCount);
  for (const v of niceTicks(x0, x1, xCount)) {
    ctx.strokeStyle = COLORS.grid;
    ctx.beginPath();
    ctx.moveTo(x(v), pad.top);
    ctx.lineTo(x(v), pad.top + plotH);
    ctx.stroke();
    ctx.fillText(v.toFixed(xDigits), x(v), pad.top + plotH + 3);
  }
  ctx.strokeStyle = COLORS.axis;
  ctx.beginPath();
  ctx.moveTo(pad.left, pad.top);
  ctx.lineTo(pad.left, pad.top + plotH);
  ctx.lineTo(pad.left + plotW, pad.top + plotH);
  ctx.stroke();
  ctx.textAlign = 'right';
  ctx.textBaseline = 'bottom';
  ctx.fillText(xLabel, pad.left + plotW, height - 1);
  ctx.textAlign = 'left';
  ctx.textBaseline = 'top';
  ctx.fillText(yLabel, 2, 1);
  ctx.restore();
  return { x, y, top: pad.top, bottom: pad.top + plotH, left: pad.left, right: pad.left + plotW };
}

/** A joint's unit for axis labels: the sim (and LeRobot's degree-calibrated arms) use degrees; grippers 0–100. */
export function jointUnit(joint) {
  return /gripper/i.test(joint || '') ? '%' : '°';
}

/** The range of values, padded a little so lines do not touch the frame. */
export function valueRange(values) {
  const finite = values.filter(Number.isFinite);
  if (!finite.length) return [0, 1];
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  if (hi - lo < 1e-6) { lo -= 1; hi += 1; }
  const margin = (hi - lo) * 0.08;
  return [lo - margin, hi + margin];
}
