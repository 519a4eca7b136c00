import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Hono } from 'hono';
import { ApiError } from '../../services/intake/errors.ts';
import { eventsApi } from '../../services/intake/events.api.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { samplePng } from '../support/images.ts';

type Sse = { id: string; event: string; data: Record<string, unknown> };

function parseSse(text: string): Sse[] {
  return text
    .split('\n\n')
    .filter((block) => block.includes('data:'))
    .map((block) => {
      const field = (name: string) =>
        block
          .split('\n')
          .find((line) => line.startsWith(`${name}:`))
          ?.slice(name.length + 1)
          .trim() ?? '';
      return { id: field('id'), event: field('event'), data: JSON.parse(field('data')) };
    });
}

describe('GET /api/jobs/{id}/events (Server-Sent Events)', () => {
  let h: Harness;
  let app: Hono;
  before(async () => {
    h = await startHarness();
    h.start();
    app = new Hono().route('/api', eventsApi({ bus: h.bus, config: h.config }));
    app.onError((error, c) =>
      error instanceof ApiError ? c.json({ detail: error.message }, error.status) : c.text('', 500),
    );
  });
  after(() => h.close());

  it('replays a finished job and ends after its terminal event, without storage keys', async () => {
    const response = await h.submit(await samplePng(), 'sse.png', { operations: '["webp"]' });
    const { job_id: jobId } = (await response.json()) as { job_id: string };
    await h.waitForJob(jobId, (view) => view.job.status === 'COMPLETED');
    const sse = await app.request(`/api/jobs/${jobId}/events`);
    assert.equal(sse.status, 200);
    assert.match(sse.headers.get('content-type') ?? '', /text\/event-stream/);
    const text = await sse.text();
    const events = parseSse(text);
    assert.deepEqual(
      events.map((event) => event.event),
      ['JobSubmitted', 'JobPlanned', 'StepDispatched', 'StepStarted', 'StepSucceeded', 'JobCompleted'],
    );
    assert.ok(!text.includes('raw/') && !text.includes('outputs/'), 'no storage keys leak');
    const ids = events.map((event) => Number(event.id));
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => a - b),
    );

    // resume after the fourth event, as a reconnecting EventSource does with Last-Event-ID
    const resumed = parseSse(
      await (
        await app.request(`/api/jobs/${jobId}/events`, { headers: { 'Last-Event-ID': String(ids[3]) } })
      ).text(),
    );
    assert.deepEqual(
      resumed.map((event) => event.event),
      ['StepSucceeded', 'JobCompleted'],
    );
  });

  it('streams events live while the job runs', async () => {
    await h.stop('converter');
    const response = await h.submit(await samplePng(), 'live.png', { operations: '["jpg"]' });
    const { job_id: jobId } = (await response.json()) as { job_id: string };
    const sse = await app.request(`/api/jobs/${jobId}/events`);
    const reader = sse.body?.getReader();
    assert.ok(reader);
    const decoder = new TextDecoder();
    let text = '';
    while (!text.includes('StepDispatched')) text += decoder.decode((await reader.read()).value);
    assert.ok(!text.includes('JobCompleted'));
    h.start('converter');
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) break;
      text += decoder.decode(chunk.value);
    }
    assert.deepEqual(parseSse(text).at(-1)?.event, 'JobCompleted');
  });

  it('answers 422 for a malformed id and 404 for an unknown job', async () => {
    assert.equal((await app.request('/api/jobs/nope/events')).status, 422);
    assert.equal((await app.request(`/api/jobs/${randomUUID()}/events`)).status, 404);
  });

  it('caps open streams per client and in total (429 with Retry-After), and ends them all on shutdown', async () => {
    await h.stop('converter');
    const response = await h.submit(await samplePng(), 'capped.png', { operations: '["jpg"]' });
    const { job_id: jobId } = (await response.json()) as { job_id: string };
    const shutdown = new AbortController();
    const capped = (sseMaxStreams: number, sseMaxStreamsPerClient: number) => {
      const config = { ...h.config, sseMaxStreams, sseMaxStreamsPerClient };
      const api = new Hono().route('/api', eventsApi({ bus: h.bus, config, shutdown: shutdown.signal }));
      api.onError((error, c) =>
        error instanceof ApiError
          ? c.json({ detail: error.message }, error.status, error.headers)
          : c.text('', 500),
      );
      return api;
    };
    const perClient = capped(10, 2);
    const open = [
      await perClient.request(`/api/jobs/${jobId}/events`),
      await perClient.request(`/api/jobs/${jobId}/events`),
    ];
    const refused = await perClient.request(`/api/jobs/${jobId}/events`);
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('retry-after'), '5');
    assert.deepEqual(await refused.json(), {
      detail: 'Too many open event streams from this client (at most 2); try again shortly',
    });
    const total = capped(1, 5);
    open.push(await total.request(`/api/jobs/${jobId}/events`));
    const full = await total.request(`/api/jobs/${jobId}/events`);
    assert.equal(full.status, 429);
    assert.match(((await full.json()) as { detail: string }).detail, /at most 1\)/);
    // SIGTERM: every open stream ends (the job is still running), so the server can close
    const ended = Promise.all(open.map((stream) => stream.text()));
    shutdown.abort();
    const texts = await ended;
    for (const text of texts) assert.ok(!text.includes('JobCompleted'), 'ended before the job did');
    const after = await perClient.request(`/api/jobs/${jobId}/events`);
    assert.equal(after.status, 503);
    h.start('converter');
  });
});
