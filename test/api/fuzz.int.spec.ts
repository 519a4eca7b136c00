import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { serve } from '@hono/node-server';
import { createApp } from '../../services/intake/app.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { samplePng } from '../support/images.ts';
import { BOUNDARY, multipartBody, type Part } from './support/multipart.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** mulberry32: the same cases on every run, so a failure can be replayed. */
function prng(seed: number) {
  let state = seed;
  const next = () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  return { next, int, pick };
}
type Rng = ReturnType<typeof prng>;

const NASTY = [
  '\u0000',
  '\u0007',
  '\u001b[31m',
  '\r',
  '\n',
  '"',
  '\\',
  '../',
  '日本',
  'ü',
  '\u202e',
  '\ud83d\ude00',
  '%00',
];
const MAGIC = [
  [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
  [0xff, 0xd8, 0xff, 0xe0],
  [0x52, 0x49, 0x46, 0x46, 0, 0, 0, 0, 0x57, 0x45, 0x42, 0x50],
  [0, 0, 0, 0x1c, 0x66, 0x74, 0x79, 0x70, 0x61, 0x76, 0x69, 0x66],
  [0x50, 0x4b, 0x03, 0x04],
  [0x1a, 0x45, 0xdf, 0xa3],
  [0x47, 0x49, 0x46, 0x38, 0x39, 0x61],
];

const nasty = (rng: Rng, base: string) =>
  Array.from({ length: 1 + rng.int(4) }, () => rng.pick(NASTY)).join(base) + (rng.next() < 0.5 ? '.png' : '');

function jsonish(rng: Rng, depth = 0): unknown {
  const choices = [
    () => rng.pick(['webp', 'jpg', 'png', 'avif', 'denoise', 'metadata', 'resize', 'bundle', 'gif', '']),
    () => rng.int(1e6) - 5e5,
    () => rng.next() * 1e300,
    () => null,
    () => nasty(rng, 'k'),
    () => (depth > 3 ? 1 : Array.from({ length: rng.int(4) }, () => jsonish(rng, depth + 1))),
    () =>
      depth > 3
        ? {}
        : Object.fromEntries(
            Array.from({ length: rng.int(4) }, () => [
              rng.pick(['width', 'height', 'fit', 'quality', 'resize', 'id', 'op', 'input', nasty(rng, 'x')]),
              jsonish(rng, depth + 1),
            ]),
          ),
  ];
  return rng.pick(choices)();
}

/** One generated request: a body, its Content-Type, and extra headers. */
function generate(
  rng: Rng,
  png: Buffer,
): { body: Buffer; contentType: string; headers: Record<string, string> } {
  const file: Part = {
    name: rng.next() < 0.9 ? 'file' : nasty(rng, 'f'),
    value:
      rng.next() < 0.5
        ? png
        : Buffer.concat([Buffer.from(rng.pick(MAGIC)), Buffer.alloc(rng.int(64), rng.int(256))]),
    filename: rng.next() < 0.8 ? nasty(rng, 'name') : undefined,
    type: rng.pick(['image/png', 'image/jpeg', '', 'text/plain', nasty(rng, 't')]),
  };
  const fields: Part[] = [
    { name: 'operations', value: rng.next() < 0.6 ? '["webp"]' : (JSON.stringify(jsonish(rng)) ?? 'x') },
  ];
  for (const name of ['operation_params', 'pipeline', 'webhook_url']) {
    if (rng.next() < 0.4) fields.push({ name, value: String(JSON.stringify(jsonish(rng))) });
  }
  if (rng.next() < 0.1)
    fields.push(...Array.from({ length: 40 }, (_, i) => ({ name: `extra${i}`, value: 'x' })));
  const parts = rng.next() < 0.5 ? [...fields, file] : [file, ...fields];
  let body = multipartBody(parts, { close: rng.next() < 0.85 });
  const mutation = rng.int(6);
  if (mutation === 0) body = body.subarray(0, rng.int(body.length));
  if (mutation === 1) {
    body = Buffer.from(body);
    for (let i = 0; i < 1 + rng.int(8); i++) body[rng.int(body.length)] = rng.int(256);
  }
  if (mutation === 2)
    body = Buffer.from(body.toString('latin1').replaceAll('\r\n', rng.pick(['\n', '\r', ''])), 'latin1');
  const contentType = rng.pick([
    `multipart/form-data; boundary=${BOUNDARY}`,
    `multipart/form-data; boundary="${BOUNDARY}"`,
    `MULTIPART/FORM-DATA; BOUNDARY=${BOUNDARY}; charset=utf-8`,
    'multipart/form-data',
    'multipart/form-data; boundary=',
    `multipart/form-data; boundary=${BOUNDARY.slice(0, 5)}`,
    'application/x-www-form-urlencoded',
    'application/json',
    'text/plain',
    '',
  ]);
  const headers: Record<string, string> = {};
  if (rng.next() < 0.2) headers['idempotency-key'] = 'k'.repeat(rng.pick([1, 255, 256, 4000]));
  if (rng.next() < 0.2) headers['x-request-id'] = encodeURIComponent(nasty(rng, 'r'));
  return { body, contentType, headers };
}

function send(
  port: number,
  path: string,
  body: Buffer | null,
  headers: Record<string, string>,
  timeoutMs = 10_000,
) {
  return new Promise<number>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: body ? 'POST' : 'GET', headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer to ${path} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body ?? undefined);
  });
}

describe('fuzz: generated hostile multipart requests over real HTTP', () => {
  let h: Harness;
  let server: ReturnType<typeof serve>;
  let port: number;
  before(async () => {
    h = await startHarness();
    const app = createApp({
      ...h,
      config: { ...h.config, bodyTimeoutMs: 2000 },
      now: () => new Date(),
      newId: randomUUID,
    });
    server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise((resolve) => server.once('listening', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    server.close();
    await h.close();
  });

  it('answers 300 generated requests without a 5xx or a hang; liveness and memory hold', async () => {
    const rng = prng(11);
    const png = await samplePng(32, 24);
    gc();
    const baseline = process.memoryUsage().heapUsed;
    const statuses = new Map<number, number>();
    for (let batch = 0; batch < 30; batch++) {
      const answers = await Promise.all(
        Array.from({ length: 10 }, async () => {
          const { body, contentType, headers } = generate(rng, png);
          const all = { ...headers, ...(contentType ? { 'content-type': contentType } : {}) };
          try {
            return { status: await send(port, '/api/process', body, all), contentType, body };
          } catch (error) {
            return { status: -1, error: String(error), contentType, body };
          }
        }),
      );
      for (const answer of answers) {
        statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
        const what = `${answer.contentType} ${JSON.stringify(answer.body.subarray(0, 300).toString('latin1'))}`;
        assert.ok(
          answer.status >= 200 && answer.status < 500,
          `${answer.status} ${'error' in answer ? answer.error : ''} for ${what}`,
        );
      }
      if (batch % 10 === 9) assert.equal(await send(port, '/api/livez', null, {}, 2000), 200);
    }
    assert.equal(await send(port, '/api/livez', null, {}, 2000), 200);
    gc();
    const grown = (process.memoryUsage().heapUsed - baseline) / 1024 / 1024;
    console.log(`statuses ${JSON.stringify(Object.fromEntries(statuses))}; heap grew ${grown.toFixed(1)} MB`);
    assert.ok(grown < 64, `heap grew ${grown.toFixed(1)} MB`);
    assert.ok((statuses.get(400) ?? 0) > 20 && (statuses.get(202) ?? 0) > 0, JSON.stringify([...statuses]));
  });
});
