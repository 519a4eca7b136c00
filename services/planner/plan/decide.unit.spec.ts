import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EVENT_VERSION, type JobEvent, type NewEvent } from '../../../shared/events/events.ts';
import type { StepSpec } from '../../../shared/events/operations.ts';
import { decideAll, outputKeyFor } from './decide.ts';
import { fold } from './plan.ts';

const jobId = '7b0d3f7e-4c1a-4d55-9a57-3c1f2f0a9b11';
const stamp = (event: NewEvent): JobEvent =>
  ({
    ...event,
    metadata: {
      eventId: `${event.type}-id`,
      jobId,
      time: '2026-11-29T10:00:00.000Z',
      version: EVENT_VERSION,
      correlationId: jobId,
      causationId: null,
    },
  }) as JobEvent;

const submitted = (operations: ('webp' | 'jpg')[]): NewEvent => ({
  type: 'JobSubmitted',
  data: {
    source: {
      key: `raw/${jobId}/source.png`,
      format: 'png',
      bytes: 10,
      width: 4,
      height: 3,
      originalName: 'cat.png',
      sha256: 'a'.repeat(64),
    },
    operations,
    operationParams: {},
    pipeline: null,
    webhookUrl: null,
    requestId: 'r1',
    expiresAt: '2026-11-30T10:00:00.000Z',
  },
});

const output = (stepId: string) => ({
  key: `outputs/${jobId}/${stepId}.webp`,
  format: 'webp',
  contentType: 'image/webp',
  bytes: 5,
  width: 4,
  height: 3,
  filename: `pixtools_${stepId}_cat.webp`,
});

/** given(events).decides(events): the when is always "decide what the job needs next". */
function given(...events: NewEvent[]) {
  const state = fold(events.map(stamp));
  return {
    decides: (expected: string[]) => assert.deepEqual(decideAll(state, stamp).map(describeEvent), expected),
  };
}
const describeEvent = (event: NewEvent) =>
  'stepId' in event.data ? `${event.type}:${String(event.data.stepId)}` : event.type;

describe('planner decide', () => {
  it('plans a submitted job and dispatches every step that reads the source', () => {
    given(submitted(['webp', 'jpg'])).decides(['JobPlanned', 'StepDispatched:webp', 'StepDispatched:jpg']);
  });

  it('fills the command with the source as input and a deterministic output key', () => {
    const state = fold([stamp(submitted(['webp']))]);
    const dispatched = decideAll(state, stamp).find((event) => event.type === 'StepDispatched');
    assert.ok(dispatched?.type === 'StepDispatched');
    assert.deepEqual(dispatched.data.command.inputs, [
      { from: 'source', key: `raw/${jobId}/source.png`, format: 'png', filename: 'cat.png' },
    ]);
    assert.equal(dispatched.data.command.outputKey, `outputs/${jobId}/webp.webp`);
  });

  it('decides nothing while a dispatched step is running', () => {
    const planned = decideAll(fold([stamp(submitted(['webp']))]), stamp);
    given(submitted(['webp']), ...planned, {
      type: 'StepStarted',
      data: { stepId: 'webp', attempt: 1, worker: 'w' },
    }).decides([]);
  });

  it('completes the job when every step succeeded', () => {
    const planned = decideAll(fold([stamp(submitted(['webp']))]), stamp);
    given(submitted(['webp']), ...planned, {
      type: 'StepSucceeded',
      data: { stepId: 'webp', output: output('webp'), metadata: null, durationMs: 3 },
    }).decides(['JobCompleted']);
  });

  it('fails the job naming the step when a step failed, even if others succeeded', () => {
    const planned = decideAll(fold([stamp(submitted(['webp', 'jpg']))]), stamp);
    const events: NewEvent[] = [
      submitted(['webp', 'jpg']),
      ...planned,
      {
        type: 'StepSucceeded',
        data: { stepId: 'webp', output: output('webp'), metadata: null, durationMs: 3 },
      },
      { type: 'StepFailed', data: { stepId: 'jpg', error: 'corrupt', attempts: 1 } },
    ];
    const decided = decideAll(fold(events.map(stamp)), stamp);
    assert.equal(decided.length, 1);
    assert.deepEqual(decided[0], {
      type: 'JobFailed',
      data: { error: 'Step "jpg" (jpg) failed: corrupt', failedStep: 'jpg' },
    });
  });

  it('ignores a late duplicate success after the job completed', () => {
    const planned = decideAll(fold([stamp(submitted(['webp']))]), stamp);
    const done: NewEvent = {
      type: 'StepSucceeded',
      data: { stepId: 'webp', output: output('webp'), metadata: null, durationMs: 3 },
    };
    given(submitted(['webp']), ...planned, done, { type: 'JobCompleted', data: {} }, done).decides([]);
  });

  it('does not dispatch a step twice', () => {
    const planned = decideAll(fold([stamp(submitted(['webp']))]), stamp);
    given(submitted(['webp']), ...planned).decides([]);
  });
});

describe('planner decide: a DAG of steps', () => {
  const submittedWith = (pipeline: StepSpec[]): NewEvent => {
    const base = submitted(['webp']);
    assert.ok(base.type === 'JobSubmitted');
    return { type: 'JobSubmitted', data: { ...base.data, pipeline } };
  };
  const pipeline = submittedWith([
    { id: 'dn', op: 'denoise', params: {}, inputs: ['source'], result: null },
    { id: 'small', op: 'resize', params: { width: 2 }, inputs: ['dn'], result: null },
    { id: 'web', op: 'webp', params: {}, inputs: ['small'], result: 'web' },
    { id: 'av', op: 'avif', params: {}, inputs: ['dn'], result: 'av' },
  ]);
  const succeeded = (stepId: string, format: string): NewEvent => ({
    type: 'StepSucceeded',
    data: {
      stepId,
      output: { ...output(stepId), key: `outputs/${jobId}/${stepId}.${format}`, format },
      metadata: null,
      durationMs: 3,
    },
  });
  const run = (...events: NewEvent[]) => {
    const history = [pipeline, ...decideAll(fold([stamp(pipeline)]), stamp), ...events];
    return { history, decided: decideAll(fold(history.map(stamp)), stamp) };
  };

  it('plans the pipeline plus a ZIP step, and dispatches only the step that reads the source', () => {
    const { history } = run();
    const planned = history.find((event) => event.type === 'JobPlanned');
    assert.ok(planned?.type === 'JobPlanned');
    assert.deepEqual(
      planned.data.steps.map((s) => `${s.id}<-${s.inputs.join('+')}`),
      ['dn<-source', 'small<-dn', 'web<-small', 'av<-dn', 'bundle<-web+av'],
    );
    assert.deepEqual(history.slice(2).map(describeEvent), ['StepDispatched:dn']);
  });

  it('runs both branches in parallel once the shared input exists, each reading its output', () => {
    const { decided } = run(succeeded('dn', 'png'));
    assert.deepEqual(decided.map(describeEvent), ['StepDispatched:small', 'StepDispatched:av']);
    const resize = decided[0];
    assert.ok(resize?.type === 'StepDispatched');
    assert.equal(resize.data.command.inputs[0]?.key, `outputs/${jobId}/dn.png`);
    assert.equal(
      resize.data.command.outputKey,
      `outputs/${jobId}/small.png`,
      'resize keeps its input format',
    );
  });

  it('bundles after every result, then completes', () => {
    const first = run(succeeded('dn', 'png'), succeeded('small', 'png'), succeeded('av', 'avif'));
    assert.deepEqual(first.decided.map(describeEvent), ['StepDispatched:web']);
    const second = run(
      ...[succeeded('dn', 'png'), succeeded('small', 'png'), succeeded('av', 'avif')],
      ...first.decided,
      succeeded('web', 'webp'),
    );
    const bundle = second.decided[0];
    assert.ok(bundle?.type === 'StepDispatched');
    assert.deepEqual(
      bundle.data.command.inputs.map((input) => input.key),
      [`outputs/${jobId}/web.webp`, `outputs/${jobId}/av.avif`],
    );
    assert.equal(bundle.data.command.outputKey, `bundles/${jobId}/bundle.zip`);
  });

  it('fails the job naming the step on a cycle in the pipeline', () => {
    const cyclic = submittedWith([
      { id: 'a', op: 'resize', params: {}, inputs: ['b'], result: null },
      { id: 'b', op: 'webp', params: {}, inputs: ['a'], result: 'b' },
    ]);
    const decided = decideAll(fold([stamp(cyclic)]), stamp);
    assert.equal(decided[0]?.type, 'JobFailed');
    assert.match(JSON.stringify(decided[0]?.data), /step \\"a\\" is part of a cycle/);
  });
});

describe('planner decide: output keys', () => {
  const denoise = (params: StepSpec['params']): StepSpec =>
    ({ id: 'dn', op: 'denoise', params, inputs: ['source'], result: 'dn' }) as StepSpec;

  it('names a denoise output by its chosen format, PNG when none is chosen', () => {
    assert.equal(outputKeyFor(jobId, denoise({}), 'jpg'), `outputs/${jobId}/dn.png`);
    assert.equal(outputKeyFor(jobId, denoise({ format: 'webp' }), 'jpg'), `outputs/${jobId}/dn.webp`);
  });
});
