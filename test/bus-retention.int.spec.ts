import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { type Bus, connectBus } from '../shared/bus/connect.ts';
import { readInfraConfig } from '../shared/config/infra.ts';
import { deleteStreams, freshEnv } from './support/env.ts';

const HOUR_NS = 3_600_000 * 1_000_000;

describe('event stream retention', () => {
  const env = freshEnv();
  // This suite checks the production default, not the small cap the other tests run with.
  delete env.EVENTS_MAX_BYTES;
  const buses: Bus[] = [];
  const connectWith = async (overrides: Record<string, string>) => {
    const infra = readInfraConfig({ ...env, ...overrides });
    const bus = await connectBus({ ...infra, url: infra.natsUrl, name: 'retention-test' });
    buses.push(bus);
    return bus;
  };
  after(async () => {
    for (const bus of buses) await bus.nc.close();
    await deleteStreams(env.PIXTOOLS_NS ?? '');
  });

  it('keeps events 30 days and at most 10 GiB by default: history outlives the 24 h images', async () => {
    const bus = await connectWith({});
    const { config } = await bus.jsm.streams.info(bus.names.eventsStream);
    assert.equal(config.max_age, 30 * 24 * HOUR_NS);
    assert.equal(config.max_bytes, 10 * 1024 ** 3);
  });

  it('applies configured limits to an existing stream', async () => {
    const bus = await connectWith({ EVENTS_MAX_AGE_HOURS: '48', EVENTS_MAX_BYTES: String(2 * 1024 ** 3) });
    const { config } = await bus.jsm.streams.info(bus.names.eventsStream);
    assert.equal(config.max_age, 48 * HOUR_NS);
    assert.equal(config.max_bytes, 2 * 1024 ** 3);
  });

  it('refuses an event retention that does not outlive the image retention', () => {
    assert.throws(
      () => readInfraConfig({ ...env, RETENTION_HOURS: '24', EVENTS_MAX_AGE_HOURS: '24' }),
      /EVENTS_MAX_AGE_HOURS must be longer than the image retention/,
    );
  });
});
