// PixTools web app: wiring only. Each part lives in its own module.
import { submitJob } from './api.js';
import { createChain } from './chain.js';
import { disableSameFormat, labelOf, readOperations, renderOperations } from './form.js';
import { bytes } from './format.js';
import { clearHistory, remember, renderHistory } from './history.js';
import { render, watchJob } from './job-view.js';
import { imageSize, sniffFormat } from './sniff.js';

const MAX_BYTES = 10 * 1024 * 1024;
const $ = (id) => document.getElementById(id);
let chosen = null; // { file, format, url }

function showError(message) {
  const box = $('form-error');
  box.hidden = !message;
  box.textContent = message ?? '';
  if (message) box.focus?.();
}

async function choose(file) {
  showError(null);
  if (!file) return;
  const format = await sniffFormat(file);
  if (!format) {
    chosen = null;
    $('preview').hidden = true;
    return showError(
      `“${file.name}” is not a JPEG, PNG, WebP or AVIF image (checked by its content, not its name).`,
    );
  }
  if (file.size > MAX_BYTES) {
    chosen = null;
    $('preview').hidden = true;
    return showError(`“${file.name}” is ${bytes(file.size)}; the limit is ${bytes(MAX_BYTES)}.`);
  }
  if (chosen?.url) URL.revokeObjectURL(chosen.url);
  const url = URL.createObjectURL(file);
  chosen = { file, format, url };
  $('preview').hidden = false;
  $('preview-img').src = url;
  $('preview-name').textContent = file.name || 'pasted image';
  $('preview-type').textContent = labelOf(format);
  $('preview-size').textContent = bytes(file.size);
  $('preview-dims').textContent = '…';
  const size = await imageSize(url);
  $('preview-dims').textContent = size
    ? `${size.width} × ${size.height}`
    : 'unknown (your browser cannot preview this format)';
  disableSameFormat($('ops'), format);
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
  drop.addEventListener('drop', (event) => {
    event.preventDefault();
    choose(event.dataTransfer?.files?.[0]);
  });
  document.addEventListener('paste', (event) => {
    const file = [...(event.clipboardData?.files ?? [])][0];
    if (file) choose(file);
  });
}

async function submit(event, chain) {
  event.preventDefault();
  showError(null);
  if (!chosen) return showError('Choose an image first.');
  const { operations, params } = readOperations($('ops'));
  const pipeline = chain.isEmpty() ? null : chain.toPipeline();
  if (operations.length === 0 && !pipeline)
    return showError('Choose at least one thing to do, or build a chain.');
  const form = new FormData();
  form.set('file', chosen.file, chosen.file.name || 'pasted.png');
  form.set(
    'operations',
    JSON.stringify(
      operations.length
        ? operations
        : [...new Set(pipeline.map((s) => s.op).filter((op) => op !== 'resize'))],
    ),
  );
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
    };
    remember(entry);
    watchJob(id, { originalUrl: chosen.url, originalSize: chosen.file.size, onSettled: refreshHistory });
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

function refreshHistory() {
  return renderHistory($('history-list'), {
    onOpen: async (entry) => {
      const { getJob } = await import('./api.js');
      const job = await getJob(entry.id);
      $('job-empty').hidden = true;
      $('job').hidden = false;
      $('job-id').textContent = job.job_id;
      $('job-steps').replaceChildren();
      render(job, undefined, { originalSize: entry.size });
      $('job-card').scrollIntoView();
    },
    onChange: refreshHistory,
  });
}

function wireCompare() {
  const range = $('compare-range');
  const update = () => $('compare').style.setProperty('--split', `${range.value}%`);
  range.addEventListener('input', update);
  update();
}

const chain = createChain($('chain'), $('dag'), () => {});
renderOperations($('ops'), $('params'), () => showError(null));
$('chain-add').addEventListener('click', () => chain.add());
$('chain-example').addEventListener('click', () => chain.example());
$('chain-clear').addEventListener('click', () => chain.clear());
$('history-clear').addEventListener('click', () => {
  clearHistory();
  refreshHistory();
});
$('submit-card').addEventListener('submit', (event) => submit(event, chain));
wireUpload();
wireCompare();
refreshHistory();
