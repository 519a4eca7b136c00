import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deliveryIdFor, payloadFor, planDelivery } from '../../services/notifier/enqueue/plan.ts';
import { attemptOf } from '../../services/notifier/rabbit/topology.ts';
import type { JobEvent, NewEvent } from '../../shared/events/events.ts';
import type { TerminalEvent } from '../../shared/jobs/status.ts';
import { jobEvents } from './support/jobs.ts';

const jobId = '6f1c2a34-8d5e-4b7a-9c0d-1e2f3a4b5c6d';
const stamp = (event: NewEvent, n: number): JobEvent =>
  ({
    ...event,
    metadata: {
      eventId: `${jobId}:${event.type}:${n}`,
      jobId,
      time: `2026-11-29T10:00:0${n}.000Z`,
      version: 1,
      correlationId: jobId,
      causationId: null,
    },
  }) as JobEvent;
const given = (...events: NewEvent[]) => events.map(stamp);
const completed = stamp({ type: 'JobCompleted', data: {} }, 8) as TerminalEvent;

describe('planning a webhook from the job history', () => {
  it('a job without a webhook URL sends nothing', () => {
    const history = given(...jobEvents(jobId, null, 'completed'));
    assert.deepEqual(planDelivery([...history, completed], completed), { send: false, reason: 'no-webhook' });
  });

  it('a completed job sends its results, named by step result, under a delivery id fixed by the event', async () => {
    const history = [...given(...jobEvents(jobId, 'https://hooks.example.com/x', 'completed')), completed];
    const outcome = planDelivery(history, completed);
    assert.ok(outcome.send);
    assert.equal(outcome.plan.deliveryId, deliveryIdFor(completed));
    assert.equal(outcome.plan.event, 'job.completed');
    assert.deepEqual(outcome.plan.results, [
      { name: 'webp', key: `outputs/${jobId}/webp.webp`, filename: 'pixtools_webp_photo.webp' },
    ]);
    const payload = await payloadFor(jobId, outcome.plan, completed, async (d) => `https://s3/${d.key}`);
    assert.deepEqual(payload, {
      job_id: jobId,
      status: 'COMPLETED',
      result_urls: { webp: `https://s3/outputs/${jobId}/webp.webp` },
      archive_url: null,
      metadata: {},
      error_message: null,
      created_at: '2026-11-29T10:00:00.000Z',
      completed_at: '2026-11-29T10:00:08.000Z',
    });
  });

  it('a bundle step becomes archive_url and EXIF becomes metadata', async () => {
    const exif = {
      camera_make: 'Canon',
      camera_model: null,
      lens_model: null,
      captured_at: null,
      exposure_time: null,
      aperture: null,
      iso: 100,
      gps: null,
    };
    const output = (stepId: string, ext: string) => ({
      key: `outputs/${jobId}/${stepId}.${ext}`,
      format: ext,
      contentType: 'x/y',
      bytes: 1,
      width: null,
      height: null,
      filename: `${stepId}.${ext}`,
    });
    const [submitted] = jobEvents(jobId, 'https://hooks.example.com/x', 'completed');
    assert.ok(submitted);
    const history = given(
      submitted,
      {
        type: 'JobPlanned',
        data: {
          steps: [
            { id: 'metadata', op: 'metadata', params: {}, inputs: ['source'], result: 'metadata' },
            { id: 'zip', op: 'bundle', params: {}, inputs: ['metadata'], result: null },
          ],
        },
      },
      { type: 'StepSucceeded', data: { stepId: 'metadata', output: null, metadata: exif, durationMs: 1 } },
      {
        type: 'StepSucceeded',
        data: { stepId: 'zip', output: output('zip', 'zip'), metadata: null, durationMs: 1 },
      },
    );
    const outcome = planDelivery([...history, completed], completed);
    assert.ok(outcome.send);
    const payload = await payloadFor(jobId, outcome.plan, completed, async (d) => `u:${d.filename}`);
    assert.equal(payload.archive_url, 'u:zip.zip');
    assert.deepEqual(payload.result_urls, {});
    assert.deepEqual(payload.metadata, exif);
  });

  it('a failed job sends its error; after the retention window no URLs are sent', async () => {
    const failed = stamp(
      { type: 'JobFailed', data: { error: 'boom', failedStep: 'webp' } },
      9,
    ) as TerminalEvent;
    const history = [...given(...jobEvents(jobId, 'https://hooks.example.com/x', 'failed')), failed];
    const outcome = planDelivery(history, failed);
    assert.ok(outcome.send);
    const payload = await payloadFor(jobId, outcome.plan, failed, async () => null);
    assert.equal(payload.status, 'FAILED');
    assert.equal(payload.error_message, 'boom');
    assert.equal(outcome.plan.event, 'job.failed');
  });

  it('a delivery already delivered or failed for good is not sent again', () => {
    const deliveryId = deliveryIdFor(completed);
    const url = 'https://hooks.example.com/x';
    for (const settled of [
      { type: 'WebhookDelivered', data: { deliveryId, url, attempts: 1, statusCode: 200 } },
      { type: 'WebhookFailed', data: { deliveryId, url, attempts: 6, error: 'HTTP 500' } },
    ] as const) {
      const history = [...given(...jobEvents(jobId, url, 'completed')), completed, stamp(settled, 9)];
      assert.deepEqual(planDelivery(history, completed), { send: false, reason: 'already-settled' });
    }
  });

  it('reads the attempt number from the routing key', () => {
    assert.equal(attemptOf('attempt.1'), 1);
    assert.equal(attemptOf('attempt.6'), 6);
    assert.equal(attemptOf('something-else'), 1);
  });
});
