// Pure helpers shared by the views (no DOM access here, so they are easy to reason about).

/** Phases in which the robot moves under the policy or the human. */
export const MOVING_PHASES = new Set(['autonomous', 'correcting']);

/**
 * The explicit command ({command, args}) a toggle hotkey means in a phase, or null when it means nothing.
 * The table is the server's (the WebSocket hello's `toggles`, the same one the foot pedal uses), so a
 * hotkey and a pedal always agree; the server only ever receives explicit commands. No toggle clears an
 * estop: that takes the Resume button.
 * @param {object} toggles hello.toggles: {action: {label, needs, phases: {phase: {command, args}}}}
 * @param {string} action pause_resume, takeover_handback or upload
 * @param {string} phase the latest known phase
 */
export function toggleStep(toggles, action, phase) {
  return toggles?.[action]?.phases?.[phase] ?? null;
}

/** The toggles a strategy offers (its commands include what the toggle needs), as {action: label}. */
export function toggleLabels(toggles, commands) {
  const have = new Set(commands || []);
  return Object.fromEntries(Object.entries(toggles || {})
    .filter(([, toggle]) => !toggle.needs || have.has(toggle.needs))
    .map(([action, toggle]) => [action, toggle.label]));
}

/**
 * Default hotkeys: KeyboardEvent.code per action; remapped ones live in localStorage.
 * LeRobot's terminal keys are Space / Tab / Enter / Esc, but in a browser Tab and Enter navigate and
 * activate the focused control, so take over / hand back is T and upload is U here. Space keeps
 * LeRobot's meaning but only while no control has focus (on a focused button Space presses it).
 */
export const DEFAULT_KEYS = {
  pause_resume: 'Space',
  takeover_handback: 'KeyT',
  upload: 'KeyU',
  stop: 'Escape',
  // direct actions (DIRECT_ACTIONS): one key, one explicit command, in every phase
  save: 'KeyS',
  save_success: 'Digit1',
  save_failure: 'Digit2',
  save_unknown: 'Digit3',
  discard: 'KeyD',
  mark: 'KeyM',
  end_episode: 'KeyE',
  end_reset: 'KeyN',
};

/**
 * Hotkeys that always send one explicit command (the server refuses it, and says why, when the phase does
 * not allow it). `button` is the page's button whose label names the action (the one set of labels).
 * Outcomes 1 / 2 / 3 and N are the evaluation's keys (docs/evaluate.md), now for every strategy with save.
 */
export const DIRECT_ACTIONS = {
  save: { command: 'save', args: {}, button: '[data-command="save"]' },
  save_success: { command: 'save', args: { outcome: 'success' }, button: '[data-save-outcome="success"]' },
  save_failure: { command: 'save', args: { outcome: 'failure' }, button: '[data-save-outcome="failure"]' },
  save_unknown: { command: 'save', args: { outcome: 'unknown' }, button: '[data-save-outcome="unknown"]' },
  discard: { command: 'discard', args: {}, button: '[data-command="discard"]' },
  mark: { command: 'mark', args: {}, button: '[data-command="mark"]' },
  end_episode: { command: 'end_episode', args: {}, button: '[data-command="end_episode"]' },
  end_reset: { command: 'end_reset', args: {}, button: '[data-command="end_reset"]' },
};

/** Keys a hotkey may never use: Tab moves the focus between controls. */
export const FORBIDDEN_KEYS = new Set(['Tab']);

/** Keys that act on the focused control or move the focus: hotkeys on them only fire with no control focused. */
export const NAVIGATION_KEYS = new Set([
  'Tab', 'Enter', 'NumpadEnter', 'Space', 'ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight',
  'Home', 'End', 'PageUp', 'PageDown',
]);

export function loadKeymap(storage) {
  let stored = {};
  try {
    stored = JSON.parse(storage.getItem('rcKeymap') || '{}') || {};
  } catch {
    stored = {};
  }
  const keymap = { ...DEFAULT_KEYS };
  for (const [action, code] of Object.entries(stored)) {
    if (action in DEFAULT_KEYS && typeof code === 'string' && !FORBIDDEN_KEYS.has(code)) keymap[action] = code;
  }
  return keymap;
}

/** A KeyboardEvent.code as a person reads it: KeyT -> T, Digit1 -> 1, Escape -> Esc. */
export function keyLabel(code) {
  if (/^Key[A-Z]$/.test(code)) return code.slice(3);
  if (/^Digit[0-9]$/.test(code)) return code.slice(5);
  return { Escape: 'Esc', ArrowUp: '↑', ArrowDown: '↓', ArrowLeft: '←', ArrowRight: '→' }[code] || code;
}

/** The action a key press means under a keymap, or null. */
export function actionForKey(keymap, code) {
  for (const [action, key] of Object.entries(keymap)) if (key === code) return action;
  return null;
}

/**
 * Two leader targets waiting for the same throttled send, as one: joint targets add up (each slider sends
 * its own joint), any other target (a pixel, a tip) replaces what waits, since it sets the whole arm.
 */
export function mergeTeleopTargets(pending, message) {
  if (pending && pending.joints && message.joints && !message.pixel && !message.tip) {
    return { ...pending, ...message, joints: { ...pending.joints, ...message.joints } };
  }
  return message;
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

const INTERACTIVE_ROLES = new Set(['button', 'link', 'checkbox', 'radio', 'slider', 'tab', 'menuitem', 'switch', 'option']);

/** True for an element that reacts to keys itself when focused (a button, a link, a form field). */
export function isControl(el) {
  if (!el || !el.tagName) return false;
  const tag = el.tagName.toLowerCase();
  if (['button', 'input', 'select', 'textarea', 'summary', 'video', 'audio'].includes(tag)) return true;
  if (tag === 'a' && el.hasAttribute('href')) return true;
  if (el.isContentEditable) return true;
  const role = el.getAttribute && el.getAttribute('role');
  return Boolean(role && INTERACTIVE_ROLES.has(role));
}

/**
 * Why a key press must not run a hotkey, or null when it may: never while typing, never with a
 * modifier (browser shortcuts), never Tab, and never a navigation key (Enter, Space, arrows, ...)
 * while a control has focus (the browser gives that key to the control).
 */
export function hotkeyBlocked(event) {
  if (isTyping(event)) return 'typing';
  if (event.ctrlKey || event.metaKey || event.altKey) return 'modifier';
  if (FORBIDDEN_KEYS.has(event.code)) return 'focus navigation';
  if (NAVIGATION_KEYS.has(event.code) && isControl(event.target)) return 'a control has focus';
  return null;
}

/** "last seen 12 s ago" for a Date.now() timestamp, or an empty string when never seen. */
export function lastSeenText(seenAt, now) {
  if (seenAt === null || seenAt === undefined) return '';
  const seconds = Math.max(0, Math.floor((now - seenAt) / 1000));
  if (seconds < 120) return `last seen ${seconds} s ago`;
  return `last seen ${Math.floor(seconds / 60)} min ago`;
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
