// ReviewDialog: play a saved episode's camera videos in sync with its state and action curves.

const SYNC_TOLERANCE_S = 0.05;

export function ReviewDialog(dialog, controller) {
  const q = (id) => dialog.querySelector(`[data-testid="${id}"]`);
  const videosBox = q('review-videos');
  const plot = q('review-plot');
  const play = q('review-play');
  const scrub = q('review-scrub');
  const jointSelect = q('review-joint');
  const title = q('review-title');
  let episode = null;
  let videos = [];
  let frame = null;

  function now() {
    const master = videos[0];
    if (!master) return 0;
    return Math.max(0, master.el.currentTime - master.from);
  }

  function sync() {
    const t = now();
    for (const v of videos.slice(1)) {
      if (Math.abs(v.el.currentTime - (v.from + t)) > SYNC_TOLERANCE_S) v.el.currentTime = v.from + t;
    }
    const duration = episode ? episode.length / episode.fps : 0;
    if (videos[0] && t >= duration) {
      for (const v of videos) v.el.pause();
    }
    scrub.value = String(t);
    dialog.dataset.time = t.toFixed(3);
    draw(t);
    frame = videos.some((v) => !v.el.paused) ? requestAnimationFrame(sync) : null;
  }

  function draw(t) {
    const ctx = plot.getContext('2d');
    const w = plot.width;
    const h = plot.height;
    ctx.clearRect(0, 0, w, h);
    if (!episode) return;
    const j = Number(jointSelect.value || 0);
    const times = episode.timestamp;
    const state = episode.state.values.map((row) => row[j]);
    const action = episode.action.values.map((row) => row[j]);
    const all = state.concat(action);
    const lo = Math.min(...all);
    const hi = Math.max(...all);
    const span = hi - lo || 1;
    const duration = episode.length / episode.fps;
    const x = (time) => (time / duration) * (w - 20) + 10;
    const y = (v) => h - 10 - ((v - lo) / span) * (h - 20);
    if (episode.intervention) {
      ctx.fillStyle = 'rgba(60, 123, 224, 0.25)';
      episode.intervention.forEach((flag, i) => {
        if (flag) ctx.fillRect(x(times[i]), 0, Math.max(1, (w - 20) / times.length), h);
      });
    }
    const line = (values, color, dash) => {
      ctx.strokeStyle = color;
      ctx.setLineDash(dash);
      ctx.beginPath();
      values.forEach((v, i) => (i ? ctx.lineTo(x(times[i]), y(v)) : ctx.moveTo(x(times[i]), y(v))));
      ctx.stroke();
    };
    ctx.lineWidth = 2;
    line(state, '#4c8dff', []);
    line(action, '#f0a030', [6, 4]);
    ctx.setLineDash([]);
    ctx.strokeStyle = '#fff';
    ctx.beginPath();
    ctx.moveTo(x(t), 0);
    ctx.lineTo(x(t), h);
    ctx.stroke();
  }

  async function open(index) {
    const response = await fetch(`/api/v1/episodes/${index}`);
    if (!response.ok) return;
    episode = await response.json();
    title.textContent = `Episode ${episode.index} · ${episode.length} frames · ${(episode.length / episode.fps).toFixed(1)} s`
      + (episode.extra?.outcome ? ` · ${episode.extra.outcome}` : '');
    videosBox.innerHTML = '';
    videos = Object.entries(episode.videos).map(([camera, info]) => {
      const el = document.createElement('video');
      el.muted = true;
      el.playsInline = true;
      el.preload = 'auto';
      el.src = info.url;
      el.setAttribute('data-testid', `review-video-${camera}`);
      el.addEventListener('loadedmetadata', () => { el.currentTime = info.from_timestamp; draw(0); });
      videosBox.append(el);
      return { el, from: info.from_timestamp };
    });
    jointSelect.innerHTML = '';
    (episode.state.names || []).forEach((name, i) => {
      const option = document.createElement('option');
      option.value = String(i);
      option.textContent = name;
      jointSelect.append(option);
    });
    scrub.max = String(episode.length / episode.fps);
    scrub.value = '0';
    dialog.dataset.episode = String(index);
    dialog.showModal();
    draw(0);
  }

  play.addEventListener('click', async () => {
    const playing = videos.some((v) => !v.el.paused);
    if (playing) {
      for (const v of videos) v.el.pause();
    } else {
      if (now() >= episode.length / episode.fps - 0.05) for (const v of videos) v.el.currentTime = v.from;
      await Promise.all(videos.map((v) => v.el.play().catch(() => {})));
      if (!frame) frame = requestAnimationFrame(sync);
    }
  });
  scrub.addEventListener('input', () => {
    for (const v of videos) v.el.currentTime = v.from + Number(scrub.value);
    draw(Number(scrub.value));
  });
  jointSelect.addEventListener('change', () => draw(now()));
  q('review-close').addEventListener('click', () => {
    for (const v of videos) v.el.pause();
    dialog.close();
  });
  controller.addEventListener('rc:review', ({ detail }) => open(detail.index));
}
