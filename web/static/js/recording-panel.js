// RecordingPanel: what is being recorded, what was saved, what is uploaded; EpisodeList: saved episodes.
import { fmt } from './logic.js';

function clock(seconds) {
  const s = Math.max(0, Math.floor(seconds || 0));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

function mb(bytes) {
  return bytes >= 10 * 2 ** 30 ? `${fmt(bytes / 2 ** 30, 1)} GB` : `${fmt(bytes / 2 ** 20, 1)} MB`;
}

/** What the recorder gave up or cannot do, in words (empty when all is well), and how serious it is. */
export function recordingHealth(rec) {
  const lines = [];
  let level = 'ok';
  if (rec.state === 'dropping') {
    lines.push(`Video encoding is ${fmt(rec.backlog_s, 1)} s behind: the episode was cut and kept, and frames `
      + 'are dropped until the encoders catch up.');
    level = 'warning';
  } else if (rec.dropped_frames > 0) {
    lines.push(`${rec.dropped_frames} frames were dropped while encoding was behind; the cut episodes were kept.`);
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

export function RecordingPanel(root, controller) {
  const q = (id) => root.querySelector(`[data-testid="${id}"]`);
  controller.addEventListener('rc:state', ({ detail }) => {
    const rec = detail.recording;
    if (!rec) return;
    root.dataset.state = rec.state;
    q('recording-state').textContent = rec.state;
    q('episode-index').textContent = rec.episode_index ?? '–';
    q('episode-frames').textContent = String(rec.frames);
    q('episode-timer').textContent = clock(rec.elapsed_s);
    q('episode-count').textContent = String(rec.episodes);
    q('dropped-frames').textContent = String(rec.dropped_frames);
    const health = recordingHealth(rec);
    const healthLine = q('recording-health');
    if (healthLine) {
      healthLine.hidden = !health.text;
      healthLine.textContent = health.text;
      healthLine.dataset.level = health.level;
    }
    q('dataset-root').textContent = `${rec.repo_id} · ${rec.root}`;
    if (rec.ring) {
      q('ring').hidden = false;
      q('ring-fill').value = rec.ring.fill;
      q('ring-seconds').textContent = `${fmt(rec.ring.seconds, 1)} / ${fmt(rec.ring.max_seconds, 0)} s`;
    }
    const up = detail.upload || { state: 'disabled' };
    q('upload-state').textContent = up.state;
    const progress = q('upload-progress');
    const total = up.progress?.bytes_total || 0;
    progress.hidden = up.state !== 'uploading' || !total;
    if (total) progress.value = (up.progress.bytes_done || 0) / total;
    q('upload-error').textContent = up.last_error || '';
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
