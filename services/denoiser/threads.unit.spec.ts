import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DenoiseSession } from './inference/session.ts';
import { chooseSession } from './threads.ts';

// Only identity matters to the chooser: stand-in objects are enough.
const narrow = { name: 'narrow' } as unknown as DenoiseSession;
const wide = { name: 'wide' } as unknown as DenoiseSession;

test('wide session while the io queue is idle, narrow as soon as io work waits', async () => {
  let idle = true;
  let clock = 0;
  const pick = chooseSession({ narrow, wide }, async () => idle, { cacheMs: 100, now: () => clock });
  assert.equal(await pick(), wide);
  idle = false;
  assert.equal(await pick(), wide, 'cached for 100 ms');
  clock += 100;
  assert.equal(await pick(), narrow);
});

test('a failing probe means narrow; without a wide session, always narrow', async () => {
  const failing = chooseSession({ narrow, wide }, async () => Promise.reject(new Error('nats down')));
  assert.equal(await failing(), narrow);
  const single = chooseSession({ narrow, wide: null }, async () => true);
  assert.equal(await single(), narrow);
});
