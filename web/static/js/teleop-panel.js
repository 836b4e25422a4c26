// TeleopPanel: drive the (simulated) leader arm with sliders, or by dragging (mouse or finger) on the top
// camera: the gripper goes to the table point under the pointer. The desktop page and the tablet share it.
import { mergeTeleopTargets } from './logic.js';

const SEND_EVERY_MS = 33;
export const DRAG_HINT = 'Drag on the top camera: the gripper goes to the point under your finger. '
  + 'Each slider moves one joint.';

/**
 * The point (u, v in 0..1) of the picture under client (x, y), or null outside the picture.
 * The canvas may be letterboxed (object-fit: contain): only the drawn picture counts.
 */
export function pictureFraction(box, width, height, x, y) {
  const scale = Math.min(box.width / width, box.height / height);
  if (!(scale > 0)) return null;
  const drawnW = width * scale;
  const drawnH = height * scale;
  const left = box.left + (box.width - drawnW) / 2;
  const top = box.top + (box.height - drawnH) / 2;
  const u = (x - left) / drawnW;
  const v = (y - top) / drawnH;
  if (u < -0.02 || u > 1.02 || v < -0.02 || v > 1.02) return null; // a finger just off the edge still counts
  return { u: Math.min(1, Math.max(0, u)), v: Math.min(1, Math.max(0, v)) };
}

export function TeleopPanel(root, controller) {
  const sliders = [...root.querySelectorAll('input[data-leader-joint]')];
  const readouts = new Map([...root.querySelectorAll('[data-leader-value]')].map((el) => [el.dataset.leaderValue, el]));
  const handover = root.querySelector('[data-testid="handover"]');
  const handoverBar = root.querySelector('[data-testid="handover-progress"]');
  const driver = root.querySelector('[data-testid="teleop-driver"]');
  let dragging = null; // the slider a pointer holds (its value is the operator's, not the server's)
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
    slider.style.touchAction = 'none'; // a finger on a slider moves the joint, never the page
    slider.addEventListener('pointerdown', () => { dragging = slider; });
    // a finger lifted leaves no focus behind, so the slider follows the leader again (and Space is a hotkey)
    slider.addEventListener('pointerup', (event) => { if (event.pointerType === 'touch') slider.blur(); });
    for (const end of ['pointerup', 'pointercancel', 'lostpointercapture', 'blur']) {
      slider.addEventListener(end, () => { if (dragging === slider) dragging = null; });
    }
    slider.addEventListener('input', () => send({ joints: { [slider.dataset.leaderJoint]: Number(slider.value) } }));
  }

  const top = document.querySelector('[data-camera="top"] canvas');
  if (top) {
    let held = null; // the pointer (mouse button or finger) dragging on the camera
    const drag = (event) => {
      if (held !== event.pointerId || controller.state?.phase !== 'correcting') return;
      const at = pictureFraction(top.getBoundingClientRect(), top.width, top.height, event.clientX, event.clientY);
      if (at) send({ pixel: { camera: 'top', u: at.u, v: at.v } });
      event.preventDefault();
    };
    top.addEventListener('pointerdown', (event) => {
      if (event.pointerType === 'mouse' && event.button !== 0) return;
      held = event.pointerId;
      top.setPointerCapture(event.pointerId);
      drag(event);
    });
    top.addEventListener('pointermove', drag);
    for (const end of ['pointerup', 'pointercancel', 'lostpointercapture']) {
      top.addEventListener(end, (event) => { if (held === event.pointerId) held = null; });
    }
    top.style.touchAction = 'none';
    top.closest('[data-camera]')?.setAttribute('data-drag', 'leader');
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
    driver.textContent = teleop.driver === 'expert' ? 'driven by the scripted expert' : DRAG_HINT;
    for (const slider of sliders) {
      const name = slider.dataset.leaderJoint;
      slider.disabled = !live || teleop.driver === 'expert';
      if (dragging !== slider && document.activeElement !== slider) slider.value = String(teleop.targets[name]);
      const readout = readouts.get(name);
      if (readout) readout.textContent = teleop.joints[name].toFixed(1);
    }
    const h = teleop.handover;
    handover.hidden = !(h && h.active);
    if (h) handoverBar.value = h.progress;
  });
}
