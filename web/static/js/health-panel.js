// HealthView: the loop's health (rate against its target, lateness, overruns, each camera's age and fps),
// coloured by the levels of health-levels.js, each figure with its explanation one tap away.
// Also the shared pieces the inference panel uses: the session's facts and the level painter.
import { cameraLevel, helpText, judge, sessionLimits } from './health-levels.js';
import { fmt } from './logic.js';

let facts = null;

/** GET /api/v1/config and /api/v1/cameras once per page: the numbers the thresholds derive from. */
export function sessionFacts() {
  if (!facts) {
    const get = (path) => fetch(path).then((r) => (r.ok ? r.json() : null)).catch(() => null);
    facts = Promise.all([get('/api/v1/config'), get('/api/v1/cameras')])
      .then(([config, cameras]) => ({ config, cameras }));
  }
  return facts;
}

/**
 * Colours every `[data-metric]` row under `root` (data-level) and keeps its explanation current: the
 * `title` (hover) and the help line under the row (the name is a button, so touch and keyboard reach it).
 * A per-camera row's key is `metric:camera`.
 */
export function paintLevels(root, status, limits) {
  for (const row of root.querySelectorAll('[data-metric]')) {
    const [key, camera] = row.dataset.metric.split(':');
    const { level, rule } = judge(key, status, limits, camera ?? null);
    if (row.dataset.level !== level) row.dataset.level = level;
    const text = helpText(key, rule);
    if (row.title !== text) row.title = text;
    const help = row.querySelector('.metric-help');
    if (help && help.textContent !== text) help.textContent = text;
  }
}

/** The name of each metric row toggles its help line (one open at a time per panel). */
export function wireHelp(root) {
  root.addEventListener('click', (event) => {
    const toggle = event.target.closest('.metric-name');
    if (!toggle || !root.contains(toggle)) return;
    const help = toggle.closest('.metric').querySelector('.metric-help');
    const open = help.hidden;
    for (const other of root.querySelectorAll('.metric-help')) other.hidden = true;
    for (const other of root.querySelectorAll('.metric-name')) other.setAttribute('aria-expanded', 'false');
    help.hidden = !open;
    toggle.setAttribute('aria-expanded', String(open));
  });
}

export function HealthView(root, controller) {
  const q = (id) => root.querySelector(`[data-testid="${id}"]`);
  let known = { config: null, cameras: null };
  sessionFacts().then((value) => { known = value; });
  wireHelp(root);

  controller.addEventListener('rc:state', ({ detail }) => {
    if (!detail.loop) return; // the idle server's state: no loop
    const limits = sessionLimits(detail, known.config, known.cameras);
    q('loop-hz').textContent = fmt(detail.loop.measured_hz, 1);
    q('loop-hz-target').textContent = fmt(limits.controlHz, 0);
    q('loop-lateness-p99').textContent = fmt(detail.loop.lateness_ms.p99, 2);
    const ticks = detail.loop.ticks;
    const share = ticks ? ` (${fmt((100 * detail.loop.overruns) / ticks, 1)} %)` : '';
    q('loop-overruns').textContent = `${detail.loop.overruns}${share}`;
    for (const [name, camera] of Object.entries(detail.cameras || {})) {
      const age = q(`camera-age-${name}`);
      if (age) age.textContent = fmt(camera.age_ms, 0);
      const fps = q(`camera-fps-${name}`);
      if (fps) fps.textContent = `${fmt(camera.fps, 0)} / ${fmt(limits.cameraFps[name], 0)}`;
      // the camera tile's own stats line (drawn by camera-view.js) gets the same colour and explanation
      const stats = document.querySelector(`[data-testid="camera-stats-${name}"]`);
      if (stats) {
        stats.dataset.level = cameraLevel(detail, limits, name);
        stats.title = `${name}: ${fmt(camera.fps, 0)} fps, newest frame ${fmt(camera.age_ms, 0)} ms old at the `
          + `console. ${helpText('camera_age')}`;
      }
    }
    paintLevels(root, detail, limits);
  });
}
