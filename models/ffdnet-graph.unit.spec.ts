import assert from 'node:assert/strict';
import { test } from 'node:test';
import { authorsChannel } from './ffdnet-graph.ts';

// Both layouts computed from their definitions on one 2×2×3 image whose pixel values name themselves.
const value = (c: number, row: number, col: number) => 100 * c + 10 * row + col;

/** ONNX SpaceToDepth(2): output channel (2·r + s)·C + c holds x[c][2h + r][2w + s]. */
const onnxChannel = (k: number) => value(k % 3, Math.floor(k / 3 / 2), Math.floor(k / 3) % 2);

/** The authors' vl_nnSubP (0.5): channel 4c + i holds x(a:2:end, b:2:end, c), a = i mod 2, b = ⌊i/2⌋ (0-based). */
const authors = (k: number) => value(Math.floor(k / 4), (k % 4) % 2, Math.floor((k % 4) / 2));

test('authorsChannel maps every SpaceToDepth channel to the authors’ channel holding the same pixels', () => {
  for (let k = 0; k < 12; k++) assert.equal(authors(authorsChannel(k)), onnxChannel(k), `channel ${k}`);
});

test('authorsChannel is a permutation of 0..11', () => {
  const image = new Set(Array.from({ length: 12 }, (_, k) => authorsChannel(k)));
  assert.deepEqual(
    [...image].sort((a, b) => a - b),
    Array.from({ length: 12 }, (_, k) => k),
  );
});
