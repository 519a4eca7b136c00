import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { S3Config } from '../../shared/config/infra.ts';
import { createLogger } from '../../shared/log.ts';
import { Storage } from '../../shared/storage/storage.ts';
import { type S3Local, startS3Local } from './server.ts';

// The embedded S3 against the real AWS SDK (the services' own Storage client and raw commands) and
// against fetch following presigned links, as a browser does.
const log = createLogger('s3local-test', { level: 'silent', pretty: false });
const credentials = { accessKeyId: 'local-key', secretAccessKey: 'local-secret' };

describe('embedded S3', () => {
  let dir: string;
  let server: S3Local;
  let storage: Storage;
  let clockOffsetMs = 0;

  const config = (
    port: number,
    secretAccessKey = credentials.secretAccessKey,
    bucket = 'pixtools',
  ): S3Config => ({
    endpoint: `http://127.0.0.1:${port}`,
    publicEndpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    bucket,
    accessKeyId: credentials.accessKeyId,
    secretAccessKey,
    retentionSeconds: 86_400,
    requestTimeoutMs: 10_000,
    connectTimeoutMs: 2_000,
  });
  const start = () =>
    startS3Local(
      {
        host: '127.0.0.1',
        port: 0,
        directory: dir,
        buckets: ['pixtools'],
        credentials,
        maxObjectBytes: 64 * 1024 * 1024,
        now: () => Date.now() + clockOffsetMs,
      },
      log,
    );

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 's3local-spec-'));
    server = await start();
    storage = new Storage(config(server.port));
  });
  after(async () => {
    storage.destroy();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores and returns objects, with and without a precomputed payload hash, and overwrites', async () => {
    const body = randomBytes(2_500_000);
    await storage.put('raw/job-1/source.png', body, 'image/png');
    assert.deepEqual(await storage.get('raw/job-1/source.png'), body);
    const again = randomBytes(1000);
    const { createHash } = await import('node:crypto');
    await storage.put(
      'raw/job-1/source.png',
      again,
      'image/png',
      undefined,
      createHash('sha256').update(again).digest('hex'),
    );
    assert.deepEqual(await storage.get('raw/job-1/source.png'), again);
  });

  it('signs and serves keys with spaces, plus signs, tildes and non-ASCII characters', async () => {
    const key = 'outputs/job-7/ä b+c~(1)*.webp';
    await storage.put(key, Buffer.from('odd key'), 'image/webp');
    assert.equal((await storage.get(key)).toString(), 'odd key');
    const url = await storage.presign(key, 'ünïcode name.webp', 600);
    const response = await fetch(url);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), 'odd key');
    const listed = [];
    for await (const item of storage.list('outputs/job-7/')) listed.push(item.key);
    assert.deepEqual(listed, [key]);
  });

  it('refuses a body that does not match its signed hash, and keeps nothing of it', async () => {
    const wrong = 'a'.repeat(64);
    await assert.rejects(
      storage.put('outputs/j/bad.webp', Buffer.from('hello'), 'image/webp', undefined, wrong),
      {
        name: 'XAmzContentSHA256Mismatch',
      },
    );
    await assert.rejects(storage.get('outputs/j/bad.webp'), { name: 'NoSuchKey' });
  });

  it('serves presigned links to a plain HTTP client, with the download name; refuses tampered or expired ones', async () => {
    await storage.put('outputs/job-2/step.webp', Buffer.from('webp bytes'), 'image/webp');
    const url = await storage.presign('outputs/job-2/step.webp', 'holiday photo.webp', 600);
    const ok = await fetch(url);
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), 'webp bytes');
    assert.equal(ok.headers.get('content-type'), 'image/webp');
    assert.match(ok.headers.get('content-disposition') ?? '', /attachment; filename="holiday photo.webp"/);

    const tampered = url.replace('job-2', 'job-3');
    assert.equal((await fetch(tampered)).status, 403);
    assert.equal((await fetch(url.split('?')[0] ?? url)).status, 403, 'anonymous');
    const short = await storage.presign('outputs/job-2/step.webp', 'other.webp', 60);
    clockOffsetMs = 120_000;
    try {
      const expired = await fetch(short);
      assert.equal(expired.status, 403);
      assert.match(await expired.text(), /expired/);
    } finally {
      clockOffsetMs = 0;
    }
  });

  it('refuses a wrong secret', async () => {
    const intruder = new Storage(config(server.port, 'not-the-secret'));
    try {
      await assert.rejects(intruder.put('raw/x/source.png', Buffer.from('x'), 'image/png'), {
        name: 'SignatureDoesNotMatch',
      });
      await assert.rejects(intruder.get('raw/job-1/source.png'), { name: 'SignatureDoesNotMatch' });
    } finally {
      intruder.destroy();
    }
  });

  it('takes multipart uploads from a stream of unknown length', async () => {
    const body = randomBytes(12 * 1024 * 1024 + 12345);
    const chunks = Array.from({ length: Math.ceil(body.length / 65536) }, (_, i) =>
      body.subarray(i * 65536, (i + 1) * 65536),
    );
    await storage.putStream('bundles/job-4/all.zip', Readable.from(chunks), 'application/zip', 'all.zip');
    assert.deepEqual(await storage.get('bundles/job-4/all.zip'), body);
  });

  it('lists by prefix, page by page, and deletes prefixes', async () => {
    for (const name of ['a', 'b', 'c', 'd', 'e'])
      await storage.put(`outputs/job-5/${name}`, Buffer.from(name), 'text/plain');
    await storage.put('outputs/job-6/a', Buffer.from('6'), 'text/plain');
    const raw = new S3Client({
      endpoint: `http://127.0.0.1:${server.port}`,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials,
    });
    try {
      const seen: string[] = [];
      let token: string | undefined;
      do {
        const page = await raw.send(
          new ListObjectsV2Command({
            Bucket: 'pixtools',
            Prefix: 'outputs/job-5/',
            MaxKeys: 2,
            ContinuationToken: token,
          }),
        );
        assert.ok((page.Contents ?? []).length <= 2);
        seen.push(...(page.Contents ?? []).map((item) => item.Key ?? ''));
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token !== undefined);
      assert.deepEqual(
        seen,
        ['a', 'b', 'c', 'd', 'e'].map((name) => `outputs/job-5/${name}`),
      );
      await assert.rejects(raw.send(new PutObjectCommand({ Bucket: 'nope', Key: 'k', Body: 'x' })), {
        name: 'NoSuchBucket',
      });
    } finally {
      raw.destroy();
    }
    assert.equal(await storage.deletePrefixes(['outputs/job-5/']), 5);
    const left = [];
    for await (const item of storage.list('outputs/')) left.push(item.key);
    assert.ok(!left.some((key) => key.startsWith('outputs/job-5/')));
    assert.ok(left.includes('outputs/job-6/a'));
  });

  it('creates buckets, and answers lifecycle calls 501 so the services fall back to the sweeper', async () => {
    const other = new Storage(config(server.port, credentials.secretAccessKey, 'second-bucket'));
    try {
      assert.equal(await other.ensureBucket(log), 'unsupported');
      await other.put('k', Buffer.from('v'), 'text/plain');
      assert.equal((await other.get('k')).toString(), 'v');
      assert.equal(await other.ensureBucket(log), 'unsupported', 'an existing bucket is fine');
    } finally {
      other.destroy();
    }
  });

  it('keeps keys inside its directory, and objects across a restart', async () => {
    await storage.put('../../escape', Buffer.from('inside'), 'text/plain');
    assert.equal((await storage.get('../../escape')).toString(), 'inside');
    assert.ok(!readdirSync(path.dirname(dir)).includes('escape'));
    storage.destroy();
    const closing = Date.now();
    await server.close();
    assert.ok(Date.now() - closing < 4_000, 'idle connections are closed at once');
    server = await start();
    storage = new Storage(config(server.port));
    assert.equal((await storage.get('../../escape')).toString(), 'inside');
    await assert.rejects(storage.get('raw/never/there.png'), { name: 'NoSuchKey' });
  });
});
