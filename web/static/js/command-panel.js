// Command buttons and keyboard shortcuts; every input ends in controller.command(<explicit name>).
// While the page is not live every command but E-STOP is disabled (buttons and hotkeys).
import { DIRECT_ACTIONS, actionForKey, hotkeyBlocked, loadKeymap, toggleStep } from './logic.js';

export function CommandPanel(root, controller, dialog) {
  const buttons = [...document.querySelectorAll('button[data-command]')];
  let phase = 'starting';
  let available = [];
  let live = controller.live;
  let toggles = {}; // the server's toggle table (hello), shared with the foot pedal

  function send(name, args = {}) {
    return controller.command(name, args).then((ack) => {
      if (!ack.accepted) flash(`${name}: ${ack.detail}`);
      return ack;
    }).catch((err) => flash(`${name}: ${err.message}`));
  }

  function flash(text) {
    controller.emit('rc:flash', { text });
  }

  function confirmStop() {
    if (dialog.open) return;
    dialog.showModal();
  }

  dialog.querySelector('[data-testid="confirm-ok"]').addEventListener('click', () => {
    dialog.close();
    if (live) send('stop');
    else flash('stop: not sent, the page is not connected to the console');
  });
  dialog.querySelector('[data-testid="confirm-cancel"]').addEventListener('click', () => dialog.close());

  const outcomeButtons = [...document.querySelectorAll('button[data-save-outcome]')];
  // A mouse or touch press leaves no focus on the button, so the next Space is the hotkey rather than
  // a second press of that button (keyboard activation, event.detail 0, keeps the focus where it is).
  const unfocusAfterPointer = (event) => {
    if (event.detail > 0) event.currentTarget.blur();
  };

  for (const button of outcomeButtons) {
    button.addEventListener('click', (event) => {
      unfocusAfterPointer(event);
      send('save', { outcome: button.dataset.saveOutcome });
    });
  }

  for (const button of buttons) {
    button.addEventListener('click', (event) => {
      unfocusAfterPointer(event);
      const name = button.dataset.command;
      if (name === 'stop') confirmStop();
      else send(name);
    });
  }

  function enable() {
    for (const button of buttons) {
      const name = button.dataset.command;
      button.disabled = name !== 'estop' && (!live || !available.includes(name));
    }
    for (const button of outcomeButtons) button.disabled = !live || !available.includes('save');
  }

  // the latest phase: from events and acks as soon as they arrive, confirmed by state at 10 Hz
  controller.addEventListener('rc:event', ({ detail }) => {
    if (detail.kind === 'phase_changed') phase = detail.data.phase;
  });
  controller.addEventListener('rc:ack', ({ detail }) => {
    if (detail.accepted && detail.phase) phase = detail.phase;
  });
  controller.addEventListener('rc:hello', ({ detail }) => { toggles = detail.toggles || {}; });
  controller.addEventListener('rc:state', ({ detail }) => {
    phase = detail.phase;
    available = detail.available_commands || [];
    enable();
  });
  controller.addEventListener('rc:connection', ({ detail }) => {
    live = detail.live;
    enable();
    if (!live && dialog.open) dialog.close();
  });

  let keymap = loadKeymap(localStorage);
  document.addEventListener('rc:keymap', () => { keymap = loadKeymap(localStorage); });

  document.addEventListener('keydown', (event) => {
    // Enter confirms the stop dialog natively (its Stop button has the focus); Esc closes it natively
    if (event.repeat || document.body.dataset.capturingKey || document.querySelector('dialog[open]')) return;
    if (hotkeyBlocked(event)) return; // typing, a browser shortcut, or a key the focused control owns
    const action = actionForKey(keymap, event.code);
    if (!action) return;
    event.preventDefault();
    if (!live) {
      flash(`${event.code}: not sent, the page is not connected to the console (only E-STOP works)`);
      return;
    }
    // A hotkey always gets an answer: the explicit command goes to the server (which says why it
    // refuses), or the page says why the toggle means nothing in this phase.
    if (action === 'stop') {
      confirmStop();
      return;
    }
    const direct = DIRECT_ACTIONS[action];
    if (direct) {
      if (document.querySelector(direct.button)) send(direct.command, direct.args);
      else flash(`${event.code}: this session has no ${direct.command}`);
      return;
    }
    const step = toggleStep(toggles, action, phase);
    if (step) send(step.command, step.args);
    else if (phase === 'estopped') {
      const reset = document.querySelector('[data-command="reset"]')?.textContent.trim() || 'Clear E-STOP';
      flash(`E-stopped: clear the E-STOP first (${reset}, or the pause/resume key)`);
    }
    else flash(`${event.code}: ${toggles[action]?.label.toLowerCase() ?? action} does nothing while ${phase}`);
  });

  return { send };
}
