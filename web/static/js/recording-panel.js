// RecordingPanel: what is being recorded, what was saved, what is uploaded; EpisodeList: saved episodes.
import { fmt } from './logic.js';
import { uploadWords } from './mission-panel.js';

function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds || 0));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

function mb(bytes) {
  return bytes >= 10 * 2 ** 30 ? `${fmt(bytes / 2 ** 30, 1)} GB` : `${fmt(bytes / 2 ** 20, 1)} MB`;
}

/** The recorder's state as a person says it (status.recording.state is idle, recording, saving or dropping). */
export function recordingStateWords(rec) {
  switch (rec?.state) {
    case 'recording': return 'Recording';
    case 'saving': return 'Saving';
    case 'dropping': return 'Behind: dropping frames';
    case 'idle':
      return rec?.mode === 'corrections' ? 'Not recording (only corrections are recorded)' : 'Not recording';
    default: return rec?.state ?? '–';
  }
}

/** What the recorder gave up or cannot do, in words (empty when all is well), and how serious it is. */
export function recordingHealth(rec) {
  const lines = [];
  let level = 'ok';
  const limit = rec.max_backlog_s ? ` (the limit is ${fmt(rec.max_backlog_s, 0)} s)` : '';
  if (rec.state === 'dropping') {
    lines.push(`Video encoding is ${fmt(rec.backlog_s, 1)} s behind${limit}: the episode was cut there and kept; `
      + `new frames are not recorded until the encoders catch up (${rec.dropped_frames} dropped so far).`);
    level = 'warning';
  } else if (rec.dropped_frames > 0) {
    lines.push(`${rec.dropped_frames} frames were not recorded while video encoding was behind; the episodes cut `
      + 'at that point were kept. Lower the camera resolution or fps, or use --dataset.vcodec=h264.');
    level = 'warning';
  }
  if (rec.disk && rec.disk.low && rec.disk.free_bytes != null) {
    lines.push(`Disk nearly full: ${mb(rec.disk.free_bytes)} free.`);
    level = 'warning';
  }
  if (rec.last_error) {
    lines.push(`Last save failed: ${rec.last_error}`);
    level = 'error';
  }
  return { text: lines.join(' '), level };
}

/** The CPU budget in words: what runs where ("2 cores: policy 1 thread · video AV1 preset 12, 0.48 cores"),
 * and the warning when the machine cannot keep up (status.cpu_budget.fits false: what was measured, what to do). */
export function cpuBudgetWords(budget) {
  if (!budget) return { line: '', warning: '' };
  const parts = [`${budget.cores} CPU core${budget.cores === 1 ? '' : 's'}`];
  if (budget.torch_threads != null) {
    parts.push(`policy ${budget.torch_threads} thread${budget.torch_threads === 1 ? '' : 's'}`
      + `${budget.torch_threads_source === 'flag' ? ' (set by flag)' : ''}`);
  }
  const enc = budget.encoders;
  if (enc) {
    const codec = enc.vcodec === 'libsvtav1' ? 'AV1' : 'H.264';
    const cost = enc.cores_needed == null ? 'measuring its cost…' : `needs ${fmt(enc.cores_needed, 2)} cores`;
    parts.push(`video ${codec} preset ${enc.preset}${enc.preset_source === 'auto' ? ' (chosen to keep up)' : ''}, ${cost}`);
  }
  const warning = budget.fits === false && budget.advice
    ? `This computer cannot keep up: ${budget.advice}.` : '';
  return { line: parts.join(' · '), warning };
}

export function RecordingPanel(root, controller) {
  const q = (id) => root.querySelector(`[data-testid="${id}"]`);
  controller.addEventListener('rc:state', ({ detail }) => {
    const rec = detail.recording;
    if (!rec) return;
    root.dataset.state = rec.state;
    q('recording-state').textContent = recordingStateWords(rec);
    const current = q('recording-current');
    if (current) current.hidden = rec.state === 'idle' || rec.episode_index == null;
    const saves = q('recording-saves');
    if (saves) saves.textContent = rec.pending_saves ? ` (${rec.pending_saves} more being saved)` : '';
    const last = q('last-saved');
    if (last) {
      const saved = rec.last_saved;
      last.hidden = !saved;
      if (saved) {
        const outcome = saved.extra?.outcome ? ` · ${saved.extra.outcome}` : '';
        last.textContent = `Last saved: episode ${saved.index} · ${saved.length} frames · `
          + `${fmt(saved.duration_s, 1)} s${outcome}${saved.cut ? ' · cut short' : ''}`;
      }
    }
    q('episode-index').textContent = rec.episode_index ?? '–';
    q('episode-frames').textContent = String(rec.frames);
    q('episode-timer').textContent = clock(rec.elapsed_s);
    q('episode-count').textContent = String(rec.episodes);
    const word = q('episode-word');
    if (word) word.textContent = rec.episodes === 1 ? 'episode' : 'episodes';
    q('dropped-frames').textContent = String(rec.dropped_frames);
    const health = recordingHealth(rec);
    const healthLine = q('recording-health');
    if (healthLine) {
      healthLine.hidden = !health.text;
      healthLine.textContent = health.text;
      healthLine.dataset.level = health.level;
    }
    const budget = cpuBudgetWords(detail.cpu_budget);
    const budgetLine = q('cpu-budget');
    if (budgetLine) budgetLine.textContent = budget.line;
    const budgetWarning = q('cpu-budget-warning');
    if (budgetWarning) {
      budgetWarning.hidden = !budget.warning;
      budgetWarning.textContent = budget.warning;
    }
    q('dataset-root').textContent = `dataset ${rec.repo_id}, stored in ${rec.root}`;
    if (rec.ring) {
      q('ring').hidden = false;
      q('ring-fill').value = rec.ring.fill;
      q('ring-seconds').textContent = `${fmt(rec.ring.seconds, 1)} of ${fmt(rec.ring.max_seconds, 0)} s`;
    }
    const up = detail.upload || { state: 'disabled' };
    q('upload-state').textContent = uploadWords(up);
    q('upload-state').dataset.state = up.state;
    const progress = q('upload-progress');
    const total = up.progress?.bytes_total || 0;
    progress.hidden = up.state !== 'uploading' || !total;
    if (total) progress.value = (up.progress.bytes_done || 0) / total;
    q('upload-error').textContent = up.last_error && !['retrying', 'error'].includes(up.state) ? up.last_error : '';
  });
}

export function EpisodeList(el, controller) {
  async function refresh() {
    const response = await fetch('/api/v1/episodes');
    if (!response.ok) return;
    const body = await response.json();
    const seen = new Set();
    for (const episode of body.data) {
      seen.add(String(episode.index));
      let item = el.querySelector(`[data-episode="${episode.index}"]`);
      if (!item) {
        item = document.createElement('li');
        item.dataset.episode = String(episode.index);
        el.prepend(item);
      }
      const outcome = episode.extra?.outcome ? ` · ${episode.extra.outcome}` : '';
      item.dataset.uploaded = String(episode.uploaded);
      item.innerHTML = '';
      const text = document.createElement('span');
      text.textContent = `#${episode.index} · ${episode.length} frames · ${fmt(episode.duration_s, 1)} s${outcome}`
        + `${episode.uploaded ? ' · uploaded' : ''}${episode.cut ? ' · cut' : ''}`;
      item.append(text);
      const review = document.createElement('button');
      review.type = 'button';
      review.className = 'cmd small';
      review.textContent = 'Review';
      review.dataset.review = String(episode.index);
      review.addEventListener('click', () => controller.emit('rc:review', { index: episode.index }));
      item.append(review);
    }
    for (const item of [...el.children]) if (!seen.has(item.dataset.episode)) item.remove();
  }
  controller.addEventListener('rc:event', ({ detail }) => {
    if (['episode_saved', 'upload_done', 'session_started'].includes(detail.kind)) refresh();
  });
  controller.addEventListener('rc:hello', refresh);
}
