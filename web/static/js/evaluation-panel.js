// EvaluationPanel (episodic strategy): episode k of N, the reset countdown, the detector's proposal,
// outcome keys, and each policy's success rate as a bar with its Wilson 95 % interval, refreshed from
// GET /api/v1/evaluation after every outcome.
import { fmt, isTyping } from './logic.js';

const REFRESH_ON = new Set(['evaluation_outcome', 'evaluation_excluded', 'evaluation_finished',
  'evaluation_rerecord', 'evaluation_episode_started', 'session_started']);
const OUTCOME_KEYS = { Digit1: 'success', Digit2: 'failure', Digit3: 'unknown' };

const pct = (value) => `${(value * 100).toFixed(0)} %`;

function stageText(ev) {
  switch (ev.stage) {
    case 'homing': return 'reset: the arm returns home';
    case 'scene': return 'reset: put the scene back';
    case 'episode': return 'episode running';
    case 'awaiting_outcome': return 'give the outcome';
    case 'done': return 'all episodes done';
    default: return ev.stage;
  }
}

export function EvaluationPanel(root, controller) {
  const q = (id) => root.querySelector(`[data-testid="${id}"]`);
  let available = [];

  function send(name, args = {}) {
    return controller.command(name, args).then((ack) => {
      if (!ack.accepted) controller.emit('rc:flash', { text: `${name}: ${ack.detail}` });
      return ack;
    }).catch((err) => controller.emit('rc:flash', { text: `${name}: ${err.message}` }));
  }

  function renderBars(report) {
    const bars = q('eval-bars');
    bars.innerHTML = '';
    for (const policy of report.policies) {
      const row = document.createElement('div');
      row.className = 'eval-bar';
      row.dataset.policy = policy.name;
      row.dataset.episodes = String(policy.episodes);
      const name = document.createElement('span');
      name.className = 'eval-bar-name';
      name.textContent = policy.name;
      const track = document.createElement('div');
      track.className = 'eval-track';
      const fill = document.createElement('div');
      fill.className = 'eval-fill';
      fill.style.width = policy.success_rate == null ? '0%' : `${policy.success_rate * 100}%`;
      track.append(fill);
      if (policy.ci95) {
        const ci = document.createElement('div');
        ci.className = 'eval-ci';
        ci.dataset.testid = 'eval-ci';
        ci.style.left = `${policy.ci95[0] * 100}%`;
        ci.style.width = `${(policy.ci95[1] - policy.ci95[0]) * 100}%`;
        ci.title = `95 % CI ${pct(policy.ci95[0])} – ${pct(policy.ci95[1])}`;
        track.append(ci);
      }
      const figures = document.createElement('span');
      figures.className = 'eval-figures';
      figures.textContent = policy.episodes
        ? `${policy.successes}/${policy.episodes} · ${pct(policy.success_rate)}` : '0/0';
      figures.title = policy.ci95 ? `95 % CI ${pct(policy.ci95[0])} – ${pct(policy.ci95[1])}` : '';
      row.append(name, track, figures);
      bars.append(row);
    }
    const only = report.policies.length === 1 ? report.policies[0] : null;
    q('eval-summary').textContent = report.comparison.summary
      || (only && only.ci95 ? `${only.name}: ${only.successes}/${only.episodes} (${pct(only.success_rate)}), `
        + `95 % CI ${pct(only.ci95[0])} – ${pct(only.ci95[1])}` : '');
  }

  function renderEpisodes(report) {
    const list = q('eval-episodes');
    list.innerHTML = '';
    for (const episode of report.episodes) {
      const item = document.createElement('li');
      item.value = episode.episode;
      item.dataset.episode = String(episode.episode);
      item.dataset.excluded = String(episode.excluded);
      const time = episode.time_to_success_s == null ? '' : ` · ${fmt(episode.time_to_success_s, 1)} s`;
      const why = episode.excluded ? ` · excluded: ${episode.exclude_reason}` : '';
      const text = document.createElement('span');
      text.textContent = `${episode.policy} · ${episode.outcome ?? 'running'}${time}${why}`;
      item.append(text);
      if (episode.outcome && !episode.excluded) {
        const exclude = document.createElement('button');
        exclude.type = 'button';
        exclude.className = 'cmd small';
        exclude.textContent = 'exclude';
        exclude.dataset.exclude = String(episode.episode);
        exclude.addEventListener('click', () => {
          const reason = window.prompt(`Why does episode ${episode.episode} not count? (it stays saved)`);
          if (reason && reason.trim()) send('exclude', { episode: episode.episode, reason: reason.trim() });
        });
        item.append(exclude);
      }
      list.append(item);
    }
  }

  async function refresh() {
    const response = await fetch('/api/v1/evaluation');
    if (!response.ok) return;
    const report = await response.json();
    root.dataset.finished = String(report.finished_episodes);
    renderBars(report);
    renderEpisodes(report);
  }

  controller.addEventListener('rc:state', ({ detail }) => {
    const ev = detail.evaluation;
    if (!ev) return;
    available = detail.available_commands || [];
    root.dataset.stage = ev.stage;
    q('eval-episode').textContent = `episode ${ev.episode} of ${ev.of}`;
    q('eval-stage').textContent = stageText(ev);
    let countdown = '';
    if (ev.stage === 'scene' && ev.reset_remaining_s != null) countdown = `${fmt(ev.reset_remaining_s, 1)} s left`;
    else if (ev.stage === 'episode' && ev.episode_elapsed_s != null) {
      countdown = `${fmt(ev.episode_elapsed_s, 1)} / ${fmt(ev.episode_time_s, 0)} s`;
    }
    q('eval-countdown').textContent = countdown;
    q('eval-policy').textContent = ev.policy ?? '–';
    q('eval-proposal').textContent = ev.proposal ? `detector says ${ev.proposal}: confirm or override` : '';
  });
  controller.addEventListener('rc:event', ({ detail }) => {
    if (REFRESH_ON.has(detail.kind)) refresh();
  });
  controller.addEventListener('rc:hello', refresh);

  document.addEventListener('keydown', (event) => {
    if (isTyping(event) || event.repeat || document.body.dataset.capturingKey) return;
    if (event.defaultPrevented) return; // the page's hotkeys (command-panel.js) sent it already
    const outcome = OUTCOME_KEYS[event.code];
    if (outcome && available.includes('save')) {
      event.preventDefault();
      send('save', { outcome });
    } else if (outcome && available.length) {
      controller.emit('rc:flash', { text: `key ${event.key}: no episode to label right now` });
    } else if (event.code === 'KeyN' && available.includes('end_reset')) {
      event.preventDefault();
      send('end_reset');
    }
  });
}
