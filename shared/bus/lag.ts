import type { Bus } from './connect.ts';

/** Events the projection has not applied yet (pending + delivered-but-unacknowledged). */
export async function projectionLag(bus: Bus): Promise<number> {
  const info = await bus.jsm.consumers.info(bus.names.eventsStream, bus.names.durable.projections);
  return info.num_pending + info.num_ack_pending;
}
