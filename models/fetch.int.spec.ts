/**
 * models:fetch from a local folder (the CI path): copies and verifies the official files, refuses a
 * corrupted one. Needs DNCNN_WEIGHTS_DIR.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
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
    const paths = await fetchWeights({ from: weightsDir(), dest });
    assert.deepEqual(paths, [join(dest, CATALOG.blind.matFile), join(dest, CATALOG.clip.matFile)]);
    assert.ok(paths.every((p) => existsSync(p)));
    const lines: string[] = [];
    await fetchWeights({ from: weightsDir(), dest, log: (line) => lines.push(line) });
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
