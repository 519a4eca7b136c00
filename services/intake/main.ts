import { connectBus } from '../../shared/bus/connect.ts';
import { createLogger } from '../../shared/log.ts';
import { readConfig } from './config.ts';
import { startIntake } from './intake.ts';

const config = readConfig(process.env);
const { infra } = config;
const log = createLogger('intake', { level: infra.logLevel, pretty: infra.logPretty });
const bus = await connectBus({ ...infra, url: infra.natsUrl, name: 'intake', log });
const intake = await startIntake({ config, bus, log, now: () => new Date() });
const shutdown = async () => {
  log.info('intake shutting down');
  await intake.stop();
  await bus.nc.drain();
};
process.once('SIGTERM', () => void shutdown());
process.once('SIGINT', () => void shutdown());
