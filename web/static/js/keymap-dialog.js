// KeymapDialog: every action of this strategy and its key; remap the page hotkeys (stored per browser in
// localStorage). The toggles and their labels are the server's (the WebSocket hello's `toggles`, shared
// with the foot pedal); the direct actions (save, its outcomes, discard, mark, ...) are named by the
// page's own buttons, so the dialog, the buttons and the tablet read the same labels. Stop is the page's
// own hotkey (it asks first). Clear E-STOP shows the toggle key that sends it (pause/resume while estopped);
// E-STOP and the commands that need more than a key are listed without one.
import { DIRECT_ACTIONS, FORBIDDEN_KEYS, keyLabel, loadKeymap, toggleLabels } from './logic.js';

const buttonText = (selector) => document.querySelector(selector)?.textContent.trim() || '';

/** The remappable actions of this page, in the command bar's order: {action: label}. */
function remappable(hello) {
  const labels = { ...toggleLabels(hello?.toggles, hello?.commands) };
  for (const [action, direct] of Object.entries(DIRECT_ACTIONS)) {
    const label = buttonText(direct.button);
    if (label) labels[action] = label;
  }
  labels.stop = `${buttonText('[data-command="stop"]') || 'Stop'} (asks first)`;
  return labels;
}

/** The toggles (action, phase) whose press sends `command` (the server's table), e.g. reset while estopped. */
function togglesSending(hello, command) {
  const found = [];
  for (const [action, toggle] of Object.entries(hello?.toggles || {})) {
    for (const [phase, step] of Object.entries(toggle.phases || {})) {
      if (step.command === command) found.push({ action, label: toggle.label, phase });
    }
  }
  return found;
}

/** Actions without a key of their own: [label, how to do it, the key (KeyboardEvent.code) or null]. */
function keyless(hello, keymap) {
  const rows = [];
  const reset = buttonText('[data-command="reset"]');
  if (reset) {
    const via = togglesSending(hello, 'reset').filter(({ action }) => action in keymap);
    for (const { action, label, phase } of via) rows.push([reset, `the ${label.toLowerCase()} key while ${phase}`, keymap[action]]);
    if (!via.length) rows.push([reset, 'its button only: clearing an E-STOP is a deliberate step', null]);
  }
  if (document.querySelector('[data-exclude], [data-testid="eval-episodes"]')) {
    rows.push(['Exclude an episode', 'in the evaluation panel (it asks for a reason)', null]);
  }
  rows.push([buttonText('[data-command="estop"]') || 'E-STOP', 'the red button, always enabled; or the hardware stop', null]);
  return rows;
}

export function KeymapDialog(dialog, opener, hint, controller) {
  const list = dialog.querySelector('[data-testid="keymap-list"]');
  let hello = null;
  let labels = remappable(null); // until the hello brings the toggles this strategy offers

  controller.addEventListener('rc:hello', ({ detail }) => {
    hello = detail;
    labels = remappable(hello);
    render();
  });

  function render() {
    const keymap = loadKeymap(localStorage);
    list.innerHTML = '';
    for (const [action, label] of Object.entries(labels)) {
      const row = document.createElement('li');
      row.dataset.action = action;
      const name = document.createElement('span');
      name.textContent = label;
      const key = document.createElement('button');
      key.type = 'button';
      key.className = 'cmd small';
      key.dataset.keyAction = action;
      key.textContent = keyLabel(keymap[action]);
      key.title = `${keymap[action]}: click, then press the new key`;
      key.addEventListener('click', () => capture(action, key));
      row.append(name, key);
      list.append(row);
    }
    for (const [label, how, code] of keyless(hello, keymap)) {
      const row = document.createElement('li');
      row.className = code ? 'via-toggle' : 'keyless';
      const name = document.createElement('span');
      name.textContent = label;
      const note = document.createElement('span');
      note.className = 'hint';
      note.textContent = code ? `${keyLabel(code)}: ${how}` : `no key: ${how}`;
      row.append(name, note);
      list.append(row);
    }
    hint.textContent = Object.entries(labels).map(([a, l]) => `${keyLabel(keymap[a])} ${l.toLowerCase()}`).join(' · ');
  }

  function capture(action, button) {
    button.textContent = 'press a key…';
    document.body.dataset.capturingKey = 'true';
    const onKey = (event) => {
      event.preventDefault();
      event.stopPropagation();
      if (FORBIDDEN_KEYS.has(event.code)) {
        button.textContent = `${event.code} moves the focus; press another key…`;
        return;
      }
      const keymap = loadKeymap(localStorage);
      // one key, one action: an action that had this key takes this action's old key
      for (const [other, code] of Object.entries(keymap)) {
        if (other !== action && code === event.code) keymap[other] = keymap[action];
      }
      keymap[action] = event.code;
      localStorage.setItem('rcKeymap', JSON.stringify(keymap));
      delete document.body.dataset.capturingKey;
      document.removeEventListener('keydown', onKey, true);
      document.dispatchEvent(new CustomEvent('rc:keymap'));
      render();
    };
    document.addEventListener('keydown', onKey, true);
  }

  dialog.querySelector('[data-testid="keymap-reset"]').addEventListener('click', () => {
    localStorage.removeItem('rcKeymap'); // the defaults of this version, whatever they become
    document.dispatchEvent(new CustomEvent('rc:keymap'));
    render();
  });
  dialog.querySelector('[data-testid="keymap-close"]').addEventListener('click', () => dialog.close());
  opener.addEventListener('click', () => { render(); dialog.showModal(); });
  render();
}
