// Mounts every view of the operator page on the one Controller.
import { CameraView } from './camera-view.js';
import { CommandPanel } from './command-panel.js';
import { Controller } from './controller.js';
import { InputsPanel } from './inputs-panel.js';
import { LeasePanel } from './lease-panel.js';
import { EpisodeList, RecordingPanel } from './recording-panel.js';
import { BannerView, ConnectionView, EventLog, HealthView, JointsView, PhaseView } from './status-views.js';

const controller = new Controller();
const $ = (selector) => document.querySelector(selector);

PhaseView($('[data-testid="phase"]'), controller);
ConnectionView($('[data-testid="connection"]'), controller);
BannerView($('[data-testid="banner"]'), controller);
HealthView(document, controller);
JointsView(document, controller);
EventLog($('[data-testid="events"]'), controller);
CommandPanel($('.command-panel'), controller, $('[data-testid="confirm-dialog"]'));
LeasePanel($('.lease-panel'), controller);
if ($('.recording-panel')) {
  RecordingPanel($('.recording-panel'), controller);
  EpisodeList($('[data-testid="episodes"]'), controller);
}
InputsPanel($('.inputs-panel'), controller);
document.querySelectorAll('[data-camera]').forEach((el) => CameraView(el));

window.rolloutConsole = controller; // for debugging from the browser console
controller.connect();
