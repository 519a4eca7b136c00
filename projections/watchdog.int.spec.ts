import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { connectBus } from '../shared/bus/connect.ts';
import { readInfraConfig } from '../shared/config/infra.ts';
import { createLogger } from '../shared/log.ts';
import { deleteStreams, freshEnv } from '../test/support/env.ts';
import { type Progress, watchForStall } from './projections.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// The watchdog against a real events stream: it restarts a reader only when the log holds events past
// the checkpoint, and an idle, caught-up log does not cost a stream-info request every second.
describe('the projection stall watchdog', () => {
  const infra = readInfraConfig(freshEnv());
  const log = createLogger('test', { level: 'silent', pretty: false });
  let bus: Awaited<ReturnType<typeof connectBus>>;
  let infoCalls = 0;

  before(async () => {
    bus = await connectBus({ ...infra, url: infra.natsUrl, name: 'watchdog-test' });
    const streams = bus.jsm.streams;
    const info = streams.info.bind(streams);
    streams.info = (...args: Parameters<typeof info>) => {
      infoCalls++;
      return info(...args);
    };
    await bus.js.publish(bus.names.jobSubject(randomUUID()), '{}');
  });
  after(async () => {
    await bus.nc.close();
    await deleteStreams(infra.namespace);
  });

  const lastSeq = async () => (await bus.jsm.streams.info(bus.names.eventsStream)).state.last_seq;
  /** A reader one event behind the log that applied nothing for 6 s. */
  const behindFor6s = async (phase: Progress['phase']): Promise<Progress> => ({
    at: Date.now() - 6_000,
    checkpoint: (await lastSeq()) - 1,
    phase,
  });
  /** What the watchdog says within `ms`: `stalled`, or `running` if it has not fired. */
  const outcomeWithin = async (progress: Progress, ms: number) => {
    const watch = watchForStall(bus, progress, log);
    const outcome = await Promise.race([watch.stalled, sleep(ms).then(() => 'running' as const)]);
    watch.cancel();
    return outcome;
  };

  it('counts a caught-up log as progress: one look per stall period, no restart', async () => {
    const progress: Progress = { at: Date.now() - 6_000, checkpoint: await lastSeq(), phase: 'reading' };
    infoCalls = 0;
    assert.equal(await outcomeWithin(progress, 3_500), 'running');
    // At 1 s it looks (the reader looked idle for 7 s), finds nothing due and counts that as progress;
    // at 2 s and 3 s the reader is not idle long enough to look again (it looked every second before).
    assert.equal(infoCalls, 1);
    assert.ok(Date.now() - progress.at < 3_000, 'progress moved to the look');
  });

  it('restarts a reader that has events past its checkpoint and applied nothing for 5 s', async () => {
    assert.equal(await outcomeWithin(await behindFor6s('reading'), 3_000), 'stalled');
  });

  it('gives a batch being applied 15 s before calling it stalled', async () => {
    assert.equal(await outcomeWithin(await behindFor6s('applying'), 2_500), 'running');
  });
});
