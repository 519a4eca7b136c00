// The "what to do" part of the form: operation toggles, their parameters, and the chain builder.
import { FORMAT_NAMES, h } from './format.js';

export const OPERATIONS = [
  { op: 'jpg', label: 'JPEG', hint: 'small photos' },
  { op: 'png', label: 'PNG', hint: 'lossless' },
  { op: 'webp', label: 'WebP', hint: 'modern web' },
  { op: 'avif', label: 'AVIF', hint: 'smallest' },
  { op: 'denoise', label: 'Denoise', hint: 'DnCNN network' },
  { op: 'metadata', label: 'EXIF', hint: 'camera, GPS…' },
];
const QUALITY = new Set(['jpg', 'webp']);
const RESIZE = new Set(['jpg', 'png', 'webp', 'avif', 'denoise']);

function number(id, label, { min = 1, max, placeholder = '', name = label } = {}) {
  return h(
    'label',
    { class: 'field', for: id },
    label,
    h('input', {
      id,
      type: 'number',
      inputmode: 'numeric',
      min,
      max,
      step: 1,
      placeholder,
      'data-check': true,
      'data-label': name,
    }),
  );
}

function paramRow(op) {
  const fields = [];
  const name = labelOf(op);
  if (QUALITY.has(op))
    fields.push(
      number(`p-${op}-quality`, 'Quality (1–100)', {
        max: 100,
        placeholder: 'auto',
        name: `${name} quality`,
      }),
    );
  if (RESIZE.has(op)) {
    // Either side alone: the other one follows the aspect ratio.
    fields.push(number(`p-${op}-width`, 'Width px', { placeholder: 'auto', name: `${name} width` }));
    fields.push(number(`p-${op}-height`, 'Height px', { placeholder: 'auto', name: `${name} height` }));
    fields.push(
      h(
        'label',
        { class: 'field', for: `p-${op}-fit` },
        'Fit (both sides)',
        h(
          'select',
          { id: `p-${op}-fit` },
          h('option', { value: 'fill' }, 'Exact size (stretch)'),
          h('option', { value: 'inside' }, 'Fit inside'),
          h('option', { value: 'cover' }, 'Cover (crop)'),
          h('option', { value: 'contain' }, 'Contain (pad)'),
          h('option', { value: 'outside' }, 'Cover without crop'),
        ),
      ),
    );
  }
  if (op === 'denoise') {
    fields.push(
      h(
        'label',
        { class: 'field', for: 'p-denoise-model' },
        'Model',
        h(
          'select',
          { id: 'p-denoise-model' },
          h('option', { value: 'blind' }, 'Blind (reference)'),
          h('option', { value: 'clip' }, 'Clip-trained (best on 8-bit photos)'),
        ),
      ),
      h(
        'label',
        { class: 'field', for: 'p-denoise-sigma' },
        'Noise level σ (clip model)',
        h('input', {
          id: 'p-denoise-sigma',
          type: 'text',
          inputmode: 'numeric',
          placeholder: 'auto (or 1–75)',
          min: 1,
          max: 75,
          'data-check': true,
          'data-allow': 'auto',
          'data-label': 'The noise level σ',
        }),
      ),
    );
  }
  if (fields.length === 0) return null;
  const hint = RESIZE.has(op)
    ? h('p', { class: 'hint' }, 'Give a width or a height: the other side follows the aspect ratio.')
    : null;
  return h('div', { class: 'param-row', 'data-op': op }, h('h3', {}, `${labelOf(op)} options`), fields, hint);
}

export function labelOf(op) {
  return OPERATIONS.find((entry) => entry.op === op)?.label ?? FORMAT_NAMES[op] ?? op;
}

/** Renders the toggles; `onChange` runs whenever the selection changes. */
export function renderOperations(container, paramsContainer, onChange) {
  for (const { op, label, hint } of OPERATIONS) {
    const input = h('input', { type: 'checkbox', name: 'operations', value: op, id: `op-${op}` });
    input.addEventListener('change', () => {
      syncParams(container, paramsContainer);
      onChange();
    });
    container.append(
      h(
        'label',
        { class: 'toggle', for: `op-${op}` },
        input,
        h('span', {}, h('b', {}, label), h('small', { id: `op-${op}-hint` }, hint)),
      ),
    );
  }
}

function syncParams(container, paramsContainer) {
  for (const input of container.querySelectorAll('input[name=operations]')) {
    const existing = paramsContainer.querySelector(`[data-op="${input.value}"]`);
    if (input.checked && !existing) {
      const row = paramRow(input.value);
      if (row) paramsContainer.append(row);
    } else if (!input.checked && existing) existing.remove();
  }
}

/** Same-format conversions are disabled, with the reason on the toggle; their options panel goes too. */
export function disableSameFormat(container, sourceFormat, paramsContainer) {
  for (const input of container.querySelectorAll('input[name=operations]')) {
    const same = input.value === sourceFormat;
    input.disabled = same;
    if (same) input.checked = false;
    const hint = container.querySelector(`#op-${input.value}-hint`);
    const original = OPERATIONS.find((entry) => entry.op === input.value)?.hint ?? '';
    if (hint) hint.textContent = same ? `already ${labelOf(sourceFormat)}` : original;
    input.title = same
      ? `The image is already ${labelOf(sourceFormat)}: converting it to itself does nothing.`
      : '';
  }
  if (paramsContainer) syncParams(container, paramsContainer);
}

const intValue = (id) => {
  const el = document.getElementById(id);
  if (!el || el.value.trim() === '') return undefined;
  return Number(el.value);
};

/** `operations` and `operation_params` as the API expects them. */
export function readOperations(container) {
  const operations = [...container.querySelectorAll('input[name=operations]:checked')].map(
    (input) => input.value,
  );
  const params = {};
  for (const op of operations) {
    const entry = {};
    const quality = intValue(`p-${op}-quality`);
    if (quality !== undefined) entry.quality = quality;
    const width = intValue(`p-${op}-width`);
    const height = intValue(`p-${op}-height`);
    const fit = document.getElementById(`p-${op}-fit`)?.value ?? 'fill';
    if (width !== undefined || height !== undefined)
      entry.resize = fit === 'fill' ? { width, height } : { width, height, fit };
    if (op === 'denoise') {
      entry.model = document.getElementById('p-denoise-model')?.value ?? 'blind';
      const sigma = document.getElementById('p-denoise-sigma')?.value.trim() ?? '';
      if (entry.model === 'clip') entry.sigma = sigma === '' || sigma === 'auto' ? 'auto' : Number(sigma);
    }
    if (Object.keys(entry).length > 0) params[op] = entry;
  }
  return { operations, params };
}
