// Views fed by controller events: phase, connection, banner, joints (the event log: event-timeline.js; loop
// health: health-panel.js).
import { fmt, lastSeenText } from './logic.js';

/**
 * The phase pill. Its text is always the last phase the server reported (the API contract); while
 * the page is not live it is styled as stale (`data-live="false"`, also on <body>) and the
 * `phase-age` element next to it says how long ago that phase was seen.
 */
export function PhaseView(el, controller) {
  const age = document.querySelector('[data-testid="phase-age"]');
  let live = false;
  let seenAt = null;

  const show = (phase) => {
    if (!phase || el.dataset.phase === phase) return;
    el.dataset.phase = phase;
    el.textContent = phase;
    document.body.dataset.phase = phase;
  };
  const setLive = (value) => {
    live = value;
    el.dataset.live = String(value);
    document.body.dataset.live = String(value);
    el.title = value ? 'live' : 'not live: this is the last phase the console reported';
    renderAge();
  };
  const renderAge = () => {
    if (!age) return;
    const text = live ? '' : lastSeenText(seenAt, Date.now());
    age.hidden = !text;
    if (age.textContent !== text) age.textContent = text;
  };
  setInterval(renderAge, 1000);

  // the event arrives as soon as the loop applied the change; state messages confirm it at 10 Hz
  controller.addEventListener('rc:event', ({ detail }) => {
    if (detail.kind === 'phase_changed') show(detail.data.phase);
  });
  controller.addEventListener('rc:state', ({ detail }) => {
    seenAt = Date.now();
    show(detail.phase);
  });
  // an accepted command's answer is the server's word too (an E-STOP delivered over HTTP)
  controller.addEventListener('rc:ack', ({ detail }) => {
    if (!detail.accepted || !detail.phase) return;
    seenAt = Date.now();
    show(detail.phase);
    renderAge();
  });
  controller.addEventListener('rc:connection', ({ detail }) => setLive(detail.live));
  setLive(controller.live);
}

export function ConnectionView(el, controller) {
  const labels = {
    connecting: 'connecting…', connected: 'connected', stale: 'no data from the console',
    disconnected: 'reconnecting…', ended: 'session ended',
  };
  controller.addEventListener('rc:connection', ({ detail }) => {
    el.dataset.state = detail.state;
    el.textContent = labels[detail.state] || detail.state;
  });
}

/**
 * The one owner of the banner (`data-level` error | warning | info, `data-kind` says which message).
 * Precedence: an E-STOP that could not be delivered > the page not being live (lost, stale, ended)
 * > error > the session ended > notice (why the session paused itself) > dropped frames > a flash
 * (a refused command, a toggle that means nothing now), which stays for a few seconds.
 */
export function BannerView(el, controller) {
  const FLASH_MS = 6000;
  const ESTOP_DELIVERED_MS = 15000;
  let flash = null;
  let estop = null;
  let state = null;
  let connection = 'connecting';

  function message() {
    const dropped = state?.recording?.dropped_frames || 0;
    if (estop && (estop.sticky || performance.now() < estop.until)) {
      return { kind: 'estop', level: 'error', text: estop.text };
    }
    if (connection === 'disconnected') {
      return { kind: 'disconnected', level: 'error',
               text: 'Connection to the console lost; reconnecting… Commands are disabled; E-STOP is sent over HTTP.' };
    }
    if (connection === 'stale') {
      return { kind: 'stale', level: 'error',
               text: 'No data from the console for more than 3 s (overloaded or frozen?). Figures are stale; '
                 + 'commands are disabled; E-STOP is sent over HTTP.' };
    }
    if (connection === 'ended') {
      const how = state?.error ? ` with an error: ${state.error}` : ` (${state?.phase ?? 'stopped'})`;
      return { kind: 'ended', level: state?.error ? 'error' : 'info',
               text: `The session ended${how} and the console exited. Start rollout-console again for a new `
                 + 'session; this page reconnects on its own.' };
    }
    if (state?.error) return { kind: 'error', level: 'error', text: `Error: ${state.error}` };
    if (state?.phase === 'stopped') {
      return { kind: 'ended', level: 'info', text: 'The session ended (stopped). Only a new session can move the robot.' };
    }
    if (state?.phase === 'idle' && state.last_session) {
      const last = state.last_session;
      return { kind: 'idle', level: last.end_cause === 'error' ? 'error' : 'info',
               text: `The ${last.strategy} session ended (${last.end_cause}). No session is running: start a new one.` };
    }
    if (state?.notice) return { kind: 'notice', level: 'warning', text: state.notice };
    if (dropped > 0) {
      return { kind: 'dropped', level: 'error',
               text: `Recording fell behind: ${dropped} frames dropped (episodes were cut to stay consistent). `
                 + 'Lower camera resolution or fps, or use --dataset.vcodec=h264.' };
    }
    if (flash && performance.now() < flash.until) return { kind: 'flash', level: flash.level, text: flash.text };
    return { kind: '', level: 'warning', text: '' };
  }

  function render() {
    const { kind, level, text } = message();
    el.hidden = !text;
    el.dataset.level = level;
    el.dataset.kind = kind;
    if (el.textContent !== text) el.textContent = text;
  }

  controller.addEventListener('rc:state', ({ detail }) => { state = detail; render(); });
  controller.addEventListener('rc:flash', ({ detail }) => {
    flash = { text: detail.text, level: detail.level || 'warning', until: performance.now() + FLASH_MS };
    render();
    setTimeout(render, FLASH_MS + 50);
  });
  // an E-STOP alarm stays while it is undelivered; once delivered (or the page is live again after it
  // failed) it stays a while longer, then the banner goes back to what the session says
  const expire = (ms) => {
    estop.sticky = false;
    estop.until = performance.now() + ms;
    setTimeout(render, ms + 50);
  };
  controller.addEventListener('rc:estop', ({ detail }) => {
    estop = { ...detail, sticky: true };
    if (detail.state === 'delivered') expire(ESTOP_DELIVERED_MS);
    render();
  });
  controller.addEventListener('rc:ack', ({ detail }) => {
    // an E-STOP that reached the server after all ends the alarm about it
    if (estop?.sticky && detail.accepted && detail.phase === 'estopped') {
      estop = { state: 'delivered', text: 'E-STOP delivered (phase estopped).' };
      expire(FLASH_MS);
      render();
    }
  });
  controller.addEventListener('rc:connection', ({ detail }) => {
    connection = detail.state;
    if (detail.live && estop?.sticky && estop.state === 'failed') expire(FLASH_MS);
    render();
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
