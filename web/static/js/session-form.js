// The idle page: the New session form (prefilled from the last session) and the list of past sessions.
import { sessionBody, errorsByField, prefillFromConfig, describeSession } from './session-logic.js';

const STRATEGY_HELP = {
  base: 'the policy runs; nothing is recorded',
  sentry: 'the policy runs; every episode is recorded',
  highlight: 'the policy runs; keep the last seconds when you press Mark',
  dagger: 'the policy runs; you take over with the leader arm and corrections are recorded',
  episodic: 'evaluate policies episode by episode, with outcomes',
};

async function getJson(path) {
  const response = await fetch(path, { headers: { Accept: 'application/json' } });
  if (!response.ok) throw new Error(`${path}: ${response.status}`);
  return response.json();
}

/** The New session form: fills itself from the last session, posts, and shows each refusal at its field. */
export function NewSessionForm(form, controller) {
  const field = (name) => form.elements.namedItem(name);
  const strategy = field('strategy');
  const submit = form.querySelector('[data-testid="start-session"]');
  let last = null; // the session part of the last session's config (what the body is built on)

  function showSource() {
    const source = form.querySelector('input[name="policy_source"]:checked')?.value;
    for (const input of form.querySelectorAll('[data-source]')) input.hidden = input.dataset.source !== source;
  }

  function showStrategy() {
    const type = strategy.value;
    for (const el of form.querySelectorAll('[data-for-strategy]')) el.hidden = el.dataset.forStrategy !== type;
    form.querySelector('[data-records]').hidden = type === 'base';
    form.querySelector('[data-strategy-help]').textContent = STRATEGY_HELP[type] || '';
  }

  function clearErrors() {
    for (const out of form.querySelectorAll('[data-error-for]')) {
      out.hidden = true;
      out.textContent = '';
    }
  }

  function showErrors(issues) {
    clearErrors();
    const known = [...form.querySelectorAll('[data-error-for]')].map((el) => el.dataset.errorFor);
    for (const [where, messages] of errorsByField(issues, known)) {
      const out = form.querySelector(`[data-error-for="${CSS.escape(where)}"]`);
      out.textContent = messages.join(' · ');
      out.hidden = false;
    }
  }

  function fill(config) {
    last = config;
    const values = prefillFromConfig(config);
    strategy.value = values.strategy;
    field('record').value = values.record;
    form.querySelector(`input[name="policy_source"][value="${values.source}"]`).checked = true;
    if (values.builtin) field('builtin').value = values.builtin;
    field('policy_path').value = values.path;
    field('policy_url').value = values.url;
    field('engine').value = values.engine;
    field('task').value = values.task;
    field('repo_id').value = values.repoId;
    field('root').value = values.root;
    field('fps').value = values.fps;
    showSource();
    showStrategy();
  }

  async function load() {
    try {
      const sessions = await getJson('/api/v1/sessions');
      const previous = sessions.data.at(-1);
      fill(previous ? previous.config : await getJson('/api/v1/config'));
      form.dataset.ready = 'true';
    } catch (err) {
      showErrors([{ loc: ['body'], msg: `could not read the last session: ${err.message}` }]);
    }
  }

  form.addEventListener('change', (event) => {
    if (event.target.name === 'policy_source') showSource();
    if (event.target === strategy) showStrategy();
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors();
    const source = form.querySelector('input[name="policy_source"]:checked').value;
    const body = sessionBody(last || {}, {
      strategy: strategy.value,
      record: field('record').value,
      source,
      builtin: field('builtin').value,
      path: field('policy_path').value,
      url: field('policy_url').value,
      engine: field('engine').value,
      task: field('task').value,
      repoId: field('repo_id').value,
      root: field('root').value,
      fps: field('fps').value,
    });
    submit.disabled = true;
    submit.textContent = 'Starting…';
    try {
      // A new session starts with nobody holding control, as on a fresh page: this page reloads to draw the
      // session, and a holder's page that goes away releases control and pauses a moving robot.
      if (controller.state?.lease?.yours) await controller.lease('release');
      const response = await fetch('/api/v1/sessions', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Client-Id': controller.clientId },
        body: JSON.stringify(body),
      });
      const answer = await response.json().catch(() => ({}));
      if (response.status === 201) {
        form.dataset.started = answer.id;
        submit.textContent = 'Started: opening the session…';
        window.location.reload(); // the session's own page (its strategy's buttons)
        return;
      }
      showErrors(Array.isArray(answer.detail) ? answer.detail : [{ loc: ['body'], msg: answer.detail || `refused (${response.status})` }]);
    } catch (err) {
      showErrors([{ loc: ['body'], msg: `not sent: ${err.message}` }]);
    }
    submit.disabled = false;
    submit.textContent = 'Start session';
  });

  load();
}

/** Past sessions, newest first, with the last one's episodes (its dataset stays readable while idle). */
export function SessionList(list) {
  async function render() {
    let sessions;
    try {
      sessions = (await getJson('/api/v1/sessions')).data;
    } catch (err) {
      list.textContent = `could not read the sessions: ${err.message}`;
      return;
    }
    list.replaceChildren();
    const newest = [...sessions].reverse();
    for (const [index, record] of newest.entries()) {
      const item = document.createElement('li');
      item.dataset.sessionId = record.id;
      item.dataset.endCause = record.end_cause || 'running';
      item.dataset.strategy = record.strategy;
      const line = document.createElement('div');
      line.className = 'session-line';
      line.textContent = describeSession(record, Date.now());
      item.append(line);
      if (index === 0 && record.dataset) item.append(episodeList());
      list.append(item);
    }
    if (!sessions.length) list.textContent = 'no session yet on this server';
    list.dataset.count = String(sessions.length);
  }

  function episodeList() {
    const ol = document.createElement('ol');
    ol.className = 'session-episodes';
    ol.dataset.testid = 'session-episodes';
    getJson('/api/v1/episodes').then((episodes) => {
      for (const episode of episodes.data) {
        const li = document.createElement('li');
        const outcome = episode.extra?.outcome ? ` · ${episode.extra.outcome}` : '';
        li.textContent = `episode ${episode.index} · ${episode.length} frames · ${episode.duration_s.toFixed(1)} s${outcome}`;
        ol.append(li);
      }
    }).catch(() => { ol.textContent = 'episodes not readable'; });
    return ol;
  }

  render();
}
