// Views fed by controller events: phase, connection, banner, loop health, joints, event log.
import { describeEvent, fmt } from './logic.js';

const MAX_EVENTS = 60;

export function PhaseView(el, controller) {
  const show = (phase) => {
    if (!phase || el.dataset.phase === phase) return;
    el.dataset.phase = phase;
    el.textContent = phase;
    document.body.dataset.phase = phase;
  };
  // the event arrives as soon as the loop applied the change; state messages confirm it at 10 Hz
  controller.addEventListener('rc:event', ({ detail }) => {
    if (detail.kind === 'phase_changed') show(detail.data.phase);
  });
  controller.addEventListener('rc:state', ({ detail }) => show(detail.phase));
}

export function ConnectionView(el, controller) {
  const labels = { connecting: 'connecting…', connected: 'connected', disconnected: 'reconnecting…' };
  controller.addEventListener('rc:connection', ({ detail }) => {
    el.dataset.state = detail.state;
    el.textContent = labels[detail.state] || detail.state;
  });
}

/**
 * The one owner of the banner. Precedence: error > notice (why the session paused itself) > dropped
 * frames > a flash (a refused command, a toggle that means nothing now), which stays for a few seconds.
 */
export function BannerView(el, controller) {
  const FLASH_MS = 6000;
  let flash = null;
  let state = null;
  let connection = 'connecting';

  function render() {
    let text = '';
    let level = 'warning';
    const dropped = state?.recording?.dropped_frames || 0;
    if (connection === 'disconnected') {
      text = 'Connection to the console lost; reconnecting…';
      level = 'error';
    } else if (state?.error) {
      text = `Error: ${state.error}`;
      level = 'error';
    } else if (state?.notice) {
      text = state.notice;
    } else if (dropped > 0) {
      text = `Recording fell behind: ${dropped} frames dropped (episodes were cut to stay consistent). `
        + 'Lower camera resolution or fps, or use --dataset.vcodec=h264.';
      level = 'error';
    } else if (flash && performance.now() < flash.until) {
      text = flash.text;
      level = flash.level;
    }
    el.hidden = !text;
    el.dataset.level = level;
    if (el.textContent !== text) el.textContent = text;
  }

  controller.addEventListener('rc:state', ({ detail }) => { state = detail; render(); });
  controller.addEventListener('rc:flash', ({ detail }) => {
    flash = { text: detail.text, level: detail.level || 'warning', until: performance.now() + FLASH_MS };
    render();
  });
  controller.addEventListener('rc:connection', ({ detail }) => { connection = detail.state; render(); });
}

export function HealthView(root, controller) {
  const hz = root.querySelector('[data-testid="loop-hz"]');
  const p99 = root.querySelector('[data-testid="loop-lateness-p99"]');
  const overruns = root.querySelector('[data-testid="loop-overruns"]');
  const policy = root.querySelector('[data-testid="policy-name"]');
  const latency = root.querySelector('[data-testid="policy-latency"]');
  controller.addEventListener('rc:state', ({ detail }) => {
    hz.textContent = fmt(detail.loop.measured_hz, 1);
    p99.textContent = fmt(detail.loop.lateness_ms.p99, 2);
    overruns.textContent = String(detail.loop.overruns);
    policy.textContent = detail.policy.name;
    latency.textContent = `${fmt(detail.policy.latency_ms.p50, 0)} / ${fmt(detail.policy.latency_ms.p95, 0)}`;
  });
}

export function JointsView(root, controller) {
  const cells = new Map([...root.querySelectorAll('[data-joint]')].map((td) => [td.dataset.joint, td]));
  controller.addEventListener('rc:state', ({ detail }) => {
    for (const [name, value] of Object.entries(detail.robot.joints)) {
      const cell = cells.get(name);
      if (cell) cell.textContent = fmt(value, 1);
    }
  });
}

export function EventLog(el, controller) {
  controller.addEventListener('rc:event', ({ detail }) => {
    const item = document.createElement('li');
    item.dataset.kind = detail.kind;
    item.dataset.seq = String(detail.seq);
    const time = new Date(detail.time * 1000).toLocaleTimeString();
    item.textContent = `${time}  ${describeEvent(detail)}`;
    el.prepend(item);
    while (el.children.length > MAX_EVENTS) el.lastElementChild.remove();
  });
}

/** Tablet facts: correction timer, episodes recorded (of the target), who holds control. */
export function TabletFacts(root, controller) {
  const q = (id) => root.querySelector(`[data-testid="${id}"]`);
  controller.addEventListener('rc:state', ({ detail }) => {
    const rec = detail.recording || {};
    const elapsed = rec.correction_elapsed_s;
    q('correction-timer').textContent = elapsed == null ? '–' : `${fmt(elapsed, 1)} s`;
    q('episode-count').textContent = String(rec.episodes_recorded ?? rec.saved_this_session ?? 0);
    const target = q('episode-target');
    if (target) target.textContent = String(rec.num_episodes ?? '–');
    const holder = q('lease-holder');
    const lease = detail.lease || {};
    if (holder) holder.textContent = lease.yours ? 'this tablet' : lease.holder ? lease.holder.label : 'nobody';
  });
}
