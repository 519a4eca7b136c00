// Watching one job: live steps over Server-Sent Events (polling if the stream drops), then results.
import { downloads, getJob } from './api.js';
import { describeResult } from './describe.js';
import { bytes, duration, FORMAT_NAMES, h, saving } from './format.js';
import { renderSteps as drawSteps } from './steps.js';

const EVENT_TYPES = [
  'JobSubmitted',
  'JobPlanned',
  'StepDispatched',
  'StepStarted',
  'StepRetrying',
  'StepSucceeded',
  'StepFailed',
  'StepProgressed',
  'JobCompleted',
  'JobFailed',
  'JobExpired',
];
const TERMINAL = new Set(['JobCompleted', 'JobFailed', 'JobExpired']);
const $ = (id) => document.getElementById(id);

let current = null;

/**
 * Starts watching a job, live: the stream replays the job's past events first, so a job opened from
 * History (or after a reload) shows its steps and then follows it. EventSource resumes a dropped
 * stream by itself with `Last-Event-ID`; if the server closes it for good we poll instead.
 * `context.originalUrl` enables the before/after comparison.
 */
export function watchJob(id, context = {}) {
  current?.stop();
  const state = { id, steps: new Map(), outputs: new Map(), stopped: false, source: null, poll: null };
  current = {
    stop() {
      state.stopped = true;
      state.source?.close();
      clearTimeout(state.poll);
    },
  };
  $('job-empty').hidden = true;
  $('job').hidden = false;
  $('job-id').textContent = id;
  $('job-results').hidden = true;
  $('job-error').hidden = true;
  $('job-steps').replaceChildren();
  setStatus('PENDING');
  live('Connecting to the live event stream…');
  if (typeof EventSource === 'undefined') return poll(state, context);

  const source = new EventSource(`/api/jobs/${encodeURIComponent(id)}/events`);
  state.source = source;
  for (const type of EVENT_TYPES) {
    source.addEventListener(type, (message) => onEvent(state, JSON.parse(message.data), context));
  }
  source.addEventListener('open', () => live('Live: updates are pushed as they happen.'));
  source.addEventListener('error', () => {
    if (state.stopped) return;
    if (source.readyState === EventSource.CLOSED) {
      live('The live stream dropped; checking every 2 seconds instead.');
      poll(state, context);
    } else {
      live('Reconnecting to the live stream…');
    }
  });
}

function live(text) {
  $('job-live').textContent = text;
}

function setStatus(status, expired = false) {
  const el = $('job-status');
  el.className = `status ${expired ? 'expired' : status}`;
  el.textContent = expired ? 'Expired' : status.replaceAll('_', ' ').toLowerCase();
}

function onEvent(state, event, context) {
  switch (event.type) {
    case 'JobPlanned':
      for (const step of event.steps) state.steps.set(step.id, { ...step, status: 'pending' });
      break;
    case 'StepDispatched':
    case 'StepStarted':
    case 'StepRetrying':
    case 'StepFailed':
    case 'StepSucceeded': {
      const step = state.steps.get(event.stepId);
      if (!step) break;
      step.status = {
        StepDispatched: 'dispatched',
        StepStarted: 'running',
        StepRetrying: 'running',
        StepFailed: 'failed',
        StepSucceeded: 'succeeded',
      }[event.type];
      if (event.type === 'StepRetrying') step.note = `retrying (attempt ${event.attempt}): ${event.error}`;
      if (event.type === 'StepFailed') step.note = event.error;
      if (event.type === 'StepSucceeded') {
        step.note = duration(event.durationMs);
        if (event.output) state.outputs.set(event.stepId, event.output);
      }
      if (event.type === 'StepStarted') setStatus('PROCESSING');
      break;
    }
    case 'StepProgressed': {
      // Drawn by steps.js progressBar(): a determinate bar and "tile 12 / 48 · about 2 min left".
      const step = state.steps.get(event.stepId);
      if (!step || step.status === 'succeeded' || step.status === 'failed' || !(event.total > 0)) break;
      step.status = 'running';
      step.fraction = event.done / event.total;
      step.progress = {
        done: event.done,
        total: event.total,
        unit: event.unit,
        etaMs: event.etaMs,
        phase: event.phase ?? null,
      };
      break;
    }
    default:
      break;
  }
  renderSteps(state);
  if (TERMINAL.has(event.type)) {
    state.source?.close();
    live(event.type === 'JobCompleted' ? 'Done.' : 'Finished.');
    finish(state, context);
  }
}

function renderSteps(state) {
  drawSteps($('job-steps'), state.steps.values());
}

async function poll(state, context) {
  if (state.stopped) return;
  try {
    const job = await getJob(state.id);
    stepsFromBody(state, job);
    renderSteps(state);
    setStatus(job.status, job.expired);
    if (SETTLED.includes(job.status) || job.expired) {
      return render(job, state, context);
    }
  } catch (error) {
    live(error.message);
  }
  state.poll = setTimeout(() => poll(state, context), 2000);
}

export const SETTLED = ['COMPLETED', 'FAILED', 'COMPLETED_WEBHOOK_FAILED'];

function stepsFromBody(state, job) {
  for (const step of job.steps ?? []) {
    state.steps.set(step.id, {
      id: step.id,
      op: step.operation,
      inputs: step.inputs,
      status: step.status,
      note: step.error ?? (step.duration_ms === null ? '' : duration(step.duration_ms)),
      progress: step.progress ?? null,
      fraction: step.progress ? step.progress.done / step.progress.total : undefined,
    });
  }
}

/** A finished job opened from History: its steps from the job body, then its results. */
export function showFinished(job, context = {}) {
  current?.stop();
  const state = { id: job.job_id, steps: new Map(), outputs: new Map() };
  $('job-empty').hidden = true;
  $('job').hidden = false;
  $('job-id').textContent = job.job_id;
  live('');
  stepsFromBody(state, job);
  renderSteps(state);
  render(job, state, context);
}

/** The read model can trail the event stream by a moment: wait until it shows the final status. */
async function finish(state, context) {
  try {
    let job = await getJob(state.id);
    for (let tries = 0; tries < 20 && !SETTLED.includes(job.status) && !job.expired; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      job = await getJob(state.id);
    }
    render(job, state, context);
  } catch (error) {
    $('job-error').hidden = false;
    $('job-error').textContent = error.message;
  }
}

/** Renders the finished job: outputs, bundle, comparison, EXIF. Exported for history "Open". */
export function render(job, state = { outputs: new Map() }, context = {}) {
  context.onSettled?.(job);
  setStatus(job.status, job.expired);
  const error = $('job-error');
  error.hidden = !job.error_message;
  error.textContent = job.error_message ? `This job failed: ${job.error_message}` : '';
  if (job.expired) {
    $('job-results').hidden = true;
    live('This job is past its retention window: its files were deleted.');
    return;
  }
  $('job-results').hidden = false;
  const zip = $('job-zip');
  zip.hidden = !job.archive_url;
  if (job.archive_url) zip.href = job.archive_url;
  // in the order the steps were chosen (the planned order), not the order of the keys
  const order = (job.steps ?? []).map((step) => step.result);
  const results = Object.entries(downloads(job)).sort(([a], [b]) => rank(order, a) - rank(order, b));
  const cards = results.map(([result, url]) => card(result, url, job, state, context));
  $('result-cards').replaceChildren(...cards);
  compare(job, context);
  const askedExif =
    (job.operations ?? []).includes('metadata') ||
    (job.steps ?? []).some((step) => step.operation === 'metadata');
  exif(job.metadata ?? {}, askedExif);
}

function rank(order, result) {
  const index = order.indexOf(result);
  return index === -1 ? order.length : index;
}

function outputInfo(op, job, state) {
  const step = (job.steps ?? []).find((s) => s.result === op || s.id === op);
  return step?.output ?? state.outputs.get(step?.id ?? op) ?? null;
}

function card(op, url, job, state, context) {
  const info = outputInfo(op, job, state);
  const format = info?.format ?? (op === 'metadata' ? 'json' : op);
  const isImage = ['jpg', 'png', 'webp', 'avif'].includes(format);
  // a size comparison only means something between two images
  const diff = isImage ? saving(context.originalSize, info?.bytes) : null;
  const title = describeResult(job, op, { width: context.sourceWidth });
  return h(
    'article',
    { class: 'result', 'data-result': op },
    isImage ? h('img', { src: url, alt: `${title} output`, loading: 'lazy' }) : null,
    h(
      'div',
      { class: 'body' },
      h('b', {}, title),
      h('span', {}, `Format: ${FORMAT_NAMES[format] ?? format}`),
      info?.width ? h('span', {}, `${info.width} × ${info.height} px`) : null,
      info?.bytes !== undefined ? h('span', {}, bytes(info.bytes)) : null,
      diff ? h('span', { class: `saving ${diff.better ? 'better' : 'worse'}` }, diff.text) : null,
      h('a', { class: 'button small', href: url, download: downloadName(op, format, context) }, 'Download'),
    ),
  );
}

/** One name per result (two WebP outputs of one job must not overwrite each other). */
function downloadName(result, format, context) {
  const base = (context.originalName ?? 'image').replace(/\.[^.]+$/, '').replace(/[^\w.-]+/g, '_');
  return `pixtools_${result}_${base}.${format === 'jpg' ? 'jpg' : format}`;
}

function compare(job, context) {
  const denoised = (job.steps ?? []).find((step) => step.operation === 'denoise' && step.result);
  const after = job.result_urls?.[denoised?.result ?? 'denoise'];
  const before = context.originalUrl ?? job.source_url;
  const wrap = $('compare-wrap');
  wrap.hidden = !(after && before);
  if (wrap.hidden) return;
  $('compare-before').src = before;
  $('compare-after').src = after;
}

const EXIF_LABELS = [
  ['camera_make', 'Camera make'],
  ['camera_model', 'Camera model'],
  ['lens_model', 'Lens'],
  ['captured_at', 'Captured'],
  ['exposure_time', 'Exposure'],
  ['aperture', 'Aperture'],
  ['iso', 'ISO'],
  ['gps', 'GPS position'],
];

function gpsText(gps) {
  if (!gps || typeof gps.latitude !== 'number') return null;
  const lat = `${Math.abs(gps.latitude).toFixed(5)}° ${gps.latitude >= 0 ? 'N' : 'S'}`;
  const lon = `${Math.abs(gps.longitude).toFixed(5)}° ${gps.longitude >= 0 ? 'E' : 'W'}`;
  return `${lat}, ${lon}${typeof gps.altitude === 'number' ? `, ${gps.altitude.toFixed(0)} m` : ''}`;
}

function exif(metadata, asked) {
  const rows = EXIF_LABELS.flatMap(([key, label]) => {
    const raw = metadata[key];
    const value = key === 'gps' ? gpsText(raw) : key === 'aperture' && raw ? `f/${raw}` : raw;
    return value === null || value === undefined || value === ''
      ? []
      : [h('tr', {}, h('th', { scope: 'row' }, label), h('td', {}, String(value)))];
  });
  $('exif-wrap').hidden = rows.length === 0 && !asked;
  $('exif-none').hidden = rows.length > 0;
  $('exif').hidden = rows.length === 0;
  $('exif').replaceChildren(h('tbody', {}, rows));
}
