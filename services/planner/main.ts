import { connectBus } from '../../shared/bus/connect.ts';
import { consumeLoop } from '../../shared/bus/consume.ts';
import { createLogger } from '../../shared/log.ts';
import { readConfig } from './config.ts';
import { onDispatch, onEvent, onMaxDeliveries } from './handlers.ts';

const config = readConfig(process.env);
const log = createLogger('planner', { level: config.infra.logLevel, pretty: config.infra.logPretty });
const bus = await connectBus({ ...config.infra, url: config.infra.natsUrl, name: 'planner' });
const deps = { bus, log, now: () => new Date() };
const stop = new AbortController();
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => stop.abort());

const common = { js: bus.js, heartbeatMs: null, log, signal: stop.signal };
log.info({ namespace: config.infra.namespace }, 'planner consuming');
await Promise.all([
  consumeLoop({
    ...common,
    stream: bus.names.eventsStream,
    durable: bus.names.durable.planner,
    concurrency: config.concurrency,
    handle: onEvent(deps),
  }),
  consumeLoop({
    ...common,
    stream: bus.names.eventsStream,
    durable: bus.names.durable.dispatcher,
    concurrency: config.concurrency,
    handle: onDispatch(deps),
  }),
  consumeLoop({
    ...common,
    stream: bus.names.advisoryStream,
    durable: bus.names.durable.advisories,
    concurrency: 1,
    handle: onMaxDeliveries(deps),
  }),
]);
await bus.nc.drain();
log.info('planner stopped');
