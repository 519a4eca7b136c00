import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createApp } from '../../services/intake/app.ts';
import type { IntakeConfig } from '../../services/intake/config.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { sampleJpeg, samplePng } from '../support/images.ts';
import { expectAccepted, expectError, post, type Upload } from './support/http.ts';

/** Every numbered rule of the contract, in order: each test checks the status and the `detail`. */
describe('POST /api/process validation (rules 1–10, first failure wins)', () => {
  let h: Harness;
  let png: Upload;
  let jpeg: Upload;
  const appWith = (config: Partial<IntakeConfig>) =>
    createApp({ ...h, config: { ...h.config, ...config }, now: () => new Date(), newId: randomUUID });
  const send = (fields: Record<string, string>, file: Upload | null = png) => post(h.app, file, fields);
  before(async () => {
    h = await startHarness();
    png = { bytes: await samplePng(), name: 'p.png', type: 'image/png' };
    jpeg = { bytes: await sampleJpeg(), name: 'j.jpg', type: 'image/jpeg' };
  });
  after(() => h.close());

  it('1: a configured API key is required on every /api route but the health checks', async () => {
    const app = appWith({ apiKey: 'sekret-key' });
    const fields = { operations: '["webp"]' };
    await expectError(post(app, png, fields), 401, 'Invalid or missing API Key');
    await expectError(post(app, png, fields, { 'X-API-Key': 'wrong' }), 401, 'Invalid or missing API Key');
    await expectError(app.request(`/api/jobs/${randomUUID()}`), 401, 'Invalid or missing API Key');
    // the key is checked before anything else: even an empty form gets 401
    await expectError(post(app, null, {}), 401, 'Invalid or missing API Key');
    for (const path of ['/api/livez', '/api/readyz', '/api/health']) {
      const response = await app.request(path);
      if (response.status === 401) throw new Error(`${path} asked for the API key`);
    }
    await expectAccepted(post(app, png, fields, { 'X-API-Key': 'sekret-key' }));
  });

  it('2: file and operations are required', async () => {
    await expectError(send({ operations: '["webp"]' }, null), 422, /^file is required/);
    await expectError(send({}), 422, 'operations is required');
    // rule 2 comes before rule 3: a huge file without operations is a 422
    const huge = { bytes: Buffer.alloc(h.config.maxUploadBytes + 1), name: 'big.png' };
    await expectError(send({}, huge), 422, 'operations is required');
  });

  it('3: a file over the limit is 413; exactly the limit is accepted; the message follows the limit', async () => {
    const exact = Buffer.alloc(10_485_760);
    png.bytes.copy(exact);
    await expectAccepted(send({ operations: '["webp"]' }, { bytes: exact, name: 'exact.png' }));
    const over = Buffer.concat([exact, Buffer.alloc(1)]);
    await expectError(
      send({ operations: '["webp"]' }, { bytes: over, name: 'over.png' }),
      413,
      'File exceeds 10MB limit',
    );
    const small = appWith({ maxUploadBytes: 1024 * 1024 });
    const twoMb = Buffer.concat([png.bytes, Buffer.alloc(2 * 1024 * 1024)]);
    await expectError(
      post(small, { bytes: twoMb, name: 'x.png' }, { operations: '["webp"]' }),
      413,
      'File exceeds 1MB limit',
    );
  });

  it('4: the type is sniffed from the bytes, not the declared type', async () => {
    const text = {
      bytes: Buffer.from('definitely not an image\n'.repeat(20)),
      name: 'x.png',
      type: 'image/png',
    };
    await expectError(send({ operations: '["webp"]' }, text), 400, /^Unsupported file type: /);
    const gif = { bytes: Buffer.from('R0lGODlhAQABAAAAACw=', 'base64'), name: 'a.png', type: 'image/png' };
    await expectError(send({ operations: '["webp"]' }, gif), 400, /^Unsupported file type: image\/gif/);
    // rule 4 before rule 5
    await expectError(send({ operations: 'nonsense' }, text), 400, /^Unsupported file type: /);
    // a PNG declared as JPEG is a PNG
    await expectAccepted(send({ operations: '["jpg"]' }, { ...png, type: 'image/jpeg', name: 'lie.jpg' }));
  });

  it('5: operations must be a JSON array of known names, and not empty', async () => {
    await expectError(send({ operations: 'webp' }), 422, /^Invalid operations: /);
    await expectError(send({ operations: '{"op":"webp"}' }), 422, /^Invalid operations: /);
    await expectError(send({ operations: '["webp","gif"]' }), 422, /^Invalid operations: unknown "gif"/);
    await expectError(send({ operations: '[]' }), 422, 'At least one operation is required');
    // rule 5 before rule 6
    await expectError(send({ operations: '["gif"]', operation_params: '{' }), 422, /^Invalid operations: /);
  });

  it('6: operation_params must be a JSON object of objects; params of other operations are ignored', async () => {
    const ops = { operations: '["webp"]' };
    await expectError(send({ ...ops, operation_params: '{nope' }), 422, /^Invalid operation_params JSON: /);
    await expectError(
      send({ ...ops, operation_params: '[1]' }),
      422,
      'operation_params must be a JSON object',
    );
    await expectError(
      send({ ...ops, operation_params: '{"webp": 5}' }),
      422,
      "operation_params['webp'] must be an object",
    );
    await expectAccepted(send({ ...ops, operation_params: '{"jpg": 5, "avif": {"quality": 1000}}' }));
  });

  it('7: quality only for jpg and webp, an integer 1..100', async () => {
    const params = (p: unknown, op = 'webp') => ({
      operations: `["${op}"]`,
      operation_params: JSON.stringify({ [op]: p }),
    });
    const label = "operation_params['webp']";
    await expectError(
      send(params({ quality: 50 }, 'avif')),
      422,
      "operation_params['avif'] quality is only supported for jpg/webp",
    );
    await expectError(send(params({ quality: 'high' })), 422, `${label} quality must be an integer`);
    await expectError(send(params({ quality: 2.5 })), 422, `${label} quality must be an integer`);
    await expectError(send(params({ quality: 0 })), 422, `${label} quality must be 1..100`);
    await expectError(send(params({ quality: 101 })), 422, `${label} quality must be 1..100`);
    await expectAccepted(send(params({ quality: 100 })));
    // rule 7 before rule 8, across operations
    const both = {
      operations: '["avif","jpg"]',
      operation_params: '{"avif":{"resize":5},"jpg":{"quality":0}}',
    };
    await expectError(send(both), 422, "operation_params['jpg'] quality must be 1..100");
  });

  it('8: resize for every operation but metadata, {width and/or height}, positive integers', async () => {
    const params = (p: unknown, op = 'avif') => ({
      operations: `["${op}"]`,
      operation_params: JSON.stringify({ [op]: p }),
    });
    const label = "operation_params['avif'] resize";
    await expectError(
      send(params({ resize: { width: 10 } }, 'metadata')),
      422,
      "operation_params['metadata'] resize is only supported for jpg/png/webp/avif/denoise",
    );
    await expectError(send(params({ resize: 5 })), 422, `${label} must be an object`);
    await expectError(send(params({ resize: {} })), 422, `${label} requires width or height`);
    await expectError(send(params({ resize: { width: '10' } })), 422, `${label} width must be an integer`);
    await expectError(
      send(params({ resize: { width: 10, height: 1.5 } })),
      422,
      `${label} height must be an integer`,
    );
    await expectError(send(params({ resize: { height: 0 } })), 422, `${label} height must be > 0`);
    await expectError(send(params({ resize: { width: -3 } })), 422, `${label} width must be > 0`);
    await expectAccepted(send(params({ resize: { width: 32 } })));
  });

  it('9: webhook_url must be an absolute http(s) URL, and not a private target', async () => {
    const ops = { operations: '["webp"]' };
    for (const url of ['ftp://example.com/x', '/hooks/relative', 'not a url', 'http://']) {
      await expectError(send({ ...ops, webhook_url: url }), 422, 'webhook_url must be a valid http(s) URL');
    }
    await expectError(
      send({ ...ops, webhook_url: 'http://127.0.0.1:9/hook' }),
      422,
      /^webhook_url is not allowed: /,
    );
    await expectError(
      send({ ...ops, webhook_url: 'http://169.254.169.254/' }),
      422,
      /^webhook_url is not allowed: /,
    );
    // rule 9 before rule 10
    await expectError(
      send({ operations: '["png"]', webhook_url: 'gopher://x' }),
      422,
      'webhook_url must be a valid http(s) URL',
    );
    const allowing = appWith({ webhookAllowedHosts: ['127.0.0.1'] });
    await expectAccepted(post(allowing, png, { ...ops, webhook_url: 'http://127.0.0.1:9/hook' }));
  });

  it('10: no conversion to the sniffed source format; denoise and metadata are exempt', async () => {
    await expectError(
      send({ operations: '["webp","png"]' }),
      422,
      'Cannot convert png to png - source and target formats are the same',
    );
    await expectError(
      send({ operations: '["jpg"]' }, jpeg),
      422,
      'Cannot convert jpg to jpg - source and target formats are the same',
    );
    await expectAccepted(send({ operations: '["denoise","metadata"]' }));
    await expectAccepted(send({ operations: '["png"]' }, jpeg));
  });

  it('answers 202 with a job id and PENDING, and echoes or creates X-Request-ID', async () => {
    const echoed = await post(h.app, png, { operations: '["webp"]' }, { 'X-Request-ID': 'req-42' });
    await expectAccepted(echoed.clone());
    if (echoed.headers.get('x-request-id') !== 'req-42') throw new Error('X-Request-ID not echoed');
    const created = await send({ operations: '["webp"]' });
    if (!/^[0-9a-f-]{36}$/.test(created.headers.get('x-request-id') ?? ''))
      throw new Error('no X-Request-ID');
  });
});
