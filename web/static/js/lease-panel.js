// LeasePanel: who controls the robot, the explicit hand-over between tabs, and this browser's name.
// Every line it shows is computed from the lease state of the latest state message (leaseView), so a
// message never outlives the situation it was about.

/** Seconds left, for a person: "12 s". */
function secondsLeft(value) {
  return `${Math.max(0, Math.ceil(Number(value) || 0))} s`;
}

function sentence(text) {
  return text ? text.charAt(0).toUpperCase() + text.slice(1) : '';
}

/**
 * What the Control panel says now, from the lease snapshot of a state message (`lease`), the page's role
 * and the answer to this tab's last lease action (`answer`: {ok, reason, holder}, or null). The answer
 * is shown only while the holder it was about still holds (a refusal naming a holder whose tab has
 * closed since is old news). Returns {holder, message}: the text of `lease-holder` and `lease-notice`.
 */
export function leaseView(lease, role, answer = null) {
  const holder = lease?.holder ?? null;
  const holderText = lease?.yours ? 'this tab' : holder ? holder.label : 'nobody (any operator may command)';
  if (role && role !== 'operator') {
    return { holder: holderText, message: 'View only: this link has the viewer token (E-STOP still works).' };
  }
  if (lease?.yours) {
    const asking = lease.request && !lease.request.yours;
    return {
      holder: holderText,
      message: asking
        ? `${lease.request.label} asks for control (${secondsLeft(lease.request.expires_in_s)} left to answer).`
        : 'You hold control: other tabs must ask you for it. Release it before you walk away.',
    };
  }
  if (lease?.request?.yours && holder) {
    return {
      holder: holderText,
      message: `Waiting for ${holder.label} to answer (${secondsLeft(lease.request.expires_in_s)} left).`,
    };
  }
  const why = lease?.notice ? `${sentence(lease.notice)}. ` : '';
  const sameHolder = answer && (answer.holder?.id ?? null) === (holder?.id ?? null);
  const fresh = answer && !answer.ok && sameHolder && !why && !/holds control/.test(answer.reason || '');
  const refused = fresh ? `${sentence(answer.reason)}. ` : '';
  const now = holder
    ? `${holder.label} holds control: ask for it, or take it (their robot motion pauses).`
    : 'Nobody holds control: any operator may command. Take control so the robot pauses if this tab goes away.';
  return { holder: holderText, message: `${why}${refused}${now}`.replace(/\.\. /g, '. ') };
}

export function LeasePanel(root, controller) {
  const q = (id) => root.querySelector(`[data-testid="${id}"]`);
  const holderText = q('lease-holder');
  const take = q('lease-take');
  const ask = q('lease-request');
  const release = q('lease-release');
  const requestBox = q('lease-incoming');
  const requestText = q('lease-incoming-text');
  const accept = q('lease-accept');
  const refuse = q('lease-refuse');
  const notice = q('lease-notice');
  const nameText = q('client-name');
  const nameEdit = q('client-name-edit');
  const nameForm = q('client-name-form');
  const nameInput = q('client-name-input');
  const nameCancel = q('client-name-cancel');
  let answer = null; // the answer to this tab's last lease action
  let shownName = null; // the name the server gave this tab (numbered when another client has it)

  function render() {
    const state = controller.state;
    if (!state) return;
    const lease = state.lease || {};
    const view = leaseView(lease, state.role, answer);
    const holder = lease.holder;
    const viewer = state.role !== 'operator';
    root.dataset.yours = String(Boolean(lease.yours));
    if (holderText.textContent !== view.holder) holderText.textContent = view.holder;
    if (notice.textContent !== view.message) notice.textContent = view.message;
    take.hidden = viewer || Boolean(lease.yours);
    ask.hidden = viewer || Boolean(lease.yours) || !holder || Boolean(lease.request?.yours);
    release.hidden = !lease.yours;
    const incoming = Boolean(lease.yours && lease.request && !lease.request.yours);
    requestBox.hidden = !incoming;
    if (incoming) requestText.textContent = `${lease.request.label} asks for control`;
    if (lease.name) shownName = lease.name;
    if (nameText) nameText.textContent = shownName || controller.label;
  }

  async function act(operation) {
    try {
      answer = await operation();
    } catch (err) {
      answer = { ok: false, reason: err.message, holder: controller.state?.lease?.holder ?? null };
    }
    render();
  }

  take.addEventListener('click', async () => {
    const lease = controller.state?.lease;
    const holder = lease?.holder;
    if (holder && !lease.yours && !window.confirm(`Take control from ${holder.label}? Their robot motion pauses.`)) return;
    act(() => controller.lease('acquire', { force: Boolean(holder) }));
  });
  ask.addEventListener('click', () => act(() => controller.lease('request')));
  release.addEventListener('click', () => act(() => controller.lease('release')));
  accept.addEventListener('click', () => act(() => controller.lease('respond', { accept: true })));
  refuse.addEventListener('click', () => act(() => controller.lease('respond', { accept: false })));

  if (nameEdit && nameForm) {
    nameEdit.addEventListener('click', () => {
      nameForm.hidden = false;
      nameEdit.hidden = true;
      nameInput.value = controller.label;
      nameInput.focus();
      nameInput.select();
    });
    const close = () => {
      nameForm.hidden = true;
      nameEdit.hidden = false;
    };
    nameCancel.addEventListener('click', close);
    nameForm.addEventListener('submit', async (event) => {
      event.preventDefault();
      close();
      try {
        const reply = await controller.rename(nameInput.value);
        shownName = reply?.name || controller.label;
      } catch (err) {
        shownName = controller.label; // used from the next connection on
      }
      render();
    });
  }

  // lease changes need the live socket: not live, the buttons are disabled rather than failing later
  controller.addEventListener('rc:connection', ({ detail }) => {
    for (const button of [take, ask, release, accept, refuse]) button.disabled = !detail.live;
  });
  controller.addEventListener('rc:hello', ({ detail }) => {
    if (detail.name) shownName = detail.name;
    render();
  });
  controller.addEventListener('rc:state', render);
}
