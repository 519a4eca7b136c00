// PixTools web app: wiring only. Each part lives in its own module.
import { getJob, submitJob } from './api.js';
import { createChain } from './chain.js';
import { disableSameFormat, labelOf, readOperations, renderOperations } from './form.js';
import { bytes } from './format.js';
import { clearHistory, remember, renderHistory, restoreHistory } from './history.js';
import { SETTLED, showFinished, watchJob } from './job-view.js';
import { forgetOriginals, keepOriginal, originalUrl } from './originals.js';
import { imageSize, sniffFormat } from './sniff.js';
import { checkFields, clearFieldErrors } from './validate.js';

const MAX_BYTES = 10 * 1024 * 1024;
const $ = (id) => document.getElementById(id);
let chosen = null; // { file, format, url, width, height }

function showError(message, box = $('form-error')) {
  box.hidden = !message;
  box.textContent = message ?? '';
  if (message) box.focus?.();
}
const showFileError = (message) => showError(message, $('file-error'));

async function choose(file) {
  showError(null);
  showFileError(null);
  if (!file) return;
  const format = await sniffFormat(file);
  if (!format) {
    chosen = null;
    $('preview').hidden = true;
    return showFileError(
      `“${file.name}” is not a JPEG, PNG, WebP or AVIF image (checked by its content, not its name).`,
    );
  }
  if (file.size > MAX_BYTES) {
    chosen = null;
    $('preview').hidden = true;
    return showFileError(`“${file.name}” is ${bytes(file.size)}; the limit is ${bytes(MAX_BYTES)}.`);
  }
  if (chosen?.url) URL.revokeObjectURL(chosen.url);
  const url = URL.createObjectURL(file);
  chosen = { file, format, url, width: null, height: null };
  $('preview').hidden = false;
  $('preview-img').src = url;
  $('preview-name').textContent = file.name || 'pasted image';
  $('preview-type').textContent = labelOf(format);
  $('preview-size').textContent = bytes(file.size);
  $('preview-dims').textContent = '…';
  disableSameFormat($('ops'), format, $('params'));
  const size = await imageSize(url);
  if (size && chosen?.url === url) Object.assign(chosen, size);
  $('preview-dims').textContent = size
    ? `${size.width} × ${size.height}`
    : 'unknown (your browser cannot preview this format)';
}

function wireUpload() {
  const drop = $('drop');
  const input = $('file');
  input.addEventListener('change', () => choose(input.files?.[0]));
  for (const type of ['dragenter', 'dragover']) {
    drop.addEventListener(type, (event) => {
      event.preventDefault();
      drop.classList.add('over');
    });
  }
  for (const type of ['dragleave', 'drop']) drop.addEventListener(type, () => drop.classList.remove('over'));
  // A file dropped anywhere on the page is taken, never opened by the browser (which would leave the app).
  document.addEventListener('dragover', (event) => event.preventDefault());
  document.addEventListener('drop', (event) => {
    event.preventDefault();
    const file = event.dataTransfer?.files?.[0];
    if (file) choose(file);
  });
  document.addEventListener('paste', (event) => {
    const file = [...(event.clipboardData?.files ?? [])][0];
    if (file) choose(file);
  });
}

/** `operations` for a chain: its output formats (a resize keeps the source's format). */
function chainOperations(pipeline) {
  const ops = [...new Set(pipeline.map((step) => step.op).filter((op) => op !== 'resize'))];
  return ops.length > 0 ? ops : [chosen.format];
}

async function submit(event, chain) {
  event.preventDefault();
  showError(null);
  if (!chosen) {
    showFileError('Choose an image first.');
    return $('drop').scrollIntoView({ block: 'center' });
  }
  const problems = checkFields($('submit-card'));
  if (problems.length > 0) {
    return showError(
      problems.length === 1 ? problems[0] : `Please fix the ${problems.length} marked fields.`,
    );
  }
  const pipeline = chain.isEmpty() ? null : chain.toPipeline();
  const { operations, params } = pipeline ? { operations: [], params: {} } : readOperations($('ops'));
  if (operations.length === 0 && !pipeline)
    return showError('Choose at least one thing to do, or build a chain.');
  const form = new FormData();
  form.set('file', chosen.file, chosen.file.name || 'pasted.png');
  form.set('operations', JSON.stringify(pipeline ? chainOperations(pipeline) : operations));
  if (Object.keys(params).length) form.set('operation_params', JSON.stringify(params));
  if (pipeline) form.set('pipeline', JSON.stringify(pipeline));
  const webhook = $('webhook').value.trim();
  if (webhook) form.set('webhook_url', webhook);
  const button = $('submit');
  button.disabled = true;
  button.textContent = 'Uploading…';
  try {
    const { job_id: id } = await submitJob(form, crypto.randomUUID());
    const entry = {
      id,
      name: chosen.file.name || 'pasted image',
      createdAt: new Date().toISOString(),
      size: chosen.file.size,
      width: chosen.width,
    };
    remember(entry);
    refreshHistory();
    keepOriginal(id, chosen.file);
    watchJob(id, contextOf(entry, chosen.url));
    $('job-card').scrollIntoView({
      behavior: matchMedia('(prefers-reduced-motion: reduce)').matches ? 'auto' : 'smooth',
    });
  } catch (error) {
    showError(error.message);
  } finally {
    button.disabled = false;
    button.textContent = 'Process image →';
  }
}

function contextOf(entry, url) {
  return {
    originalUrl: url,
    originalSize: entry.size,
    originalName: entry.name,
    sourceWidth: entry.width,
    onSettled: () => refreshHistory(),
  };
}

async function open(entry) {
  const [job, url] = await Promise.all([getJob(entry.id), originalUrl(entry.id)]);
  const context = contextOf(entry, url);
  // An unfinished job is followed live again; a finished one is shown as it ended.
  if (SETTLED.includes(job.status) || job.expired) showFinished(job, context);
  else watchJob(entry.id, context);
  $('job-card').scrollIntoView();
}

function refreshHistory() {
  return renderHistory($('history-list'), { onOpen: open, onChange: refreshHistory });
}

function wireHistoryClear() {
  let undo = null;
  $('history-clear').addEventListener('click', () => {
    const cleared = clearHistory();
    if (cleared.length === 0) return;
    refreshHistory();
    $('history-undo').hidden = false;
    clearTimeout(undo?.timer);
    undo = {
      cleared,
      // after 15 s the clearing is final: the kept uploads go too
      timer: setTimeout(() => {
        $('history-undo').hidden = true;
        undo = null;
        forgetOriginals();
      }, 15_000),
    };
    $('history-undo-button').focus();
  });
  $('history-undo-button').addEventListener('click', () => {
    if (!undo) return;
    clearTimeout(undo.timer);
    restoreHistory(undo.cleared);
    undo = null;
    $('history-undo').hidden = true;
    refreshHistory();
  });
}

function wireCompare() {
  const range = $('compare-range');
  const picture = $('compare');
  const update = () => picture.style.setProperty('--split', `${range.value}%`);
  range.addEventListener('input', update);
  // dragging (mouse, pen or finger) on the picture moves the split too
  const follow = (event) => {
    const box = picture.getBoundingClientRect();
    const at = Math.round(((event.clientX - box.left) / box.width) * 100);
    range.value = String(Math.min(100, Math.max(0, at)));
    update();
  };
  picture.addEventListener('pointerdown', (event) => {
    event.preventDefault();
    picture.setPointerCapture(event.pointerId);
    follow(event);
  });
  picture.addEventListener('pointermove', (event) => {
    if (picture.hasPointerCapture(event.pointerId)) follow(event);
  });
  update();
}

/** While the chain has steps it is what runs: the toggles are switched off, visibly. */
function onChainChange(chain) {
  const off = !chain.isEmpty();
  $('what').disabled = off;
  $('what-off').hidden = !off;
  clearFieldErrors($('submit-card'));
}

const chain = createChain($('chain'), $('dag'), () => onChainChange(chain));
renderOperations($('ops'), $('params'), () => showError(null));
$('chain-add').addEventListener('click', () => chain.add());
$('chain-example').addEventListener('click', () => chain.example(chosen?.width ?? null));
$('chain-clear').addEventListener('click', () => chain.clear());
$('submit-card').addEventListener('submit', (event) => submit(event, chain));
wireUpload();
wireCompare();
wireHistoryClear();
refreshHistory();
