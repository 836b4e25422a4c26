// One sentence per event, in words an operator reads at a glance (pure: no DOM, so the tests call it directly).
// Every kind the server publishes (protocol/events.py EVENT_KINDS) has an entry in SENTENCES; a test fails
// when the server gains a kind without one.

/** The contract's command labels (the server may publish its own; those win when passed in `ctx.labels`). */
const COMMAND_LABELS = {
  pause: 'Pause', resume: 'Resume', takeover: 'Take over', handback: 'Hand back', mark: 'Mark', save: 'Save',
  discard: 'Discard', upload: 'Upload', stop: 'Stop', estop: 'E-STOP', reset: 'Clear E-STOP',
  end_reset: 'End reset', end_episode: 'End episode', exclude: 'Exclude',
};

/** What entering a phase means, from the phase it came from. */
function phaseWords(phase, previous) {
  switch (phase) {
    case 'autonomous':
      if (previous === 'correcting') return 'Handed back: the policy drives';
      if (previous === 'starting') return 'Started: the policy drives';
      if (previous === 'resetting') return 'Reset done: the policy drives';
      return 'Resumed: the policy drives';
    case 'paused':
      if (previous === 'estopped') return 'E-STOP cleared: paused, holding still';
      return previous === 'correcting' ? 'Correction over: paused' : 'Paused';
    case 'correcting': return 'Taken over: a human drives the leader arm';
    case 'estopped': return 'E-STOP: the robot stopped';
    case 'stopping': return 'Stopping: the arm returns home';
    case 'stopped': return 'Session stopped';
    case 'starting': return 'Starting';
    case 'error': return 'Session failed';
    case 'resetting': return 'Resetting for the next episode';
    case 'awaiting_outcome': return 'Episode over: waiting for its outcome';
    case 'idle': return 'No session running';
    default: return `Now ${phase}`;
  }
}

const END_CAUSES = {
  stopped: 'stopped by the operator', estop: 'after an E-STOP', error: 'with an error', duration: 'its time was up',
  shutdown: 'the server shut down', start_failed: 'it could not start',
};

/** Format seconds as "5.0 s". */
function secs(value, digits = 1) {
  const n = Number(value);
  return Number.isFinite(n) ? `${n.toFixed(digits)} s` : '? s';
}

/** Bytes as MB or GB. */
export function sizeText(bytes) {
  const n = Number(bytes);
  if (!Number.isFinite(n) || n < 0) return '–';
  if (n >= 10 * 2 ** 30) return `${(n / 2 ** 30).toFixed(1)} GB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MB`;
  return `${Math.max(0, Math.round(n / 1024))} kB`;
}

function plural(count, word) {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/** Capitalised, without a trailing period (the server's messages are lower-case clauses). */
function clause(text) {
  const s = String(text ?? '').trim().replace(/\.$/, '');
  return s ? s.charAt(0).toUpperCase() + s.slice(1) : '';
}

/**
 * Who sent a command, in words: this tab, another tab, the foot pedal, a named script. A page's client id
 * (`tab-…`, the lease identity) is never shown: it means nothing to a person and is the tab's secret.
 */
export function whoSent(source, selfClient = null) {
  const text = String(source ?? '');
  const [channel, ...rest] = text.split(':');
  const client = rest.join(':');
  if (text === 'session') return 'by the console';
  if (channel === 'pedal') return 'by the foot pedal';
  if (channel === 'keyboard') return 'by the keyboard at the robot';
  if (text === 'lease') return 'after a control change';
  if (text === 'page') return 'from a page';
  if (channel === 'ws' || channel === 'rest') {
    if (!client) return 'from a script';
    if (selfClient && client === selfClient) return 'from this tab';
    if (client.startsWith('tab-')) return 'from another tab';
    return `from script '${client}'`;
  }
  if (channel === 'api') return 'over the API';
  return text ? `by ${text}` : '';
}

/** A command's label: the server's (ctx.labels) or the contract's. */
function label(name, ctx) {
  return ctx?.labels?.[name] || COMMAND_LABELS[name] || name;
}

/** An automatic pause's reason ("paused: …; resume when ready") as the operator reads it. */
function pauseReason(cause) {
  const reason = String(cause ?? '').replace(/^paused:\s*/i, '').replace(/;\s*resume when ready$/i, '');
  let match = reason.match(/^(.+) lost control: no heartbeat/);
  if (match) return `Paused by lease lapse (tab '${match[1]}')`;
  match = reason.match(/^(.+) released control$/);
  if (match) return `Paused: tab '${match[1]}' gave up control`;
  match = reason.match(/^(.+) took control from (.+) \(forced\)$/);
  if (match) return `Paused: tab '${match[1]}' took control from '${match[2]}'`;
  return `Paused on its own: ${reason}`;
}

function joinParts(...parts) {
  return parts.filter((part) => part !== '' && part !== null && part !== undefined).join(' · ');
}

/** kind -> (data, ctx, event) -> sentence. */
export const SENTENCES = {
  session_started: (d) => `Session started: ${d.strategy} strategy at ${d.fps} fps`,
  session_stopped: (d) => `Session ended: ${END_CAUSES[d.cause] || d.cause || d.phase}`,
  server_idle: (d) => `No session running (the last one ended: ${END_CAUSES[d.cause] || d.cause}); start a new one`,
  phase_changed: (d, ctx) => {
    if (d.automatic && d.phase === 'paused') return pauseReason(d.cause);
    const words = phaseWords(d.phase, d.previous);
    const byCommand = d.cause && (d.cause in COMMAND_LABELS || ctx?.labels?.[d.cause]);
    if (byCommand) {
      const how = d.phase === 'paused' && ['save', 'discard'].includes(d.cause)
        ? `Correction ${d.cause === 'save' ? 'saved' : 'discarded'}: paused` : words;
      return joinParts(how, whoSent(d.source, ctx?.selfClient));
    }
    const cause = d.cause && d.cause !== 'started' && d.cause !== d.phase ? ` (${d.cause})` : '';
    return `${words}${cause}`;
  },
  command: (d, ctx) => {
    const who = whoSent(d.source, ctx?.selfClient);
    if (!d.accepted) return `${label(d.name, ctx)} refused ${who}: ${d.detail || 'no reason given'}`;
    const took = Number.isFinite(Number(d.latency_ms)) && d.latency_ms !== null ? `${Math.round(d.latency_ms)} ms` : '';
    return joinParts(`${label(d.name, ctx)} done ${who}`, d.detail ? clause(d.detail) : '', took);
  },
  notice: (d) => clause(d.message),
  error: (d) => `Error: ${d.message}`,
  lease: (d) => clause(d.detail) || `Control ${d.kind}`,
  pedal: (d) => joinParts(`Foot pedal ${String(d.state ?? '').replace(/_/g, ' ')}`, clause(d.message),
    d.fix ? `Fix: ${d.fix}` : ''),
  episode_started: (d) => {
    const why = d.auto ? ' (a new one after the encoders caught up)' : '';
    const history = d.prefix_frames ? ` with ${plural(d.prefix_frames, 'frame')} from before` : '';
    return `Recording episode ${d.index}${history}${why}`;
  },
  episode_saved: (d) => joinParts(`Episode ${d.index} saved`, plural(d.length, 'frame'), secs(d.duration_s),
    d.extra?.outcome || '', d.cut ? 'cut short' : ''),
  episode_discarded: (d) => joinParts(`Episode discarded (${plural(d.frames, 'frame')})`, d.reason ? clause(d.reason) : ''),
  episode_failed: (d) => `Episode could not be saved (${plural(d.frames, 'frame')} lost): ${d.error}`,
  recording_failed: (d) => `Recording error: ${d.message}${d.fix ? ` — ${d.fix}` : ''}`,
  recovered_on_open: (d) => {
    const dropped = d.dropped_interrupted_episodes || 0;
    const removed = (d.removed_temp_files?.length || 0) + (d.removed_orphans?.length || 0);
    return `Dataset recovered after an interruption: ${plural(dropped, 'unfinished episode')} dropped, `
      + `${plural(removed, 'leftover file')} removed`;
  },
  frames_dropped: (d) => `${plural(d.count, 'frame')} not recorded: video encoding fell behind (${d.total} in all)`,
  encoder_backlog: (d) => `Video encoding ${secs(d.backlog_s)} behind (limit ${secs(d.max_backlog_s, 0)}): the episode `
    + `was cut at ${plural(d.cut_frames, 'frame')} and kept; frames are dropped until it catches up`,
  disk_low: (d) => `Disk nearly full: ${sizeText(d.free_bytes)} free (warning below ${sizeText(d.min_free_bytes)})`,
  disk_ok: (d) => `Disk space is fine again: ${sizeText(d.free_bytes)} free`,
  cpu_budget: (d) => clause(d.message),
  upload_started: (d) => `Uploading ${plural(d.episodes, 'episode')} to ${d.repo_id}`,
  upload_progress: (d) => `Uploading: ${sizeText(d.bytes_done)} of ${sizeText(d.bytes_total)} `
    + `(${d.files_done} of ${plural(d.files_total, 'file')})`,
  upload_done: (d) => `Upload done: ${plural(d.episodes, 'episode')} on the Hub (${plural(d.files, 'file')} sent)`,
  upload_failed: (d) => `Upload failed (attempt ${d.attempts}): ${d.error}${d.will_retry ? ' — retrying' : ' — not retrying'}`,
  correction_started: (d) => (d.handover_s
    ? `Correction started: the arm blends to the leader over ${secs(d.handover_s)}`
    : 'Correction started: the arm follows the leader'),
  correction_ended: (d) => `Correction ended after ${secs(d.elapsed_s)}: ${d.saved ? 'kept' : 'thrown away'}`,
  handover_done: () => 'Hand-over done: the arm now follows the leader',
  evaluation_reset: (d) => (d.stage === 'homing'
    ? `Arm returning home before episode ${d.episode} of ${d.of}`
    : `Reset the scene for episode ${d.episode} of ${d.of} (${secs(d.reset_time_s, 0)})`),
  evaluation_episode_started: (d) => joinParts(`Evaluation episode ${d.episode} of ${d.of} started`,
    d.policy === 'hidden' ? 'policy hidden (blind)' : `policy ${d.policy}`, d.reruns ? `run ${d.reruns + 1}` : ''),
  evaluation_success_detected: (d) => `Success detected in episode ${d.episode} after ${secs(d.time_to_success_s)}`,
  evaluation_episode_ended: (d) => joinParts(`Episode ${d.episode} ended: ${d.cause}`, secs(d.duration_s)),
  evaluation_outcome: (d) => joinParts(`Episode ${d.episode}: ${d.outcome}`, `judged by ${d.source}`,
    d.policy ? `policy ${d.policy}` : ''),
  evaluation_rerecord: (d) => `Episode ${d.episode} thrown away: it runs again after the reset`,
  evaluation_excluded: (d) => `Episode ${d.episode} excluded from the results: ${d.reason}`,
  evaluation_finished: (d) => joinParts(`Evaluation finished: ${plural(d.episodes, 'episode')}`, d.summary || ''),
};

/** The sentence for an event; an unknown kind (a newer server) still gets a line, with its data. */
export function eventSentence(event, ctx = {}) {
  const data = event?.data || {};
  const make = SENTENCES[event?.kind];
  if (make) {
    try {
      const text = make(data, ctx, event);
      if (!/\bundefined\b|\bNaN\b/.test(text)) return text;
    } catch {
      // a malformed event must not break the timeline
    }
    // a field missing (an older or newer server): the raw line says more than a sentence with holes
  }
  return `${event?.kind ?? 'event'}${Object.keys(data).length ? ` ${JSON.stringify(data)}` : ''}`;
}

/** How serious an event is: error, warning, ok (something good finished) or info. */
export function eventLevel(event) {
  const d = event?.data || {};
  switch (event?.kind) {
    case 'error': case 'recording_failed': case 'episode_failed': case 'encoder_backlog': return 'error';
    case 'frames_dropped': case 'disk_low': case 'cpu_budget': case 'episode_discarded': case 'evaluation_rerecord': return 'warning';
    case 'notice': return d.level === 'error' ? 'error' : d.level === 'info' ? 'info' : 'warning';
    case 'upload_failed': return d.will_retry ? 'warning' : 'error';
    case 'command': return d.accepted ? 'info' : 'warning';
    case 'lease': return ['lapsed', 'forced'].includes(d.kind) ? 'warning' : 'info';
    case 'pedal': return ['error', 'missing', 'permission_denied'].includes(d.state) ? 'warning' : 'info';
    case 'phase_changed':
      if (d.phase === 'estopped' || d.phase === 'error') return 'error';
      return d.automatic ? 'warning' : 'info';
    case 'session_stopped': return d.cause === 'error' || d.cause === 'start_failed' ? 'error' : 'info';
    case 'evaluation_outcome': return d.outcome === 'success' ? 'ok' : 'info';
    case 'episode_saved': case 'upload_done': case 'disk_ok': case 'evaluation_success_detected': return 'ok';
    default: return 'info';
  }
}

/** The filter group of a kind (the timeline's chips). Problems are chosen by level, not by group. */
export function eventGroup(kind) {
  if (kind === 'phase_changed' || kind.startsWith('session_') || kind === 'server_idle' || kind === 'notice'
      || kind === 'error') return 'phases';
  if (kind === 'command') return 'commands';
  if (kind === 'lease' || kind === 'pedal') return 'control';
  if (kind.startsWith('upload_')) return 'upload';
  if (kind.startsWith('evaluation_')) return 'evaluation';
  return 'recording';
}

/** Local wall-clock time of a Unix timestamp (seconds), always HH:MM:SS. */
export function clockTime(unixSeconds) {
  const date = new Date(Number(unixSeconds) * 1000);
  if (Number.isNaN(date.getTime())) return '--:--:--';
  return [date.getHours(), date.getMinutes(), date.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}
