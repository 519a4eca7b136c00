// The chain builder: steps that read the source or an earlier step, shown as the DAG that will be sent.

import { labelOf } from './form.js';
import { h } from './format.js';

const CHAIN_OPS = ['denoise', 'resize', 'jpg', 'png', 'webp', 'avif'];

export function createChain(list, preview, onChange) {
  let steps = [];
  let counter = 0;

  const changed = () => {
    render();
    onChange();
  };

  function add(step = {}) {
    counter += 1;
    const previous = steps.at(-1);
    steps.push({
      id: step.id ?? `s${counter}`,
      op: step.op ?? 'webp',
      input: step.input ?? previous?.id ?? 'source',
      params: step.params ?? {},
    });
    changed();
  }

  /** Removing a step rewires the steps that read it to what it read. */
  function remove(id) {
    const removed = steps.find((step) => step.id === id);
    steps = steps
      .filter((step) => step.id !== id)
      .map((step) => (step.input === id ? { ...step, input: removed?.input ?? 'source' } : step));
    changed();
  }

  function field(step, name, label, attrs = {}) {
    const id = `chain-${step.id}-${name}`;
    const input = h('input', {
      id,
      type: attrs.type ?? 'number',
      min: 1,
      step: 1,
      inputmode: 'numeric',
      'data-check': true,
      'data-label': `${label} of step ${step.id}`,
      ...attrs,
      value: step.params[name] ?? '',
    });
    input.addEventListener('change', () => {
      const raw = input.value.trim();
      step.params[name] = raw === '' ? undefined : raw === input.dataset.allow ? raw : Number(raw);
      render(false);
      onChange();
    });
    return h('label', { class: 'field', for: id }, label, input);
  }

  const sigmaAttrs = { type: 'text', max: 75, placeholder: 'auto', 'data-allow': 'auto' };

  function modelField(step) {
    const id = `chain-${step.id}-model`;
    const select = h(
      'select',
      { id },
      h('option', { value: 'blind', selected: step.params.model !== 'clip' }, 'Blind (reference)'),
      h('option', { value: 'clip', selected: step.params.model === 'clip' }, 'Clip-trained'),
    );
    select.addEventListener('change', () => {
      step.params.model = select.value;
      render(false);
      onChange();
    });
    return h('label', { class: 'field', for: id }, 'Model', select);
  }

  function row(step, index) {
    const opId = `chain-${step.id}-op`;
    const inputId = `chain-${step.id}-input`;
    const op = h(
      'select',
      { id: opId },
      CHAIN_OPS.map((name) =>
        h(
          'option',
          { value: name, selected: name === step.op },
          labelOf(name === 'resize' ? 'resize' : name),
        ),
      ),
    );
    op.addEventListener('change', () => {
      step.op = op.value;
      step.params = {};
      changed();
    });
    const sources = ['source', ...steps.slice(0, index).map((s) => s.id)];
    const input = h(
      'select',
      { id: inputId },
      sources.map((name) =>
        h('option', { value: name, selected: name === step.input }, name === 'source' ? 'the upload' : name),
      ),
    );
    input.addEventListener('change', () => {
      step.input = input.value;
      changed();
    });
    const extra = [];
    if (step.op === 'resize')
      extra.push(field(step, 'width', 'Width px'), field(step, 'height', 'Height px'));
    if (step.op === 'jpg' || step.op === 'webp') extra.push(field(step, 'quality', 'Quality', { max: 100 }));
    if (step.op === 'denoise')
      extra.push(modelField(step), field(step, 'sigma', 'Noise level σ', sigmaAttrs));
    return h(
      'li',
      {},
      h('span', { class: 'step-id' }, step.id),
      h('label', { class: 'field', for: opId }, 'Operation', op),
      h('label', { class: 'field', for: inputId }, 'Reads', input),
      extra,
      h(
        'button',
        {
          type: 'button',
          class: 'small ghost',
          'aria-label': `Remove step ${step.id}`,
          onclick: () => remove(step.id),
        },
        'Remove',
      ),
    );
  }

  function render(rebuild = true) {
    if (rebuild) list.replaceChildren(...steps.map(row));
    preview.textContent = describe();
  }

  function describe() {
    if (steps.length === 0) return 'No chain: each chosen operation reads the source.';
    const consumed = new Set(steps.map((step) => step.input));
    return steps
      .map((step) => {
        const params = Object.entries(step.params)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ');
        const result = consumed.has(step.id) ? '' : '  ★ result';
        return `${step.input.padEnd(8)} → ${step.id} ${step.op}${params ? ` (${params})` : ''}${result}`;
      })
      .join('\n');
  }

  return {
    add,
    clear() {
      steps = [];
      counter = 0;
      changed();
    },
    /** `sourceWidth` keeps the example from enlarging a small image: it halves it instead. */
    example(sourceWidth) {
      steps = [];
      counter = 0;
      const width = sourceWidth && sourceWidth <= 800 ? Math.max(1, Math.floor(sourceWidth / 2)) : 800;
      add({ op: 'denoise', input: 'source' });
      add({ op: 'resize', input: 's1', params: { width } });
      add({ op: 'webp', input: 's2' });
      add({ op: 'avif', input: 's1' });
    },
    isEmpty: () => steps.length === 0,
    /** The `pipeline` field: steps with their operation, parameters and the one input they read. */
    toPipeline: () =>
      steps.map((step) => {
        const params = Object.fromEntries(Object.entries(step.params).filter(([, v]) => v !== undefined));
        if (step.op === 'resize')
          return {
            id: step.id,
            op: 'resize',
            input: step.input,
            params: { width: params.width, height: params.height },
          };
        if (step.op === 'denoise') {
          const model = params.model ?? 'blind';
          return {
            id: step.id,
            op: 'denoise',
            input: step.input,
            params: model === 'clip' ? { model, sigma: params.sigma ?? 'auto' } : { model },
          };
        }
        return { id: step.id, op: step.op, input: step.input, params };
      }),
    render,
  };
}
