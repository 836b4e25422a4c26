// Command buttons and keyboard shortcuts; every input ends in controller.command(<explicit name>).
import { actionForKey, isTyping, loadKeymap, pauseToggleCommand, takeoverToggleCommand } from './logic.js';

export function CommandPanel(root, controller, dialog) {
  const buttons = [...document.querySelectorAll('button[data-command]')];
  let phase = 'starting';
  let available = [];

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
    send('stop');
  });
  dialog.querySelector('[data-testid="confirm-cancel"]').addEventListener('click', () => dialog.close());

  const outcomeButtons = [...document.querySelectorAll('button[data-save-outcome]')];
  for (const button of outcomeButtons) {
    button.addEventListener('click', () => send('save', { outcome: button.dataset.saveOutcome }));
  }

  for (const button of buttons) {
    button.addEventListener('click', () => {
      const name = button.dataset.command;
      if (name === 'stop') confirmStop();
      else send(name);
    });
  }

  // the latest phase: from events and acks as soon as they arrive, confirmed by state at 10 Hz
  controller.addEventListener('rc:event', ({ detail }) => {
    if (detail.kind === 'phase_changed') phase = detail.data.phase;
  });
  controller.addEventListener('rc:ack', ({ detail }) => {
    if (detail.accepted && detail.phase) phase = detail.phase;
  });
  controller.addEventListener('rc:state', ({ detail }) => {
    phase = detail.phase;
    available = detail.available_commands || [];
    for (const button of buttons) {
      const name = button.dataset.command;
      button.disabled = name !== 'estop' && !available.includes(name);
    }
    for (const button of outcomeButtons) button.disabled = !available.includes('save');
  });

  let keymap = loadKeymap(localStorage);
  document.addEventListener('rc:keymap', () => { keymap = loadKeymap(localStorage); });

  document.addEventListener('keydown', (event) => {
    if (isTyping(event) || event.repeat || document.body.dataset.capturingKey) return;
    if (dialog.open) {
      if (event.key === 'Enter') {
        event.preventDefault();
        dialog.querySelector('[data-testid="confirm-ok"]').click();
      }
      return; // Esc closes the dialog natively
    }
    const action = actionForKey(keymap, event.code);
    if (!action) return;
    event.preventDefault();
    // A hotkey always gets an answer: the explicit command goes to the server (which says why it
    // refuses), or the page says why the toggle means nothing in this phase.
    if (action === 'pause_resume') {
      const name = pauseToggleCommand(phase);
      if (name) send(name);
      else if (phase === 'estopped') flash('E-stopped: click Resume to clear the estop (keys never clear it)');
      else flash(`${event.code}: pause/resume does nothing while ${phase}`);
    } else if (action === 'takeover_handback') {
      const name = takeoverToggleCommand(phase);
      if (name) send(name);
      else flash(`${event.code}: take over works while paused, hand back while correcting (now ${phase})`);
    } else if (action === 'upload') {
      send('upload');
    } else if (action === 'stop') {
      confirmStop();
    }
  });

  return { send };
}
