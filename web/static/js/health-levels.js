// health-levels.js: what each health figure means, when it is fine, worrying or bad, and what to do.
//
// One table (METRICS) holds every threshold as data; the page's colours (data-level ok | warn | bad | na),
// its tooltips and the table in docs/inference.md all come from it (a test keeps the doc in step).
// Thresholds derive from the session's own numbers (sessionLimits): the tick period from the control
// rate, the inference budget from the queue threshold or the chunk, the camera period from its fps.
// Pure functions only: no DOM, so the page-logic tests can call them directly.

export const LEVELS = ['ok', 'warn', 'bad'];

/** The numbers a session's thresholds derive from; `config` is GET /api/v1/config, `cameras` /api/v1/cameras. */
export function sessionLimits(status, config = null, cameras = null) {
  const inf = status?.inference || {};
  const fps = Number(status?.fps) || null;
  const controlHz = Number(status?.control_hz) || fps;
  const chunkSize = inf.chunk_size ?? config?.policy?.chunk_size ?? null;
  const rtc = inf.engine === 'rtc';
  const queueThreshold = rtc ? (inf.queue_threshold ?? config?.inference?.queue_threshold ?? null) : null;
  const steps = inf.n_action_steps ?? config?.inference?.n_action_steps ?? chunkSize;
  const cameraFps = {};
  for (const camera of cameras || []) cameraFps[camera.name] = camera.fps;
  return {
    fps,
    controlHz,
    tickMs: controlHz ? 1000 / controlHz : null, // one control tick
    policyTickMs: fps ? 1000 / fps : null, // one policy (and recording) tick
    engine: inf.engine ?? null,
    chunkSize,
    queueThreshold,
    steps,
    chunkMs: chunkSize && fps ? (chunkSize * 1000) / fps : null,
    maxObservationAgeMs: config?.loop?.max_observation_age_ms ?? null,
    cameraFps,
  };
}

const ratio = (part, whole) => (whole > 0 ? part / whole : null);
const na = { level: 'na', rule: '' };
/** A bound in words: `digits` decimals, or one for small values (½ tick is not "1 ticks"), no trailing ".0". */
const round = (value, digits = 0) => {
  if (value == null) return '–';
  const text = Number(value).toFixed(Math.abs(value) < 10 ? Math.max(digits, 1) : digits);
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
};

/**
 * Levels for values where higher is worse: ok up to `ok`, warn below `bad`, bad from `bad` on.
 * Returns the level and the rule in words (shown in the tooltip, so the operator sees the bounds).
 */
function higherIsWorse(value, ok, bad, unit, digits = 0) {
  if (value == null || ok == null || bad == null) return na;
  const rule = `ok ≤ ${round(ok, digits)} ${unit} · bad ≥ ${round(bad, digits)} ${unit}`.replace(/ {2}/g, ' ');
  if (value >= bad) return { level: 'bad', rule };
  return { level: value <= ok ? 'ok' : 'warn', rule };
}

/** Levels for values where lower is worse (rates). */
function lowerIsWorse(value, ok, bad, unit, digits = 0) {
  if (value == null || ok == null || bad == null) return na;
  const rule = `ok ≥ ${round(ok, digits)} ${unit} · bad < ${round(bad, digits)} ${unit}`;
  if (value < bad) return { level: 'bad', rule };
  return { level: value >= ok ? 'ok' : 'warn', rule };
}

/** Policy ticks since start (the loop counts control ticks: fps × interpolation multiplier). */
function policyTicks(status, limits) {
  const ticks = status?.loop?.ticks;
  if (ticks == null || !limits.fps || !limits.controlHz) return null;
  return (ticks * limits.fps) / limits.controlHz;
}

// Fractions of ticks: 0.1 % of ticks late or starved goes unnoticed; 1 % is a visible stutter.
const TICK_FRACTION_OK = 0.001;
const TICK_FRACTION_BAD = 0.01;

function fractionOfTicks(count, ticks) {
  if (count == null || ticks == null) return na;
  if (count === 0) return { level: 'ok', rule: 'ok: none · bad > 1 % of ticks' };
  const share = ratio(count, ticks) ?? 1;
  const rule = `ok ≤ 0.1 % of ticks · bad > 1 % (now ${(share * 100).toFixed(2)} %)`;
  if (share > TICK_FRACTION_BAD) return { level: 'bad', rule };
  return { level: share <= TICK_FRACTION_OK ? 'ok' : 'warn', rule };
}

/**
 * Every metric the page colours. `value(status, camera)` reads the figure; `judge(value, limits, status)`
 * returns { level, rule }; `means` and `todo` are the tooltip (and the doc's table).
 */
export const METRICS = [
  {
    key: 'loop_rate', label: 'loop rate', unit: 'Hz', panel: 'loop',
    means: 'Control ticks per second, measured, against the target (fps × interpolation multiplier).',
    todo: 'Below target: the machine is overloaded. Close other programs, lower camera size or fps, or lower --fps.',
    value: (s) => s?.loop?.measured_hz ?? null,
    judge: (v, l) => lowerIsWorse(v, l.controlHz && 0.95 * l.controlHz, l.controlHz && 0.8 * l.controlHz, 'Hz', 1),
  },
  {
    key: 'lateness_p99', label: 'lateness p99', unit: 'ms', panel: 'loop',
    means: 'How late a tick starts after its deadline (99th percentile of the recent ticks).',
    todo: 'A whole tick period late means commands arrive in bursts: reduce load (other programs, camera size, '
      + 'preview viewers), or use --dataset.vcodec=h264.',
    value: (s) => s?.loop?.lateness_ms?.p99 ?? null,
    judge: (v, l) => higherIsWorse(v, l.tickMs && 0.25 * l.tickMs, l.tickMs, 'ms', 1),
  },
  {
    key: 'overruns', label: 'overruns', unit: 'ticks', panel: 'loop',
    means: 'Ticks whose work ran past the next deadline (since start).',
    todo: 'A few at start-up are normal. If they keep rising, the loop has too much to do: a slow sync '
      + 'inference, a slow robot bus, or an overloaded machine.',
    value: (s) => s?.loop?.overruns ?? null,
    judge: (v, l, s) => fractionOfTicks(v, s?.loop?.ticks ?? null),
  },
  {
    key: 'camera_age', label: 'camera age', unit: 'ms', panel: 'loop', perCamera: true,
    means: 'Age of the newest frame the loop can use; the policy pauses itself when it exceeds '
      + '--loop.max_observation_age_ms.',
    todo: 'Check the camera cable and USB bandwidth, lower its resolution or fps, or close other programs.',
    value: (s, camera) => s?.cameras?.[camera]?.age_ms ?? null,
    judge: (v, l, s, camera) => {
      const fps = l.cameraFps[camera] || s?.cameras?.[camera]?.fps;
      const period = fps ? 1000 / fps : null;
      // two frame periods: the newest frame plus one in transit; bad where the policy pauses itself
      const bad = l.maxObservationAgeMs ?? (period && 10 * period);
      return higherIsWorse(v, period && Math.min(2 * period, bad), bad, 'ms');
    },
  },
  {
    key: 'camera_fps', label: 'camera fps', unit: 'fps', panel: 'loop', perCamera: true,
    means: 'Frames per second the camera delivers, against its configured rate.',
    todo: 'Low: the camera or its bus is saturated (lower resolution or fps), or the machine is overloaded.',
    value: (s, camera) => s?.cameras?.[camera]?.fps ?? null,
    judge: (v, l, s, camera) => {
      const target = l.cameraFps[camera];
      return lowerIsWorse(v, target && 0.9 * target, target && 0.5 * target, 'fps', 1);
    },
  },
  {
    key: 'inference_latency', label: 'inference latency p95', unit: 'ms', panel: 'inference',
    means: 'Time one inference takes (95th percentile, cold start excluded). rtc: it must finish before the '
      + 'queued actions run out (queue threshold ÷ fps); sync: the robot stands still while it runs.',
    todo: 'rtc: raise --inference.queue_threshold (below the chunk size) or use a faster model. sync: use '
      + '--inference.type=rtc, or a faster model.',
    value: (s) => s?.inference?.latency_ms?.p95 ?? null,
    judge: (v, l) => {
      if (l.engine === 'rtc') {
        if (l.queueThreshold == null || !l.policyTickMs) return na;
        const budget = l.queueThreshold * l.policyTickMs;
        return higherIsWorse(v, 0.5 * budget, budget + 1e-9, 'ms');
      }
      if (!l.policyTickMs || !l.steps) return na;
      // sync: a stall inside one tick goes unseen; standing still > 10 % of each chunk's time is bad
      return higherIsWorse(v, l.policyTickMs, 0.1 * l.steps * l.policyTickMs, 'ms');
    },
  },
  {
    key: 'delay', label: 'delay estimate', unit: 'ticks', panel: 'inference',
    means: 'rtc: actions the robot executes while one inference runs. It must stay below the queue threshold '
      + '(else the queue runs dry) and below chunk size − queue threshold (else inferences run back to back).',
    todo: 'Use a faster model, or move --inference.queue_threshold towards half the chunk size.',
    value: (s) => s?.inference?.delay_ticks ?? null,
    judge: (v, l) => {
      if (l.engine !== 'rtc' || l.queueThreshold == null || l.chunkSize == null) return na;
      const limit = Math.min(l.queueThreshold, l.chunkSize - l.queueThreshold);
      return higherIsWorse(v, limit / 2, limit, 'ticks');
    },
  },
  {
    key: 'queue_depth', label: 'queue depth', unit: 'actions', panel: 'inference',
    means: 'Actions left in the current chunk. rtc: oscillates between the queue threshold minus the delay '
      + 'and the chunk size; 0 while the policy runs means the robot is waiting for a chunk.',
    todo: 'Often near 0: raise --inference.queue_threshold or use a faster model.',
    value: (s) => s?.inference?.queue_depth ?? null,
    judge: (v, l, s) => {
      if (v == null || s?.phase !== 'autonomous' || l.engine !== 'rtc' || l.queueThreshold == null) return na;
      const low = Math.max(1, l.queueThreshold - (s?.inference?.delay_ticks ?? 0));
      const rule = `ok ≥ ${low} actions · bad: 0 (empty)`;
      if (v <= 0) return { level: 'bad', rule };
      return { level: v >= low ? 'ok' : 'warn', rule };
    },
  },
  {
    key: 'starved_ticks', label: 'starved ticks', unit: 'ticks', panel: 'inference',
    means: 'Policy ticks with no fresh action: the robot held its last goal (since start).',
    todo: 'Raise --inference.queue_threshold, use a faster model, or a longer chunk.',
    value: (s) => s?.inference?.starved_ticks ?? null,
    judge: (v, l, s) => fractionOfTicks(v, policyTicks(s, l)),
  },
  {
    key: 'seam', label: 'chunk seam p99', unit: 'joint units', panel: 'inference',
    means: 'Largest joint change from the last action of one chunk to the first of the next, against the '
      + 'normal per-tick change inside a chunk.',
    todo: 'Large seams jerk the arm: with rtc try --inference.rtc.prefix_attention_schedule=EXP and a larger '
      + '--inference.rtc.execution_horizon.',
    value: (s) => s?.inference?.boundary_jump?.p99 ?? null,
    judge: (v, l, s) => {
      const step = s?.inference?.step_change_p50;
      if (v == null || step == null) return na;
      // a seam of a few normal steps goes unseen; ten or more is a visible jerk
      const yardstick = Math.max(step, SEAM_FLOOR);
      return higherIsWorse(v, 3 * yardstick, 10 * yardstick, 'units', 2);
    },
  },
];

// Below this per-tick change (joint units) the arm is nearly still and a ratio would flag sensor noise.
const SEAM_FLOOR = 0.05;

export const METRIC_KEYS = METRICS.map((m) => m.key);

const BY_KEY = new Map(METRICS.map((m) => [m.key, m]));

/** { level, rule, value } of one metric (camera: the camera's name, for the per-camera metrics). */
export function judge(key, status, limits, camera = null) {
  const metric = BY_KEY.get(key);
  if (!metric) throw new Error(`unknown health metric ${key}`);
  const value = metric.value(status, camera);
  if (value == null) return { ...na, value };
  return { ...metric.judge(value, limits, status, camera), value };
}

/** The worse of several levels (na counts as nothing). */
export function worst(levels) {
  let index = -1;
  for (const level of levels) index = Math.max(index, LEVELS.indexOf(level));
  return index < 0 ? 'na' : LEVELS[index];
}

/** One camera's level: the worse of its age and its fps (what the camera tile's stats show). */
export function cameraLevel(status, limits, camera) {
  return worst([judge('camera_age', status, limits, camera).level, judge('camera_fps', status, limits, camera).level]);
}

/** The tooltip text of a metric: what it means, what to do, the bounds now. */
export function helpText(key, rule = '') {
  const metric = BY_KEY.get(key);
  return `${metric.means} ${metric.todo}${rule ? ` (${rule})` : ''}`;
}

export function metric(key) {
  return BY_KEY.get(key);
}
