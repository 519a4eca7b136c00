import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { truncatedPng } from '../api/support/photos.ts';
import { samplePng } from '../support/images.ts';
import { type System, startSystem } from '../support/system.ts';
import { runCli } from './run.ts';

describe('the pixtools CLI against the running system', () => {
  let system: System;
  let env: Record<string, string>;
  const work = mkdtempSync(path.join(tmpdir(), 'pixtools-cli-'));
  const photo = path.join(work, 'photo.png');

  before(async () => {
    system = await startSystem({ API_KEY: 'cli-test-key' });
    env = { PIXTOOLS_URL: system.url, PIXTOOLS_API_KEY: 'cli-test-key' };
    writeFileSync(photo, await samplePng(320, 240));
  });
  after(async () => {
    await system?.stop();
  });

  it('process: converts and resizes, logs every step, and saves the outputs', async () => {
    const out = path.join(work, 'out1');
    const run = await runCli(['process', photo, '--to', 'webp,avif', '--resize', '160', '--out', out], env);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /job [0-9a-f-]{36} submitted/);
    assert.match(run.stderr, /planned 3 step\(s\): webp, avif, bundle/);
    for (const step of ['webp', 'avif']) {
      assert.match(run.stderr, new RegExp(`${step}: running`));
      assert.match(run.stderr, new RegExp(`${step}: done in \\d+ ms, ${step} [\\d.]+ k?B, 160×120`));
    }
    assert.match(run.stdout, /COMPLETED/);
    const files = readdirSync(out).sort();
    assert.deepEqual(files, ['pixtools_avif_photo.avif', 'pixtools_webp_photo.webp']);
    const webp = await sharp(readFileSync(path.join(out, 'pixtools_webp_photo.webp'))).metadata();
    assert.deepEqual([webp.format, webp.width, webp.height], ['webp', 160, 120]);
    const avif = await sharp(readFileSync(path.join(out, 'pixtools_avif_photo.avif'))).metadata();
    assert.deepEqual([avif.format, avif.width], ['heif', 160]);
  });

  it('process --json prints one JSON document with the job and the saved files', async () => {
    const out = path.join(work, 'out2');
    const run = await runCli(
      ['--json', 'process', photo, '--to', 'jpg', '--quality', '40', '--out', out],
      env,
    );
    assert.equal(run.code, 0, run.stderr);
    const body = JSON.parse(run.stdout) as {
      status: string;
      files: { result: string; file: string; bytes: number }[];
    };
    assert.equal(body.status, 'COMPLETED');
    assert.equal(body.files.length, 1);
    assert.equal(body.files[0]?.result, 'jpg');
    assert.equal(readFileSync(body.files[0]?.file ?? '').length, body.files[0]?.bytes);
    assert.equal(run.stderr, '', 'no progress output with --json');
  });

  it('shows live bars with --progress bars', async () => {
    const run = await runCli(['--progress', 'bars', 'process', photo, '--to', 'webp', '--no-download'], env);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /webp \|[█░]+\| 100% done in \d+ ms/);
  });

  it('process --denoise --to webp makes the WebP from the denoised image (a pipeline)', async () => {
    const small = path.join(work, 'small.png');
    writeFileSync(small, await samplePng(64, 48));
    const out = path.join(work, 'out-denoise');
    const run = await runCli(
      ['process', small, '--denoise', '--to', 'webp', '--resize', '32', '--out', out],
      env,
    );
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /planned 3 step\(s\): denoise, resize, webp/);
    assert.match(run.stderr, /resize: done in \d+ ms, png [\d.]+ k?B, 32×24/);
    const files = readdirSync(out);
    assert.equal(files.length, 1, files.join());
    assert.equal((await sharp(readFileSync(path.join(out, files[0] ?? ''))).metadata()).width, 32);
  });

  it('a refused submission exits 3 with the API detail', async () => {
    const run = await runCli(['process', photo, '--to', 'png'], env);
    assert.equal(run.code, 3);
    assert.match(run.stderr, /422: Cannot convert png to png - source and target formats are the same/);
    const unauthorized = await runCli(['process', photo, '--to', 'webp'], {
      ...env,
      PIXTOOLS_API_KEY: 'wrong',
    });
    assert.equal(unauthorized.code, 3);
    assert.match(unauthorized.stderr, /401: Invalid or missing API Key/);
  });

  it('a failed job exits 1 with its error message', async () => {
    const broken = path.join(work, 'broken.png');
    writeFileSync(broken, await truncatedPng());
    const run = await runCli(['process', broken, '--to', 'webp', '--out', path.join(work, 'out3')], env);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /job failed: Step "webp" \(webp\) failed/);
    assert.match(run.stderr, /pixtools: Step "webp" \(webp\) failed/);
  });

  it('status, wait and download work from a job id; one Idempotency-Key gives one job', async () => {
    const submit = [
      '--json',
      'process',
      photo,
      '--to',
      'webp,jpg',
      '--no-wait',
      '--idempotency-key',
      'cli-key-1',
    ];
    const first = await runCli(submit, env);
    const again = await runCli(submit, env);
    assert.equal(first.code, 0, first.stderr);
    const jobId = (JSON.parse(first.stdout) as { job_id: string }).job_id;
    assert.equal((JSON.parse(again.stdout) as { job_id: string }).job_id, jobId);

    const waited = await runCli(['wait', jobId], env);
    assert.equal(waited.code, 0, waited.stderr);
    assert.match(waited.stdout, new RegExp(`job ${jobId} COMPLETED`));

    const status = await runCli(['--json', 'status', jobId], env);
    const body = JSON.parse(status.stdout) as { status: string; result_urls: Record<string, string> };
    assert.equal(body.status, 'COMPLETED');
    assert.deepEqual(Object.keys(body.result_urls).sort(), ['jpg', 'webp']);

    const out = path.join(work, 'out4');
    const download = await runCli(['download', jobId, '--out', out, '--archive'], env);
    assert.equal(download.code, 0, download.stderr);
    assert.deepEqual(readdirSync(out).sort(), [
      'pixtools_bundle_photo.zip',
      'pixtools_jpg_photo.jpg',
      'pixtools_webp_photo.webp',
    ]);

    const unknown = await runCli(['status', '00000000-0000-4000-8000-000000000000'], env);
    assert.equal(unknown.code, 3);
    assert.match(unknown.stderr, /404: Job 00000000-0000-4000-8000-000000000000 not found/);
  });

  it('an unreachable server exits 4 and says so', async () => {
    const run = await runCli([
      'status',
      '00000000-0000-4000-8000-000000000000',
      '--url',
      'http://127.0.0.1:9',
    ]);
    assert.equal(run.code, 4);
    assert.match(run.stderr, /Cannot reach http:\/\/127\.0\.0\.1:9/);
  });
});
