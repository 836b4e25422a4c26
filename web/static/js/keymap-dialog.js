// KeymapDialog: remap the page hotkeys (stored per browser in localStorage).
// The toggles and their labels are the server's (the WebSocket hello's `toggles`, shared with the foot
// pedal); Stop is the page's own hotkey (it asks first, so it is no toggle).
import { FORBIDDEN_KEYS, keyLabel, loadKeymap, toggleLabels } from './logic.js';

const STOP = { stop: 'Stop (asks first)' };

export function KeymapDialog(dialog, opener, hint, controller) {
  const list = dialog.querySelector('[data-testid="keymap-list"]');
  let LABELS = { ...STOP }; // until the hello brings the toggles this strategy offers

  controller.addEventListener('rc:hello', ({ detail }) => {
    LABELS = { ...toggleLabels(detail.toggles, detail.commands), ...STOP };
    render();
  });

  function render() {
    const keymap = loadKeymap(localStorage);
    list.innerHTML = '';
    for (const [action, label] of Object.entries(LABELS)) {
      const row = document.createElement('li');
      const name = document.createElement('span');
      name.textContent = label;
      const key = document.createElement('button');
      key.type = 'button';
      key.className = 'cmd small';
      key.dataset.keyAction = action;
      key.textContent = keyLabel(keymap[action]);
      key.title = keymap[action];
      key.addEventListener('click', () => capture(action, key));
      row.append(name, key);
      list.append(row);
    }
    hint.textContent = Object.entries(LABELS).map(([a, l]) => `${keyLabel(keymap[a])} ${l.toLowerCase()}`).join(' · ');
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
