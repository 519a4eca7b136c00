import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readTile8, toByte, writeCore8 } from './denoise.ts';
import { syntheticImage } from './fixtures.ts';
import { planTiles } from './tiled.ts';

test('toByte clips to [0,1] and rounds half up', () => {
  assert.deepEqual(
    [-0.2, 0, 0.49 / 255, 0.5 / 255, 127.5 / 255, 1, 1.3].map(toByte),
    [0, 0, 0, 1, 128, 255, 255],
  );
});

test('readTile8 then writeCore8 over all tiles reproduces the image', () => {
  const image = syntheticImage(130, 90, 20, 3);
  const copy = Buffer.alloc(image.data.length);
  for (const window of planTiles(image.width, image.height, 64)) {
    writeCore8(copy, image.width, readTile8(image, window).data, window);
  }
  assert.deepEqual(copy, image.data);
});

test('readTile8 is planar and scaled to [0,1]', () => {
  const image = { width: 2, height: 1, data: Uint8Array.of(255, 0, 51, 0, 255, 102) };
  const [window] = planTiles(2, 1, 64);
  assert.ok(window);
  assert.deepEqual([...readTile8(image, window).data], [1, 0, 0, 1, 0.2, 0.4].map(Math.fround));
});
