// EventLog: the event timeline. Newest first, one sentence per event with its local time and severity,
// filter chips by kind of event, the raw JSON one click away (a <details> per entry), bounded length.
import { clockTime, eventGroup, eventLevel, eventSentence } from './event-sentences.js';

export { eventSentence as describeEvent } from './event-sentences.js';

/** Entries kept; older ones drop off the end (the full history is GET /api/v1/events). */
export const MAX_EVENTS = 150;

/** Whether an entry (its group and level) passes a filter: all, problems, or one group. */
export function passesFilter(filter, group, level) {
  if (!filter || filter === 'all') return true;
  if (filter === 'problems') return level === 'error' || level === 'warning';
  return filter === group;
}

/** The server's operator label per command (hello.command_labels; older servers: none, the contract's apply). */
function helloLabels(hello) {
  return { ...(hello?.command_labels || {}) };
}

function entry(event, ctx) {
  const level = eventLevel(event);
  const group = eventGroup(event.kind);
  const item = document.createElement('li');
  item.dataset.kind = event.kind;
  item.dataset.seq = String(event.seq);
  item.dataset.level = level;
  item.dataset.group = group;
  const details = document.createElement('details');
  const summary = document.createElement('summary');
  const time = document.createElement('time');
  time.className = 'event-time';
  time.dateTime = new Date(event.time * 1000).toISOString();
  time.textContent = clockTime(event.time);
  const text = document.createElement('span');
  text.className = 'event-text';
  text.dataset.testid = 'event-text';
  text.textContent = eventSentence(event, ctx);
  summary.append(time, text);
  if (event.kind === 'phase_changed' && event.data?.phase) {
    const phase = document.createElement('span');
    phase.className = 'event-phase';
    phase.dataset.phase = event.data.phase;
    phase.textContent = event.data.phase;
    summary.append(phase);
  }
  const raw = document.createElement('pre');
  raw.className = 'event-raw';
  raw.dataset.testid = 'event-raw';
  raw.textContent = JSON.stringify({ seq: event.seq, time: event.time, kind: event.kind, data: event.data }, null, 2);
  details.append(summary, raw);
  item.append(details);
  return item;
}

export function EventLog(el, controller) {
  const panel = el.closest('section') || document;
  const chips = [...panel.querySelectorAll('[data-event-filter]')];
  const empty = panel.querySelector('[data-testid="events-empty"]');
  const ctx = { selfClient: controller.clientId, labels: {} };
  let filter = 'all';

  function apply(item) {
    item.hidden = !passesFilter(filter, item.dataset.group, item.dataset.level);
  }
  function renderEmpty() {
    if (!empty) return;
    const shown = [...el.children].some((item) => !item.hidden);
    empty.hidden = shown;
    empty.textContent = el.children.length ? 'No events of this kind yet.' : 'No events yet.';
  }

  for (const chip of chips) {
    chip.addEventListener('click', () => {
      filter = chip.dataset.eventFilter;
      for (const other of chips) other.setAttribute('aria-pressed', String(other === chip));
      el.dataset.filter = filter;
      for (const item of el.children) apply(item);
      renderEmpty();
    });
  }
  el.dataset.filter = filter;

  controller.addEventListener('rc:hello', ({ detail }) => {
    ctx.labels = helloLabels(detail);
  });
  controller.addEventListener('rc:event', ({ detail }) => {
    if (detail.kind === 'upload_progress') {
      // progress comes in bursts: one line that moves on, not a hundred
      for (const old of el.querySelectorAll(':scope > li[data-kind="upload_progress"]')) old.remove();
    }
    const item = entry(detail, ctx);
    apply(item);
    el.prepend(item);
    while (el.children.length > MAX_EVENTS) el.lastElementChild.remove();
    renderEmpty();
  });
  renderEmpty();
}
