// LeasePanel: who controls the robot, and the explicit hand-over between tabs.

export function LeasePanel(root, controller) {
  const holderText = root.querySelector('[data-testid="lease-holder"]');
  const take = root.querySelector('[data-testid="lease-take"]');
  const ask = root.querySelector('[data-testid="lease-request"]');
  const release = root.querySelector('[data-testid="lease-release"]');
  const requestBox = root.querySelector('[data-testid="lease-incoming"]');
  const requestText = root.querySelector('[data-testid="lease-incoming-text"]');
  const accept = root.querySelector('[data-testid="lease-accept"]');
  const refuse = root.querySelector('[data-testid="lease-refuse"]');
  const notice = root.querySelector('[data-testid="lease-notice"]');

  function report(answer) {
    if (answer && !answer.ok) notice.textContent = answer.reason;
  }

  take.addEventListener('click', async () => {
    const lease = controller.state?.lease;
    const holder = lease?.holder;
    if (holder && !lease.yours && !window.confirm(`Take control from ${holder.label}? Their robot motion pauses.`)) return;
    report(await controller.lease('acquire', { force: Boolean(holder) }).catch((e) => ({ ok: false, reason: e.message })));
  });
  ask.addEventListener('click', async () => {
    report(await controller.lease('request').catch((e) => ({ ok: false, reason: e.message })));
  });
  release.addEventListener('click', async () => {
    report(await controller.lease('release').catch((e) => ({ ok: false, reason: e.message })));
  });
  accept.addEventListener('click', () => controller.lease('respond', { accept: true }).then(report));
  refuse.addEventListener('click', () => controller.lease('respond', { accept: false }).then(report));

  // lease changes need the live socket: not live, the buttons are disabled rather than failing later
  controller.addEventListener('rc:connection', ({ detail }) => {
    for (const button of [take, ask, release, accept, refuse]) button.disabled = !detail.live;
  });

  controller.addEventListener('rc:state', ({ detail }) => {
    const lease = detail.lease || {};
    const holder = lease.holder;
    const viewer = detail.role !== 'operator';
    root.dataset.yours = String(Boolean(lease.yours));
    holderText.textContent = lease.yours ? 'this tab' : holder ? holder.label : 'nobody (any operator may command)';
    take.hidden = viewer || lease.yours;
    take.textContent = holder ? 'Take control' : 'Take control';
    ask.hidden = viewer || lease.yours || !holder || Boolean(lease.request?.yours);
    release.hidden = !lease.yours;
    const incoming = lease.yours && lease.request && !lease.request.yours;
    requestBox.hidden = !incoming;
    if (incoming) requestText.textContent = `${lease.request.label} asks for control`;
    if (lease.notice) notice.textContent = lease.notice;
    if (viewer) notice.textContent = 'View only: this link has the viewer token (estop still works).';
  });
}
