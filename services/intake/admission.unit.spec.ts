import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BusTimeoutError, type QueueDepth } from '../../shared/bus/work.ts';
import type { Queue } from '../../shared/events/operations.ts';
import { Admission, type AdmissionConfig, expectedWaitMs } from './admission.ts';
import { ApiError } from './errors.ts';

const CONFIG: AdmissionConfig = {
  maxWaitMs: { io: 1000, ml: 60_000 },
  defaultServiceMs: { io: 200, ml: 30_000 },
  cacheMs: 0,
  readTimeoutMs: 50,
  transitMs: 0,
};
const depth = (queue: Queue, waiting: number): QueueDepth => ({ queue, waiting, inFlight: 0 });
const board = (concurrency: number, serviceMs: number | null) => ({
  capacity: () => ({ workers: 1, concurrency, serviceMs }),
});

async function status(promise: Promise<void>): Promise<number | 'ok'> {
  try {
    await promise;
    return 'ok';
  } catch (error) {
    if (error instanceof ApiError) return error.status;
    throw error;
  }
}

describe('expected queue wait', () => {
  it('is the waiting steps × observed service time ÷ the workers’ concurrency', () => {
    assert.equal(expectedWaitMs(depth('io', 10), { workers: 1, concurrency: 2, serviceMs: 150 }, 200), 750);
    assert.equal(expectedWaitMs(depth('io', 10), { workers: 0, concurrency: 0, serviceMs: null }, 200), 2000);
    assert.equal(expectedWaitMs(depth('io', 0), { workers: 1, concurrency: 2, serviceMs: 150 }, 200), 0);
  });
});

describe('admission when the bus is slow', () => {
  it('answers 503 (never 429 or 500) while the bus does not answer, even after a good reading', async () => {
    let fail = false;
    const admission = new Admission(
      async (queue) => {
        if (fail) throw new BusTimeoutError('slow');
        return depth(queue, queue === 'io' ? 100 : 0);
      },
      board(2, 150),
      CONFIG,
    );
    assert.equal(await status(admission.admit(['webp'])), 429);
    assert.equal(await status(admission.admit(['denoise'])), 'ok');
    fail = true;
    assert.equal(await status(admission.admit(['denoise'])), 503, 'a bus that does not answer: 503');
    assert.equal(await status(admission.admit(['webp'])), 503, 'not 429: the queue is not what fails');
  });

  it('answers 503 with Retry-After, never a 5xx of its own, when there is no reading to fall back on', async () => {
    const admission = new Admission(() => Promise.reject(new BusTimeoutError('slow')), board(2, 150), CONFIG);
    const error = await admission.admit(['webp']).catch((caught: unknown) => caught);
    assert.ok(error instanceof ApiError);
    assert.equal(error.status, 503);
    assert.equal(error.headers['Retry-After'], '2');
  });

  it('refuses before the body only when every queue is over its budget', async () => {
    const both = new Admission(async (queue) => depth(queue, 1000), board(1, null), CONFIG);
    assert.equal(await status(both.precheck()), 429);
    const one = new Admission(
      async (queue) => depth(queue, queue === 'io' ? 1000 : 0),
      board(1, null),
      CONFIG,
    );
    assert.equal(await status(one.precheck()), 'ok');
  });
});

describe('admission between two depth readings', () => {
  it('counts the steps it admitted since shortly before the reading, so a burst is not admitted on one reading', async () => {
    let reads = 0;
    const admission = new Admission(
      async (queue) => {
        reads++;
        return depth(queue, 0);
      },
      board(2, 400), // each waiting io step adds 200 ms; the budget (1000 ms) allows 5
      { ...CONFIG, cacheMs: 60_000, transitMs: 500 },
    );
    const answers: (number | 'ok')[] = [];
    for (let i = 0; i < 8; i++) answers.push(await status(admission.admit(['webp'])));
    assert.equal(reads, 1, 'one reading for the whole burst');
    assert.deepEqual(answers, ['ok', 'ok', 'ok', 'ok', 'ok', 'ok', 429, 429]);
    assert.equal(
      await status(admission.admit(['denoise'])),
      'ok',
      'the ml queue is not charged for io steps',
    );
  });

  it('checks without counting: a request refused or failing validation later is not charged to the queue', async () => {
    const admission = new Admission(
      async (queue) => depth(queue, 0),
      board(2, 400), // the budget (1000 ms) allows 5 waiting io steps
      { ...CONFIG, cacheMs: 60_000, transitMs: 500 },
    );
    for (let i = 0; i < 20; i++) assert.equal(await status(admission.check(['webp'])), 'ok');
    for (let i = 0; i < 6; i++) assert.equal(await status(admission.admit(['webp'])), 'ok');
    assert.equal(await status(admission.check(['webp'])), 429, 'six admitted fill the budget');
  });

  it('stops counting a step once a reading taken well after its admission can include it', async () => {
    let now = 0;
    const admission = new Admission(
      async (queue) => depth(queue, 0),
      board(2, 400),
      {
        ...CONFIG,
        cacheMs: 0,
        transitMs: 500,
      },
      () => {},
      () => now,
    );
    for (let i = 0; i < 6; i++) assert.equal(await status(admission.admit(['webp'])), 'ok');
    assert.equal(await status(admission.admit(['webp'])), 429);
    now = 2000; // the next reading is taken 2 s later: the six are in it (here: done), not added again
    assert.equal(await status(admission.admit(['webp'])), 'ok');
  });
});
