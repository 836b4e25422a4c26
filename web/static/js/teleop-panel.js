// TeleopPanel: drive the (simulated) leader arm with sliders, or by dragging on the top camera.
import { mergeTeleopTargets } from './logic.js';

const SEND_EVERY_MS = 33;

export function TeleopPanel(root, controller) {
  const sliders = [...root.querySelectorAll('input[data-leader-joint]')];
  const readouts = new Map([...root.querySelectorAll('[data-leader-value]')].map((el) => [el.dataset.leaderValue, el]));
  const handover = root.querySelector('[data-testid="handover"]');
  const handoverBar = root.querySelector('[data-testid="handover-progress"]');
  const driver = root.querySelector('[data-testid="teleop-driver"]');
  let dragging = false;
  let lastSent = -Infinity;
  let pending = null;
  let timer = null;

  function flush() {
    timer = null;
    const message = pending;
    pending = null;
    const socket = controller.socket;
    if (!message || !socket || socket.readyState !== WebSocket.OPEN) return;
    socket.send(JSON.stringify({ type: 'teleop', ...message }));
    lastSent = performance.now();
  }

  // At most one message per SEND_EVERY_MS, and the last target always goes out (trailing edge): a slider
  // released inside the window must not leave the leader short of where the operator put it.
  function send(message) {
    pending = mergeTeleopTargets(pending, message);
    if (timer !== null) return; // a send is already scheduled; it carries the newest target
    const wait = SEND_EVERY_MS - (performance.now() - lastSent);
    if (wait <= 0) flush();
    else timer = setTimeout(flush, wait);
  }

  for (const slider of sliders) {
    slider.addEventListener('pointerdown', () => { dragging = true; });
    slider.addEventListener('pointerup', () => { dragging = false; });
    slider.addEventListener('input', () => send({ joints: { [slider.dataset.leaderJoint]: Number(slider.value) } }));
  }

  const top = document.querySelector('[data-camera="top"] canvas');
  if (top) {
    const drag = (event) => {
      if (!(event.buttons & 1) || controller.state?.phase !== 'correcting') return;
      const box = top.getBoundingClientRect();
      const u = Math.min(1, Math.max(0, (event.clientX - box.left) / box.width));
      const v = Math.min(1, Math.max(0, (event.clientY - box.top) / box.height));
      send({ pixel: { camera: 'top', u, v } });
      event.preventDefault();
    };
    top.addEventListener('pointerdown', (e) => { top.setPointerCapture(e.pointerId); drag(e); });
    top.addEventListener('pointermove', drag);
    top.style.touchAction = 'none';
  }

  let live = controller.live;
  controller.addEventListener('rc:connection', ({ detail }) => {
    live = detail.live;
    for (const slider of sliders) slider.disabled = !live || controller.state?.teleop?.driver === 'expert';
  });

  controller.addEventListener('rc:state', ({ detail }) => {
    const teleop = detail.teleop;
    if (!teleop) return;
    root.hidden = false;
    driver.textContent = teleop.driver === 'expert' ? 'driven by the scripted expert' : 'drag on the top camera or use the sliders';
    for (const slider of sliders) {
      const name = slider.dataset.leaderJoint;
      slider.disabled = !live || teleop.driver === 'expert';
      if (!dragging && document.activeElement !== slider) slider.value = String(teleop.targets[name]);
      const readout = readouts.get(name);
      if (readout) readout.textContent = teleop.joints[name].toFixed(1);
    }
    const h = teleop.handover;
    handover.hidden = !(h && h.active);
    if (h) handoverBar.value = h.progress;
  });
}
