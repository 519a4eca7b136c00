/**
 * models:fetch from a local folder (the CI path): copies and verifies the official files, refuses a
 * corrupted one; downloads resume after a broken connection (a loopback server stands in for the
 * authors' repository); without network the error says what to run. Needs DNCNN_WEIGHTS_DIR and
 * FFDNET_WEIGHTS_DIR.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CATALOG } from './catalog.ts';
import { fetchWeights } from './fetch.ts';

function weightsDir(): string {
  const dir = process.env.DNCNN_WEIGHTS_DIR;
  if (!dir) throw new Error('DNCNN_WEIGHTS_DIR is not set: point it at the DnCNN .mat weights');
  return dir;
}

test('copies both colour models from a folder, then finds them present', async () => {
  const dest = await mkdtemp(join(tmpdir(), 'pixtools-weights-'));
  try {
    const paths = await fetchWeights({ from: weightsDir(), dest, kinds: ['blind', 'clip'] });
    assert.deepEqual(paths, [join(dest, CATALOG.blind.matFile), join(dest, CATALOG.clip.matFile)]);
    assert.ok(paths.every((p) => existsSync(p)));
    const lines: string[] = [];
    await fetchWeights({
      from: weightsDir(),
      dest,
      kinds: ['blind', 'clip'],
      log: (line) => lines.push(line),
    });
    assert.ok(lines.every((line) => line.includes('already present')));
  } finally {
    await rm(dest, { recursive: true, force: true });
  }
});

test('refuses a file whose checksum is not the official one', async () => {
  const source = await mkdtemp(join(tmpdir(), 'pixtools-weights-src-'));
  const dest = await mkdtemp(join(tmpdir(), 'pixtools-weights-'));
  try {
    await copyFile(join(weightsDir(), CATALOG.blind.matFile), join(source, CATALOG.blind.matFile));
    await writeFile(join(source, CATALOG.clip.matFile), 'not a mat file');
    await assert.rejects(fetchWeights({ from: source, dest }), /SHA-256 .* does not match/);
    assert.ok(!existsSync(join(dest, CATALOG.clip.matFile)));
  } finally {
    await rm(source, { recursive: true, force: true });
    await rm(dest, { recursive: true, force: true });
  }
});

test('a download broken half-way resumes with a Range request and is verified', async () => {
  const ffdnet = process.env.FFDNET_WEIGHTS_DIR;
  if (!ffdnet) throw new Error('FFDNET_WEIGHTS_DIR is not set: point it at the FFDNet .mat weights');
  const bytes = await readFile(join(ffdnet, CATALOG.fast.matFile));
  const ranges: (string | undefined)[] = [];
  const server = createServer((request, response) => {
    ranges.push(request.headers.range);
    const from = Number(/bytes=(\d+)-/.exec(request.headers.range ?? '')?.[1] ?? 0);
    response.writeHead(from > 0 ? 206 : 200, { 'content-length': bytes.length - from });
    if (ranges.length === 1) {
      // the first attempt breaks after half the file
      response.write(bytes.subarray(0, bytes.length / 2), () => response.destroy());
      return;
    }
    response.end(bytes.subarray(from));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const dest = await mkdtemp(join(tmpdir(), 'pixtools-weights-'));
  try {
    const options = { dest, kinds: ['fast'] as const, baseUrl };
    await assert.rejects(fetchWeights(options), /could not download FFDNet_Clip_color.mat/);
    assert.ok(existsSync(join(dest, `${CATALOG.fast.matFile}.part`)), 'the partial file is kept');
    const lines: string[] = [];
    const [path] = await fetchWeights({ ...options, log: (line) => lines.push(line) });
    assert.equal(ranges[1]?.startsWith('bytes='), true);
    assert.notEqual(ranges[1], 'bytes=0-');
    assert.ok(
      lines.some((line) => line.includes('resuming at')),
      lines.join('\n'),
    );
    assert.ok(path && (await readFile(path)).equals(bytes));
    assert.ok(!existsSync(join(dest, `${CATALOG.fast.matFile}.part`)));
  } finally {
    server.close();
    await rm(dest, { recursive: true, force: true });
  }
});

test('without network the error says exactly what to run', async () => {
  const dest = await mkdtemp(join(tmpdir(), 'pixtools-weights-'));
  try {
    await assert.rejects(
      fetchWeights({ dest, kinds: ['fast'], baseUrl: 'http://127.0.0.1:9' }),
      (error: Error) =>
        error.message.includes('npm run models:fetch -- --from <folder>') &&
        error.message.includes('FFDNET_WEIGHTS_DIR'),
    );
  } finally {
    await rm(dest, { recursive: true, force: true });
  }
});
