// Pure helpers shared by the views (no DOM access here, so they are easy to reason about).

/** Phases in which the robot moves under the policy or the human. */
export const MOVING_PHASES = new Set(['autonomous', 'correcting']);

/**
 * The explicit command a pause/resume toggle (Space, a pedal) means in a phase, or null.
 * The page owns the toggle; the server only ever receives explicit commands. An estop is never
 * cleared by a toggle key: that takes the Resume button.
 * @param {string} phase the latest known phase
 */
export function pauseToggleCommand(phase) {
  if (phase === 'autonomous' || phase === 'correcting' || phase === 'starting') return 'pause';
  if (phase === 'paused') return 'resume';
  return null;
}

/** The explicit command the takeover/handback toggle (Tab, a pedal) means in a phase, or null. */
export function takeoverToggleCommand(phase) {
  if (phase === 'paused') return 'takeover';
  if (phase === 'correcting') return 'handback';
  return null;
}

/** Default hotkeys (as LeRobot's): KeyboardEvent.code per action; remapped ones live in localStorage. */
export const DEFAULT_KEYS = {
  pause_resume: 'Space',
  takeover_handback: 'Tab',
  upload: 'Enter',
  stop: 'Escape',
};

export function loadKeymap(storage) {
  try {
    return { ...DEFAULT_KEYS, ...JSON.parse(storage.getItem('rcKeymap') || '{}') };
  } catch {
    return { ...DEFAULT_KEYS };
  }
}

/** The action a key press means under a keymap, or null. */
export function actionForKey(keymap, code) {
  for (const [action, key] of Object.entries(keymap)) if (key === code) return action;
  return null;
}

/** Format a number or show a dash. */
export function fmt(value, digits = 1) {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  return Number(value).toFixed(digits);
}

/** True when a key event comes from a text field (shortcuts must not fire while typing). */
export function isTyping(event) {
  const el = event.target;
  if (!el || !el.tagName) return false;
  const tag = el.tagName.toLowerCase();
  return tag === 'input' || tag === 'textarea' || tag === 'select' || el.isContentEditable;
}

/** One short line describing an event for the log. */
export function describeEvent(event) {
  const d = event.data || {};
  switch (event.kind) {
    case 'phase_changed':
      return `${d.previous} → ${d.phase} (${d.cause}${d.source && d.source !== 'session' ? ', ' + d.source : ''})`;
    case 'command':
      return `${d.name} ${d.accepted ? 'accepted' : 'refused'}${d.detail ? ': ' + d.detail : ''} [${d.source}]`;
    case 'notice':
      return d.message;
    case 'error':
      return `error: ${d.message}`;
    default:
      return `${event.kind}${Object.keys(d).length ? ' ' + JSON.stringify(d) : ''}`;
  }
}

/** Parse a camera packet: 16-byte header ("RCJ1", uint32 seq, float64 capture time), then JPEG. */
export function parsePacket(buffer) {
  const view = new DataView(buffer);
  const magic = String.fromCharCode(view.getUint8(0), view.getUint8(1), view.getUint8(2), view.getUint8(3));
  if (magic !== 'RCJ1') throw new Error(`bad camera packet magic ${magic}`);
  return { seq: view.getUint32(4, true), capturedAt: view.getFloat64(8, true), jpeg: buffer.slice(16) };
}

/** WebSocket URL for a path on this page's server. */
export function wsUrl(path) {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}${path}`;
}
