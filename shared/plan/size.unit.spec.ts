import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type StepOp, StepSpec } from '../events/operations.ts';
import { outputSizes, resizedSize, resizeOf } from './size.ts';

const step = (id: string, op: StepOp, input: string, params: Record<string, unknown> = {}): StepSpec =>
  StepSpec.parse({ id, op, params, inputs: [input], result: null });

describe('output sizes', () => {
  it('keeps the aspect ratio for one side; two sides give exactly the box unless the fit says otherwise', () => {
    const photo = { width: 4000, height: 3000 };
    assert.deepEqual(resizedSize(photo, { width: 800 }), { width: 800, height: 600 });
    assert.deepEqual(resizedSize({ width: 10, height: 10 }, { height: 40 }), { width: 40, height: 40 });
    // the reference behaviour: 64x32 to {20, 5} is 20x5
    assert.deepEqual(resizedSize({ width: 64, height: 32 }, { width: 20, height: 5 }), {
      width: 20,
      height: 5,
    });
    for (const fit of ['fill', 'cover', 'contain'] as const) {
      assert.deepEqual(resizedSize(photo, { width: 800, height: 800, fit }), { width: 800, height: 800 });
    }
    assert.deepEqual(resizedSize(photo, { width: 800, height: 800, fit: 'inside' }), {
      width: 800,
      height: 600,
    });
    assert.deepEqual(resizedSize(photo, { width: 800, height: 800, fit: 'outside' }), {
      width: 1067,
      height: 800,
    });
    // one side: the fit does not matter
    assert.deepEqual(resizedSize(photo, { width: 800, fit: 'cover' }), { width: 800, height: 600 });
  });

  it('reads the box from `params.resize`, or from the params of a resize step', () => {
    assert.deepEqual(resizeOf(step('w', 'webp', 'source', { resize: { width: 5 } })), { width: 5 });
    assert.deepEqual(resizeOf(step('r', 'resize', 'source', { height: 7 })), { height: 7 });
    assert.equal(resizeOf(step('w', 'webp', 'source', { quality: 5 })), null);
  });

  it('follows a chain: resize step, then a conversion with its own resize, and a branch', () => {
    const sizes = outputSizes(
      [
        step('small', 'resize', 'source', { width: 1000 }),
        step('tiny', 'webp', 'small', { resize: { height: 50 } }),
        step('copy', 'avif', 'small'),
      ],
      { width: 4000, height: 2000 },
    );
    assert.deepEqual(sizes.get('small'), { width: 1000, height: 500 });
    assert.deepEqual(sizes.get('tiny'), { width: 100, height: 50 });
    assert.deepEqual(sizes.get('copy'), { width: 1000, height: 500 });
  });
});

describe('job cost', () => {
  it('sums output pixels times the per-operation cost over the DAG', async () => {
    const { jobCost, SECONDS_PER_MEGAPIXEL } = await import('./cost.ts');
    const bomb = [
      step('big', 'resize', 'source', { width: 10_000, height: 10_000 }),
      ...Array.from({ length: 3 }, (_, i) => step(`d${i}`, 'denoise', i === 0 ? 'big' : `d${i - 1}`)),
    ];
    const cost = jobCost(bomb, { width: 1, height: 1 });
    assert.equal(cost.steps.length, 4);
    assert.deepEqual(
      cost.steps.map((s) => s.megapixels),
      [100, 100, 100, 100],
    );
    const expected = 100 * SECONDS_PER_MEGAPIXEL.resize + 300 * SECONDS_PER_MEGAPIXEL.denoise;
    assert.ok(Math.abs(cost.seconds - expected) < 1e-6, String(cost.seconds));
    // a shrinking step costs what it reads
    const small = jobCost([step('w', 'webp', 'source', { resize: { width: 100 } })], {
      width: 4000,
      height: 3000,
    });
    assert.ok(Math.abs(small.seconds - 12 * SECONDS_PER_MEGAPIXEL.webp) < 1e-6);
  });
});
