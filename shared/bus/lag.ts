import type { Bus } from './connect.ts';

/**
 * Events appended to the log that the read model has not applied yet: the events stream's last
 * sequence minus the projection's checkpoint (`readCheckpoint`, read from Postgres by the caller).
 */
export async function projectionLag(bus: Bus, readCheckpoint: () => Promise<number>): Promise<number> {
  const [info, checkpoint] = await Promise.all([
    bus.jsm.streams.info(bus.names.eventsStream),
    readCheckpoint(),
  ]);
  return Math.max(0, info.state.last_seq - checkpoint);
}
