// Pure helpers of the New session form (no DOM here): prefill, request body, where each error goes.

const STAMP = /_\d{8}_\d{6}$/;

/** ``owner/name_YYYYMMDD_HHMMSS`` -> ``owner/name``: the server stamps a new dataset again. */
export function unstamped(repoId) {
  return (repoId || '').replace(STAMP, '');
}

/** The form's values from the session part of a config (the last session's, or the command line's). */
export function prefillFromConfig(config) {
  const policy = config.policy || {};
  const path = typeof policy.path === 'string' ? policy.path : '';
  let source = 'path';
  if (policy.type === 'scripted') source = 'scripted';
  else if (policy.type === 'remote') source = 'remote';
  else if (path.startsWith('builtin:')) source = 'builtin';
  return {
    strategy: config.strategy?.type || 'base',
    record: config.strategy?.record || 'corrections',
    source,
    builtin: source === 'builtin' ? path : '',
    path: source === 'path' ? path : '',
    url: policy.type === 'remote' ? policy.url || '' : '',
    engine: config.inference?.type || 'sync',
    task: config.task || '',
    repoId: unstamped(config.dataset?.repo_id),
    root: '',
    fps: config.fps ?? '',
  };
}

const CARRIED = ['interpolation_multiplier', 'duration', 'return_to_initial_position', 'return_duration_s'];
/** Dataset options that belong to one dataset (its name, folder, stamp, rate) and are not carried over. */
const DATASET_OWN = ['repo_id', 'root', 'stamp_repo_id', 'fps'];

function numberOrText(text) {
  const trimmed = String(text).trim();
  if (trimmed === '') return undefined;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : trimmed; // the server says what is wrong with text
}

/**
 * The POST /api/v1/sessions body: the form's choices over the last session's options. A section keeps
 * the last session's other options only when its kind did not change (a dagger's options mean nothing
 * to sentry); the dataset gets a fresh name stamp and folder unless the operator gives one.
 */
export function sessionBody(last, form) {
  const body = {};
  for (const key of CARRIED) if (key in last) body[key] = last[key];

  const lastStrategy = last.strategy || {};
  body.strategy = lastStrategy.type === form.strategy ? { ...lastStrategy } : { type: form.strategy };
  delete body.strategy.record_autonomous; // LeRobot's switch; the record mode says it
  if (form.strategy === 'dagger') body.strategy.record = form.record;

  const lastPolicy = last.policy || {};
  const evaluatesSeveral = form.strategy === 'episodic' && (body.strategy.policies || []).length > 0;
  if (!evaluatesSeveral) {
    if (form.source === 'scripted') {
      body.policy = lastPolicy.type === 'scripted' ? { ...lastPolicy } : { type: 'scripted' };
    } else if (form.source === 'remote') {
      const url = form.url.trim();
      body.policy = lastPolicy.type === 'remote' && lastPolicy.url === url ? { ...lastPolicy } : { type: 'remote', url };
    } else {
      const path = (form.source === 'builtin' ? form.builtin : form.path).trim();
      body.policy = lastPolicy.path === path ? { ...lastPolicy } : { path };
    }
  }

  const lastInference = last.inference || {};
  body.inference = lastInference.type === form.engine ? { ...lastInference } : { type: form.engine };
  body.task = form.task.trim();
  const fps = numberOrText(form.fps);
  if (fps !== undefined) body.fps = fps;

  const repoId = form.repoId.trim();
  if (form.strategy === 'base' || !repoId) {
    body.dataset = null;
  } else {
    const dataset = { ...(last.dataset || {}) };
    for (const key of DATASET_OWN) delete dataset[key];
    dataset.repo_id = repoId;
    if (form.root.trim()) dataset.root = form.root.trim();
    body.dataset = dataset;
  }
  body.resume = false;
  return body;
}

/**
 * Groups 422 issues by the form field that shows them: the longest known field name that the issue's
 * location starts with ('' for the form as a whole). A deeper location is kept in the message.
 * @param {Array<{loc: Array<string|number>, msg: string}>} issues
 * @param {string[]} known field names, e.g. ['strategy', 'dataset.root', 'policy', '']
 */
export function errorsByField(issues, known) {
  const fields = [...new Set(known)].filter((name) => name).sort((a, b) => b.length - a.length);
  const grouped = new Map();
  for (const issue of issues) {
    const parts = (issue.loc || []).filter((part, index) => !(index === 0 && part === 'body'));
    const path = parts.join('.');
    const field = fields.find((name) => path === name || path.startsWith(`${name}.`)) ?? '';
    const rest = field && path !== field ? path.slice(field.length + 1) : (field ? '' : path);
    const text = rest ? `${rest}: ${issue.msg}` : issue.msg;
    if (!grouped.has(field)) grouped.set(field, []);
    grouped.get(field).push(text);
  }
  return grouped;
}

function clock(unixSeconds) {
  const date = new Date(unixSeconds * 1000);
  return date.toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

function minutes(seconds) {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

/** One line per session in operator words: what, when, how long, how it ended, what it recorded. */
export function describeSession(record, nowMs) {
  const end = record.ended_at ?? nowMs / 1000;
  const parts = [record.strategy, clock(record.started_at), minutes(Math.max(0, end - record.started_at))];
  parts.push(record.end_cause ? `ended: ${record.end_cause}` : 'running');
  if (record.dataset) parts.push(`${record.episodes_saved} episode${record.episodes_saved === 1 ? '' : 's'} in ${record.dataset.repo_id}`);
  return parts.join(' · ');
}
