import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { serve } from '@hono/node-server';
import { createApp } from '../../services/intake/app.ts';
import type { IntakeConfig } from '../../services/intake/config.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { samplePng } from '../support/images.ts';
import { expectAccepted, expectError, post, type Upload } from './support/http.ts';
import { BOUNDARY, multipartBody, postRaw } from './support/multipart.ts';

const step = (id: string, op: string, input: string, params: object = {}) => ({ id, op, input, params });

/** Hostile requests: each is a 4xx whose `detail` says what is wrong and quotes little of the input. */
describe('POST /api/process against hostile input', () => {
  let h: Harness;
  let png: Upload;
  const appWith = (config: Partial<IntakeConfig>) =>
    createApp({ ...h, config: { ...h.config, ...config }, now: () => new Date(), newId: randomUUID });
  const send = (fields: Record<string, string>, file: Upload = png) => post(h.app, file, fields);
  before(async () => {
    h = await startHarness();
    png = { bytes: await samplePng(), name: 'p.png', type: 'image/png' };
  });
  after(() => h.close());

  it('answers malformed multipart bodies with 400 saying what is wrong', async () => {
    const parts = [
      { name: 'operations', value: '["webp"]' },
      { name: 'file', value: png.bytes, filename: 'p.png', type: 'image/png' },
    ];
    const whole = multipartBody(parts);
    await expectError(
      postRaw(h.app, multipartBody(parts, { close: false })),
      400,
      'Malformed multipart body: the body ends before the closing boundary (truncated?)',
    );
    await expectError(
      postRaw(h.app, whole.subarray(0, whole.length - 200)),
      400,
      'Malformed multipart body: the body ends before the closing boundary (truncated?)',
    );
    await expectError(
      postRaw(h.app, whole, 'multipart/form-data; boundary=never-in-the-body'),
      400,
      'Malformed multipart body: the boundary named in Content-Type never appears in the body',
    );
    await expectError(
      postRaw(h.app, whole, 'multipart/form-data'),
      400,
      'Malformed multipart body: Content-Type multipart/form-data has no boundary parameter',
    );
    await expectError(
      postRaw(h.app, Buffer.from(`--${BOUNDARY}\r\nNo-Colon-Here\r\n\r\nx\r\n--${BOUNDARY}--\r\n`)),
      400,
      'Malformed multipart body: malformed part header',
    );
    // not a form at all: the reference's answer for a missing file
    await expectError(postRaw(h.app, Buffer.from('{}'), 'application/json'), 422, /^file is required/);
    await expectAccepted(postRaw(h.app, whole));
  });

  it('answers a known route under another method with 405 and Allow, an unknown one with 404', async () => {
    const id = randomUUID();
    const cases = [
      ['PUT', '/api/process', 'POST'],
      ['GET', '/api/process', 'POST'],
      ['DELETE', `/api/jobs/${id}`, 'GET, HEAD'],
      ['POST', `/api/jobs/${id}/events`, 'GET, HEAD'],
      ['POST', '/api/health', 'GET, HEAD'],
      ['DELETE', '/metrics', 'GET, HEAD'],
    ] as const;
    for (const [method, path, allow] of cases) {
      const answer = await expectError(h.app.request(path, { method }), 405, 'Method Not Allowed');
      assert.equal(answer.headers.get('allow'), allow, `${method} ${path}`);
    }
    await expectError(h.app.request('/api/nothing', { method: 'PUT' }), 404, 'Not Found');
    await expectError(h.app.request(`/api/jobs/${id}/other`), 404, 'Not Found');
  });

  it('sniffs truncated files that look like PNG, ZIP or EBML without throwing', async () => {
    const png8 = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48]);
    const zip = Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0, 0, 8, 0, 0, 0]);
    const ebml = Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81]);
    for (const bytes of [png8, zip, ebml, png.bytes.subarray(0, 40), Buffer.alloc(0)]) {
      await expectError(
        send({ operations: '["webp"]' }, { bytes, name: 'cut.png' }),
        400,
        /^Unsupported file type: /,
      );
    }
  });

  it('limits every field (413 naming it) and quotes at most ~100 characters of any input', async () => {
    const huge = 'x'.repeat(1024 * 1024);
    const cases: [Record<string, string>, string][] = [
      [{ operations: `["${huge}"]` }, 'Field operations exceeds its limit of 1024 bytes'],
      [
        {
          operations: '["webp"]',
          operation_params: JSON.stringify({ webp: { pad: huge.slice(0, 17_000) } }),
        },
        'Field operation_params exceeds its limit of 16384 bytes',
      ],
      [
        { operations: '["webp"]', pipeline: `[${' '.repeat(70_000)}]` },
        'Field pipeline exceeds its limit of 65536 bytes',
      ],
      [
        { operations: '["webp"]', webhook_url: `https://example.com/${huge.slice(0, 3000)}` },
        'Field webhook_url exceeds its limit of 2048 bytes',
      ],
    ];
    for (const [fields, detail] of cases) await expectError(send(fields), 413, detail);
    const long = 'y'.repeat(900);
    for (const fields of <Record<string, string>[]>[
      { operations: `"${long}"` },
      { operations: `["${long}"]` },
      { operations: `[${long}` },
      { operations: '["webp"]', operation_params: `{${long}` },
      { operations: '["webp"]', pipeline: JSON.stringify([step('a', long, 'source')]) },
      { operations: '["webp"]', pipeline: JSON.stringify([step('a', 'webp', long)]) },
    ]) {
      const answer = await send(fields);
      const { detail } = (await answer.json()) as { detail: string };
      assert.equal(answer.status, 422, detail);
      assert.ok(detail.length < 260, `${detail.length} characters: ${detail}`);
      assert.ok(!detail.includes('y'.repeat(101)), detail);
    }
    const id = `not-a-uuid-${'z'.repeat(500)}`;
    const job = await h.app.request(`/api/jobs/${id}`);
    assert.equal(job.status, 422);
    assert.ok(((await job.json()) as { detail: string }).detail.length < 140);
  });

  it('refuses control characters at the boundary and drops what no schema knows', async () => {
    await expectError(
      send({ operations: '["webp"]', webhook_url: 'https://example.com/\u0000hook' }),
      422,
      'Field webhook_url contains control characters ("https://example.com/\\u0000hook")',
    );
    await expectError(
      send({ operations: '["webp"]', webhook_url: 'https://exa\tmple.com/' }),
      422,
      'webhook_url must be a valid http(s) URL',
    );
    await expectError(
      send({ operations: '["webp"]', operation_params: '{"webp":{"quality":80}}\u0000' }),
      422,
      'Field operation_params contains control characters ("{"webp":{"quality":80}}\\u0000")',
    );
    await expectError(
      send({ operations: '["webp"]', pipeline: JSON.stringify([step('a\u0000', 'webp', 'source')]) }),
      422,
      /^Invalid pipeline: step 1 needs an "id"/,
    );
    // escaped NULs in unknown keys and values are dropped by the schema, never stored
    const params = { webp: { quality: 80, 'x\u0000': '\u0000', resize: { width: 10, 'y\u0000': 1 } } };
    const jobId = await expectAccepted(
      send(
        { operations: '["webp"]', operation_params: JSON.stringify(params) },
        { bytes: png.bytes, name: '../../etc/pass\u0000wd\u202e.png' },
      ),
    );
    const [submitted] = await h.history(jobId);
    assert.equal(submitted?.type, 'JobSubmitted');
    if (submitted?.type !== 'JobSubmitted') return;
    assert.deepEqual(submitted.data.operationParams, { webp: { quality: 80, resize: { width: 10 } } });
    assert.equal(submitted.data.source.originalName, 'passwd.png');
  });

  it('keeps JobSubmitted under the event size limit: 413 before the upload is stored', async () => {
    const small = appWith({ maxEventBytes: 4096 });
    const webhook = `https://example.com/${'h'.repeat(2000)}`;
    const fields = { operations: '["webp","avif","jpg"]', webhook_url: webhook };
    const pipeline = JSON.stringify(
      Array.from({ length: 20 }, (_, i) =>
        step(`step-with-a-long-name-${i}`, 'webp', 'source', { quality: 50 }),
      ),
    );
    await h.storage.deletePrefixes(['raw/']);
    await expectError(
      post(small, png, { ...fields, pipeline }),
      413,
      /^The request's fields are too large for one job: \d+ bytes, at most 4096/,
    );
    assert.equal(await h.storage.deletePrefixes(['raw/']), 0, 'the upload was not stored');
    await expectAccepted(post(small, png, { operations: '["webp"]' }));
  });

  it('enforces the compute budget and the step count, with the numbers, both configurable', async () => {
    const dot = { bytes: await samplePng(1, 1), name: 'dot.png' };
    const bomb = [
      step('big', 'resize', 'source', { width: 10_000, height: 10_000 }),
      ...Array.from({ length: 19 }, (_, i) => step(`d${i}`, 'denoise', i === 0 ? 'big' : `d${i - 1}`)),
    ];
    await expectError(
      post(h.app, dot, { operations: '["denoise"]', pipeline: JSON.stringify(bomb) }),
      422,
      'Job exceeds the compute budget: estimated 11404.0 s of processing over 20 steps, the budget is ' +
        '1800.0 s (costliest: "d0" denoise 100.0 MP 600.0 s, "d1" denoise 100.0 MP 600.0 s, "d2" denoise 100.0 MP 600.0 s)',
    );
    await expectError(
      post(appWith({ maxPipelineSteps: 3 }), dot, { operations: '["webp"]', pipeline: JSON.stringify(bomb) }),
      422,
      'Invalid pipeline: a job has at most 3 steps',
    );
    const generous = appWith({ maxJobCostSeconds: 20_000 });
    await expectAccepted(post(generous, dot, { operations: '["denoise"]', pipeline: JSON.stringify(bomb) }));
    // the reference operations count too (at the default budget no reference request can exceed it)
    const ops = {
      operations: '["denoise","avif"]',
      operation_params: JSON.stringify({
        denoise: { resize: { width: 10_000, height: 5000 } },
        avif: { resize: { width: 10_000, height: 5000 } },
      }),
    };
    await expectAccepted(send(ops));
    await expectError(
      post(appWith({ maxJobCostSeconds: 100 }), png, ops),
      422,
      /^Job exceeds the compute budget: estimated 320\.0 s of processing over 2 steps, the budget is 100\.0 s/,
    );
  });

  it('bounds uploads in flight (429 with Retry-After) and slow bodies (408)', async () => {
    const app = appWith({ maxConcurrentUploads: 1, bodyTimeoutMs: 300 });
    const head = multipartBody([{ name: 'operations', value: '["webp"]' }], { close: false });
    let pull = 0;
    const slow = new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        if (pull++ === 0) controller.enqueue(new Uint8Array(head));
        else await new Promise((resolve) => setTimeout(resolve, 2000)); // never finishes in time
      },
    });
    const first = postRaw(app, slow);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const busy = await expectError(
      post(app, png, { operations: '["webp"]' }),
      429,
      'Too many uploads in progress (at most 1); try again shortly',
    );
    assert.equal(busy.headers.get('retry-after'), '2');
    await expectError(first, 408, 'Request body not received within 0.3 s');
    await expectAccepted(post(app, png, { operations: '["webp"]' }));
  });

  it('over a real connection, an upload refused before its body is read gets its 429, not a reset', async () => {
    const app = appWith({ maxConcurrentUploads: 1, bodyTimeoutMs: 10_000 });
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    // The only upload slot is held by a body that is never finished.
    const holder = request({
      host: '127.0.0.1',
      port,
      method: 'POST',
      path: '/api/process',
      headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
    });
    holder.on('error', () => undefined);
    holder.write(multipartBody([{ name: 'operations', value: '["webp"]' }], { close: false }));
    await new Promise((resolve) => setTimeout(resolve, 100));
    try {
      // 6 MB: far more than the socket buffers take, so the refusal comes while it is being sent.
      const form = new FormData();
      form.set('file', new File([new Uint8Array(randomBytes(6 * 1024 * 1024))], 'big.png'));
      form.set('operations', '["webp"]');
      const answer = await fetch(`http://127.0.0.1:${port}/api/process`, { method: 'POST', body: form });
      assert.equal(answer.status, 429);
      assert.equal(answer.headers.get('retry-after'), '2');
    } finally {
      holder.destroy();
      server.close();
    }
  });
});
