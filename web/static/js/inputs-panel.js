// InputsPanel: server-side inputs (the foot pedal): their state and, when broken, how to fix them.

export function InputsPanel(root, controller) {
  const state = root.querySelector('[data-testid="pedal-status"]');
  const message = root.querySelector('[data-testid="pedal-message"]');
  const fix = root.querySelector('[data-testid="pedal-fix"]');
  controller.addEventListener('rc:state', ({ detail }) => {
    const pedal = detail.inputs?.pedal || { state: 'disabled' };
    state.dataset.state = pedal.state;
    state.textContent = pedal.state;
    message.textContent = pedal.message || (pedal.state === 'disabled' ? 'no pedal configured (--pedal.device_path)' : '');
    fix.textContent = pedal.fix || '';
    fix.hidden = !pedal.fix;
  });
}
