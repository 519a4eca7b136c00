import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { seededRandom } from './fixtures.ts';
import {
  inferPlanar,
  MARGIN,
  type PlanarImage,
  planSpans,
  planTiles,
  runTiled,
  type TileRunner,
  tilingOverhead,
} from './tiled.ts';

describe('planSpans', () => {
  const cases = [1, 7, 41, 128, 129, 300, 481, 1000, 4000].flatMap((length) =>
    [41, 64, 128, 256, 512].map((tile) => ({ length, tile })),
  );

  for (const { length, tile } of cases) {
    test(`length ${length}, tile ${tile}: cores partition the axis and keep a ${MARGIN}px margin`, () => {
      const spans = planSpans(length, tile);
      let next = 0;
      for (const span of spans) {
        assert.equal(span.coreStart, next, 'cores are contiguous');
        assert.ok(span.coreEnd > span.coreStart, 'cores are not empty');
        assert.ok(span.start >= 0 && span.start + span.size <= length, 'window inside the image');
        assert.ok(span.size <= tile, 'window not larger than a tile');
        assert.ok(span.start === 0 || span.coreStart - span.start >= MARGIN, 'margin before the core');
        const end = span.start + span.size;
        assert.ok(end === length || end - span.coreEnd >= MARGIN, 'margin after the core');
        next = span.coreEnd;
      }
      assert.equal(next, length, 'cores cover the axis');
    });
  }

  test('uses the fewest tiles, all of the smallest size that keeps the margins', () => {
    const spans = planSpans(1024, 512);
    assert.equal(spans.length, 3); // two 512px tiles cover at most 2·512 − 2·20 = 984 < 1024 px
    assert.ok(spans.every((s) => s.size === 368)); // (1024 + 2·2·20) / 3
    assert.ok(tilingOverhead(1024, 1024, 512) < 1.17);
  });

  test('rejects tiles too small to hold two margins', () => {
    assert.throws(() => planSpans(100, 2 * MARGIN), RangeError);
  });
});

/** A fake network with a receptive radius of exactly MARGIN and zero padding, like DnCNN's. */
const localOperator: TileRunner = async ({ data, width, height }) => {
  const out = new Float32Array(data.length);
  const at = (c: number, x: number, y: number) =>
    x < 0 || y < 0 || x >= width || y >= height ? 0 : (data[(c * height + y) * width + x] ?? 0);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const ring =
          at(c, x - MARGIN, y) + at(c, x + MARGIN, y) + at(c, x, y - MARGIN) + at(c, x, y + MARGIN);
        out[(c * height + y) * width + x] = at(c, x, y) + 0.25 * ring;
      }
    }
  }
  return out;
};

test('inferPlanar: tiled output equals whole-image output for an operator of radius MARGIN', async () => {
  const random = seededRandom(1);
  const image: PlanarImage = {
    width: 300,
    height: 200,
    data: Float32Array.from({ length: 3 * 300 * 200 }, random),
  };
  const whole = await inferPlanar(localOperator, image, 512);
  for (const tile of [64, 100, 128]) {
    assert.deepEqual(await inferPlanar(localOperator, image, tile), whole, `tile ${tile}`);
  }
});

test('runTiled reports progress after every tile', async () => {
  const image: PlanarImage = { width: 200, height: 100, data: new Float32Array(3 * 200 * 100) };
  const reports: string[] = [];
  const io = { read: () => image, write: () => {} };
  await runTiled(
    200,
    100,
    64,
    io,
    async () => new Float32Array(0),
    (done, total) => reports.push(`${done}/${total}`),
  );
  const total = planTiles(200, 100, 64).length; // 7 × 3
  assert.equal(total, 21);
  assert.deepEqual(
    reports,
    Array.from({ length: total }, (_, i) => `${i + 1}/${total}`),
  );
});

test('aligned spans (FFDNet): even starts, sizes and core bounds; cores partition; margins kept', () => {
  for (const length of [2, 64, 302, 482, 1000, 4000]) {
    for (const tile of [96, 160, 768]) {
      const spans = planSpans(length, tile, 26, 2);
      let next = 0;
      for (const span of spans) {
        for (const v of [span.start, span.size, span.coreStart, span.coreEnd]) assert.equal(v % 2, 0);
        assert.ok(span.size <= tile);
        assert.equal(span.coreStart, next);
        if (span.coreStart > 0) assert.ok(span.coreStart - span.start >= 26);
        if (span.coreEnd < length) assert.ok(span.start + span.size - span.coreEnd >= 26);
        next = span.coreEnd;
      }
      assert.equal(next, length);
    }
  }
  assert.throws(() => planSpans(301, 96, 26, 2), /multiples of 2/);
});

test('planTiles pads odd sizes to the alignment: windows reach one column past a 301-wide image', () => {
  const tiles = planTiles(301, 203, 96, { margin: 26, align: 2 });
  assert.equal(Math.max(...tiles.map((t) => t.x.start + t.x.size)), 302);
  assert.equal(Math.max(...tiles.map((t) => t.y.coreEnd)), 204);
});
