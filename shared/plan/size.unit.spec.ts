import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { StepOp, StepSpec } from '../events/operations.ts';
import { outputSizes, resizedSize, resizeOf } from './size.ts';

const step = (id: string, op: StepOp, input: string, params: Record<string, unknown> = {}): StepSpec => ({
  id,
  op,
  params,
  inputs: [input],
  result: null,
});

describe('output sizes', () => {
  it('keeps the aspect ratio for one side and fits inside a box for two', () => {
    assert.deepEqual(resizedSize({ width: 4000, height: 3000 }, { width: 800 }), { width: 800, height: 600 });
    assert.deepEqual(resizedSize({ width: 4000, height: 3000 }, { width: 800, height: 800 }), {
      width: 800,
      height: 600,
    });
    assert.deepEqual(resizedSize({ width: 10, height: 10 }, { height: 40 }), { width: 40, height: 40 });
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
