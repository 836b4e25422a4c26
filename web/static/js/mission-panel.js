// MissionPanel: the strip that says what the robot is trying to do (the task instruction), how it goes
// (attempts and successes), how far the session is (episode k of N) and where episodes go (the dataset).
import { sizeText } from './event-sentences.js';

/** The upload's state in words (status.upload), e.g. "uploading 42 %", "off (--dataset.push_to_hub)". */
export function uploadWords(upload) {
  const state = upload?.state || 'disabled';
  const total = upload?.progress?.bytes_total || 0;
  switch (state) {
    case 'disabled': return 'off (not pushed to the Hub)';
    case 'idle': return upload?.uploaded_episodes ? `${upload.uploaded_episodes} episodes on the Hub` : 'nothing sent yet';
    case 'pending': return 'waiting to start';
    case 'uploading':
      return total ? `uploading ${Math.floor((100 * (upload.progress.bytes_done || 0)) / total)} %` : 'uploading';
    case 'done': return upload?.uploaded_episodes != null ? `done (${upload.uploaded_episodes} episodes on the Hub)` : 'done';
    case 'retrying': {
      const wait = upload?.retry_in_s != null ? ` in ${Math.ceil(upload.retry_in_s)} s` : '';
      return `failed, retrying${wait}: ${upload?.last_error || 'unknown error'}`;
    }
    case 'error': return `failed: ${upload?.last_error || 'unknown error'} (press Upload to retry)`;
    default: return state;
  }
}

/**
 * What the strip shows for a status (`GET /api/v1/status` or a state message); null parts are hidden.
 * episode: {label, value}: the evaluation's "episode k of N", else the recording's episodes (of the
 * --strategy.num_episodes target when there is one).
 */
export function missionFacts(status) {
  const task = status?.task || null;
  const rec = status?.recording || null;
  const evaluation = status?.evaluation || null;
  let episode = null;
  if (evaluation?.of) {
    episode = { label: 'episode', value: `${evaluation.episode} of ${evaluation.of}` };
  } else if (rec) {
    const done = rec.episodes_recorded ?? rec.saved_this_session ?? 0;
    episode = rec.num_episodes
      ? { label: 'episodes', value: `${done} of ${rec.num_episodes}` }
      : { label: 'episodes this session', value: String(done) };
  }
  const dataset = rec ? {
    name: rec.repo_id || '–',
    episodes: `${rec.episodes} episode${rec.episodes === 1 ? '' : 's'}`,
    size: rec.disk?.dataset_bytes != null ? sizeText(rec.disk.dataset_bytes) : '–',
  } : null;
  const rate = task && task.success_rate != null ? ` (${Math.round(task.success_rate * 100)} %)` : '';
  return {
    task: status?.task_instruction || null,
    attempts: task && task.attempts != null ? String(task.attempts) : null,
    successes: task && task.successes != null ? `${task.successes}${rate}` : null,
    episode,
    dataset,
    upload: rec ? { state: status?.upload?.state || 'disabled', text: uploadWords(status?.upload) } : null,
  };
}

export function MissionPanel(root, controller) {
  const q = (id) => root.querySelector(`[data-testid="${id}"]`);
  const set = (id, text) => {
    const el = q(id);
    if (el && el.textContent !== text) el.textContent = text;
  };
  controller.addEventListener('rc:state', ({ detail }) => {
    if (!detail.session_id) return; // the idle server: no mission
    const facts = missionFacts(detail);
    const task = q('mission-task');
    task.dataset.empty = String(!facts.task);
    set('mission-task', facts.task || 'No task instruction given (--task)');
    q('mission-attempts-box').hidden = facts.attempts === null;
    if (facts.attempts !== null) {
      set('mission-attempts', facts.attempts);
      set('mission-successes', facts.successes);
    }
    q('mission-episode-box').hidden = !facts.episode;
    if (facts.episode) {
      set('mission-episode-label', facts.episode.label);
      set('mission-episode', facts.episode.value);
    }
    q('mission-dataset-box').hidden = !facts.dataset;
    q('mission-upload-box').hidden = !facts.upload;
    if (facts.dataset) {
      set('mission-dataset', facts.dataset.name);
      set('mission-dataset-episodes', facts.dataset.episodes);
      set('mission-dataset-size', facts.dataset.size);
      q('mission-upload-box').dataset.state = facts.upload.state;
      set('mission-upload', facts.upload.text);
    }
  });
}
