// Mounts every view present on this page (desktop or tablet) on the one Controller.
import { CameraGrid, CameraView, PreviewSize } from './camera-view.js';
import { CommandPanel } from './command-panel.js';
import { Controller } from './controller.js';
import { EvaluationPanel } from './evaluation-panel.js';
import { EventLog } from './event-timeline.js';
import { HealthView } from './health-panel.js';
import { InferencePanel } from './inference-panel.js';
import { InputsPanel } from './inputs-panel.js';
import { KeymapDialog } from './keymap-dialog.js';
import { LeasePanel } from './lease-panel.js';
import { MissionPanel } from './mission-panel.js';
import { EpisodeList, RecordingPanel } from './recording-panel.js';
import { ReviewDialog } from './review-dialog.js';
import { NewSessionForm, SessionList } from './session-form.js';
import {
  BannerView, ConnectionView, JointsView, PhaseView, TabletFacts,
} from './status-views.js';
import { TeleopPanel } from './teleop-panel.js';

const controller = new Controller();
const $ = (selector) => document.querySelector(selector);
const mount = (selector, view, ...args) => {
  const el = $(selector);
  if (el) view(el, controller, ...args);
};

mount('[data-testid="phase"]', PhaseView);
mount('[data-testid="connection"]', ConnectionView);
mount('[data-testid="banner"]', BannerView);
mount('.health-panel', HealthView);
mount('[data-joint]', (el, c) => JointsView(document, c));
mount('[data-testid="events"]', EventLog);
mount('.command-panel', CommandPanel, $('[data-testid="confirm-dialog"]'));
mount('.lease-panel', LeasePanel);
mount('[data-testid="mission"]', MissionPanel);
mount('.inputs-panel', InputsPanel);
mount('.inference-panel', InferencePanel);
mount('.recording-panel', RecordingPanel);
mount('.episodes', EpisodeList);
mount('.teleop-panel', TeleopPanel);
mount('.evaluation-panel', EvaluationPanel);
mount('[data-testid="review-dialog"]', ReviewDialog);
mount('[data-testid="new-session"]', NewSessionForm);
mount('[data-testid="sessions"]', SessionList);
if (document.body.classList.contains('tablet') && $('[data-testid="correction-timer"]')) TabletFacts(document, controller);
if ($('[data-testid="keymap-dialog"]')) {
  KeymapDialog($('[data-testid="keymap-dialog"]'), $('[data-testid="keymap-open"]'), $('[data-testid="shortcuts"]'),
    controller);
}
document.querySelectorAll('[data-testid="preview-size"]').forEach((el) => PreviewSize(el));
document.querySelectorAll('[data-camera]').forEach((el) => CameraView(el));
document.querySelectorAll('.cameras[data-fit]').forEach((el) => CameraGrid(el));

window.rolloutConsole = controller; // for debugging from the browser console
controller.connect();
