// The live step list. Each step: its name, what it is doing in words, and a progress bar.
import { STATUS_WORDS, stepLabel } from './describe.js';
import { h } from './format.js';

/**
 * The bar of one step. Steps report no fraction yet, so a running step shows an indeterminate bar;
 * `step.fraction` (0..1, e.g. from StepProgressed events) is drawn as it is when present.
 */
export function progressBar(step) {
  const value =
    step.status === 'succeeded'
      ? 100
      : typeof step.fraction === 'number'
        ? Math.round(step.fraction * 100)
        : null;
  const attrs = {
    class: `bar${value === null && step.status === 'running' ? ' busy' : ''}`,
    role: 'progressbar',
    'aria-label': `${stepLabel(step).name} progress`,
    'aria-valuemin': 0,
    'aria-valuemax': 100,
  };
  if (value !== null) attrs['aria-valuenow'] = value;
  else if (step.status !== 'running') attrs['aria-valuenow'] = 0;
  return h('span', attrs, h('i', value === null ? {} : { style: `width: ${value}%` }));
}

export function renderSteps(list, steps) {
  const all = [...steps];
  const done = all.filter((step) => step.status === 'succeeded').length;
  list.replaceChildren(
    ...all.map((step) => {
      const { name, id } = stepLabel(step);
      return h(
        'li',
        { class: step.status, 'data-step': step.id },
        h(
          'span',
          {},
          h('b', {}, name),
          id ? h('small', { class: 'step-id' }, ` ${id}`) : null,
          step.note ? h('small', {}, ` — ${step.note}`) : null,
        ),
        h('span', { class: `status ${step.status}` }, STATUS_WORDS[step.status] ?? step.status),
        progressBar(step),
      );
    }),
  );
  if (all.length > 0) list.setAttribute('aria-label', `Steps: ${done} of ${all.length} done`);
}
