import { connectBus } from '../../shared/bus/connect.ts';
import { createLogger } from '../../shared/log.ts';
import { readConfig } from './config.ts';
import { startPlanner } from './planner.ts';

const config = readConfig(process.env);
const log = createLogger('planner', { level: config.infra.logLevel, pretty: config.infra.logPretty });
const bus = await connectBus({ ...config.infra, url: config.infra.natsUrl, name: 'planner' });
const planner = startPlanner({ bus, log, now: () => new Date(), concurrency: config.concurrency });
log.info({ namespace: config.infra.namespace }, 'planner consuming');

await new Promise<void>((resolve) => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => resolve());
});
await planner.stop();
await bus.nc.drain();
log.info({ historyReads: planner.states.historyReads }, 'planner stopped');
