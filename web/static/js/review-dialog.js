// ReviewDialog: a saved episode as a player: its camera videos kept in step, a time readout, frame steps,
// and a plot of one joint's measured state, commanded action and the human-intervention band.
//
// Sync: the first video is the clock. While playing, each other video's drift from it is measured every
// animation frame; past one frame period the follower's playback rate is nudged to catch up, past
// HARD_RESYNC_S it is seeked. The drift (now and the worst since play) is on the dialog as data-drift-ms
// and data-drift-max-ms. Paused and stepping, every video is set to the same frame.
import { COLORS, drawAxes, fitCanvas, jointUnit, valueRange } from './plot-axes.js';

const HARD_RESYNC_S = 0.25; // beyond this a rate nudge would take too long: seek
const CATCH_UP_S = 0.5; // a follower's drift is absorbed over about this long (rate = 1 ± drift / CATCH_UP_S)
const MAX_RATE_NUDGE = 0.5;
const FRAME_EPSILON_S = 1e-3; // a frame's exact time can round to just before it: aim a hair inside it

/** The playback rate that absorbs `drift` seconds (positive: ahead) in about CATCH_UP_S, or 1 within a frame. */
export function followerRate(drift, frameS) {
  if (Math.abs(drift) <= frameS) return 1;
  return Math.min(1 + MAX_RATE_NUDGE, Math.max(1 - MAX_RATE_NUDGE, 1 - drift / CATCH_UP_S));
}

/** The frame index to show after stepping `delta` frames from time `t` (clamped to the episode). */
export function stepFrame(t, delta, fps, frames) {
  const current = Math.round(t * fps);
  return Math.min(Math.max(0, frames - 1), Math.max(0, current + delta));
}

export function ReviewDialog(dialog, controller) {
  const q = (id) => dialog.querySelector(`[data-testid="${id}"]`);
  const videosBox = q('review-videos');
  const plot = q('review-plot');
  const play = q('review-play');
  const scrub = q('review-scrub');
  const jointSelect = q('review-joint');
  const title = q('review-title');
  const readout = q('review-time');
  let episode = null;
  let videos = [];
  let frame = null;
  let position = 0; // seconds into the episode (authoritative while paused)
  let driftMax = 0;

  const fps = () => episode?.fps || 30;
  const duration = () => (episode ? episode.length / episode.fps : 0);
  const playing = () => videos.some((v) => !v.el.paused);

  function clock() {
    const master = videos[0];
    if (!master || !playing()) return position;
    return Math.min(duration(), Math.max(0, master.el.currentTime - master.from));
  }

  function showPlaying(isPlaying) {
    play.dataset.state = isPlaying ? 'playing' : 'paused';
    play.textContent = isPlaying ? 'Pause' : 'Play';
    play.setAttribute('aria-label', isPlaying ? 'Pause (Space)' : 'Play (Space)');
    dialog.dataset.playing = String(isPlaying);
  }

  function show(t) {
    const frameIndex = Math.min(episode ? episode.length - 1 : 0, Math.floor(t * fps() + 1e-6));
    scrub.value = String(t);
    dialog.dataset.time = t.toFixed(3);
    dialog.dataset.frame = String(frameIndex);
    readout.textContent = `${t.toFixed(2)} / ${duration().toFixed(2)} s · frame ${frameIndex + 1} / ${episode?.length ?? 0}`;
    draw(t);
  }

  /** Puts every video at `t` (paused, stepping, scrubbing). */
  function seekAll(t) {
    position = Math.min(duration(), Math.max(0, t));
    for (const v of videos) {
      v.el.playbackRate = 1;
      v.el.currentTime = v.from + position + FRAME_EPSILON_S;
    }
    show(position);
  }

  function pauseAll() {
    const t = clock();
    for (const v of videos) v.el.pause();
    if (frame) cancelAnimationFrame(frame);
    frame = null;
    showPlaying(false);
    if (episode) seekAll(t);
  }

  /** One animation frame while playing: measure each follower's drift and pull it back. */
  function tick() {
    frame = null;
    if (!playing()) { showPlaying(false); return; }
    const t = clock();
    const frameS = 1 / fps();
    let drift = 0;
    for (const v of videos.slice(1)) {
      if (v.el.seeking) continue; // a seek in flight reports the target time, not what is shown
      const d = (v.el.currentTime - v.from) - t;
      drift = Math.max(drift, Math.abs(d));
      if (Math.abs(d) > HARD_RESYNC_S) {
        v.el.playbackRate = 1;
        v.el.currentTime = v.from + t + frameS; // lands a frame ahead: the seek itself takes time
      } else {
        const rate = followerRate(d, frameS);
        if (v.el.playbackRate !== rate) v.el.playbackRate = rate;
      }
      if (v.el.paused && !v.el.ended) v.el.play().catch(() => {});
    }
    driftMax = Math.max(driftMax, drift);
    dialog.dataset.driftMs = (drift * 1000).toFixed(1);
    dialog.dataset.driftMaxMs = (driftMax * 1000).toFixed(1);
    if (t >= duration() - 1e-3) {
      position = duration();
      pauseAll();
      return;
    }
    position = t;
    show(t);
    frame = requestAnimationFrame(tick);
  }

  async function startPlaying() {
    if (!episode) return;
    if (position >= duration() - 0.5 / fps()) seekAll(0);
    driftMax = 0;
    for (const v of videos) v.el.currentTime = v.from + position;
    showPlaying(true);
    await Promise.all(videos.map((v) => v.el.play().catch(() => {})));
    if (!frame) frame = requestAnimationFrame(tick);
  }

  function toggle() {
    if (playing()) pauseAll();
    else startPlaying();
  }

  function step(delta) {
    if (!episode) return;
    if (playing()) pauseAll();
    const index = stepFrame(position, delta, fps(), episode.length);
    seekAll(index / fps());
  }

  // The curves are drawn once per episode, joint and size into a background; each animation frame only
  // copies it and draws the "now" line (the main thread stays free for the videos).
  let background = null;
  let backgroundKey = '';
  let scales = null;

  function drawBackground(width, height) {
    const dpr = window.devicePixelRatio || 1;
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
    const ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const j = Number(jointSelect.value || 0);
    const joint = episode.state.names?.[j] ?? `joint ${j}`;
    const times = episode.timestamp;
    const state = episode.state.values.map((row) => row[j]);
    const action = episode.action.values.map((row) => row[j]);
    const [lo, hi] = valueRange(state.concat(action));
    const axes = drawAxes(ctx, width, height, {
      x0: 0, x1: duration(), y0: lo, y1: hi, xLabel: 'time (s)', yLabel: `${joint} (${jointUnit(joint)})`,
    });
    if (episode.intervention) {
      const band = (axes.right - axes.left) / Math.max(1, times.length);
      ctx.fillStyle = COLORS.intervention;
      episode.intervention.forEach((flag, i) => {
        if (flag) ctx.fillRect(axes.x(times[i]), axes.top, Math.max(1, band), axes.bottom - axes.top);
      });
    }
    const line = (values, color, dash) => {
      ctx.strokeStyle = color;
      ctx.setLineDash(dash);
      ctx.beginPath();
      values.forEach((v, i) => (i ? ctx.lineTo(axes.x(times[i]), axes.y(v)) : ctx.moveTo(axes.x(times[i]), axes.y(v))));
      ctx.stroke();
    };
    ctx.lineWidth = 2;
    line(state, COLORS.state, []);
    line(action, COLORS.action, [6, 4]);
    ctx.setLineDash([]);
    background = canvas;
    scales = axes;
  }

  function draw(t) {
    const { ctx, width, height } = fitCanvas(plot);
    if (!episode) return;
    const key = `${episode.index}:${jointSelect.value}:${width}x${height}`;
    if (key !== backgroundKey) {
      drawBackground(width, height);
      backgroundKey = key;
    }
    ctx.drawImage(background, 0, 0, width, height);
    ctx.lineWidth = 1.5;
    ctx.strokeStyle = COLORS.now;
    ctx.beginPath();
    ctx.moveTo(scales.x(t), scales.top);
    ctx.lineTo(scales.x(t), scales.bottom);
    ctx.stroke();
  }

  async function open(index) {
    const response = await fetch(`/api/v1/episodes/${index}`);
    if (!response.ok) return;
    pauseAll();
    episode = await response.json();
    backgroundKey = '';
    title.textContent = `Episode ${episode.index} · ${episode.length} frames · ${duration().toFixed(1)} s`
      + (episode.extra?.outcome ? ` · ${episode.extra.outcome}` : '');
    videosBox.innerHTML = '';
    position = 0;
    driftMax = 0;
    delete dialog.dataset.driftMs;
    delete dialog.dataset.driftMaxMs;
    videos = Object.entries(episode.videos).map(([camera, info]) => {
      const el = document.createElement('video');
      el.muted = true;
      el.playsInline = true;
      el.preload = 'auto';
      el.src = info.url;
      el.setAttribute('data-testid', `review-video-${camera}`);
      el.dataset.from = String(info.from_timestamp);
      el.addEventListener('loadedmetadata', () => { el.currentTime = info.from_timestamp + position; });
      el.addEventListener('ended', () => { if (el === videos[0]?.el) pauseAll(); });
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
    scrub.max = String(duration());
    scrub.step = String(1 / fps());
    dialog.dataset.episode = String(index);
    dialog.dataset.fps = String(fps());
    dialog.showModal();
    play.focus();
    showPlaying(false);
    show(0);
  }

  play.addEventListener('click', toggle);
  q('review-step-back').addEventListener('click', () => step(-1));
  q('review-step-forward').addEventListener('click', () => step(1));
  scrub.addEventListener('input', () => {
    const wasPlaying = playing();
    if (wasPlaying) pauseAll();
    seekAll(Number(scrub.value));
  });
  jointSelect.addEventListener('change', () => draw(clock()));
  q('review-close').addEventListener('click', () => dialog.close());
  dialog.addEventListener('close', () => pauseAll());
  // keys act only inside the dialog (the page's hotkeys are off while a dialog is open); Esc closes natively
  dialog.addEventListener('keydown', (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.target === jointSelect) return;
    const actions = { Space: toggle, ArrowLeft: () => step(-1), ArrowRight: () => step(1) };
    const action = actions[event.code];
    if (!action) return;
    event.preventDefault(); // no button activation, no slider move, no scrolling
    event.stopPropagation();
    if (!event.repeat || event.code !== 'Space') action();
  });
  // a focused button would also "click" on Space's keyup
  dialog.addEventListener('keyup', (event) => {
    if (event.code === 'Space' && event.target !== jointSelect) event.preventDefault();
  });
  new ResizeObserver(() => { if (episode && dialog.open) draw(clock()); }).observe(plot);
  controller.addEventListener('rc:review', ({ detail }) => open(detail.index));
}
