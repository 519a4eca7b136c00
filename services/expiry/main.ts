import { connectBus } from '../../shared/bus/connect.ts';
import { createLogger } from '../../shared/log.ts';
import { readConfig } from './config.ts';
import { startExpiry } from './expiry.ts';

const config = readConfig(process.env);
const { infra } = config;
const log = createLogger('expiry', { level: infra.logLevel, pretty: infra.logPretty });
const bus = await connectBus({ ...infra, url: infra.natsUrl, name: 'expiry', log });
const expiry = startExpiry({ config, bus, log, now: () => new Date() });
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void expiry.stop());
log.info({ intervalMs: config.intervalMs }, 'expiry sweeping');
await expiry.done;
await bus.nc.drain();
log.info('expiry stopped');
