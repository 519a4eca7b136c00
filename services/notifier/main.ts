import { connectBus } from '../../shared/bus/connect.ts';
import { createLogger } from '../../shared/log.ts';
import { readConfig } from './config.ts';
import { startNotifier } from './notifier.ts';

const config = readConfig(process.env);
const { infra } = config;
const log = createLogger('notifier', { level: infra.logLevel, pretty: infra.logPretty });
if (config.secretIsDefault) {
  log.warn(
    'WEBHOOK_SECRET is not set: webhooks are signed with the development default; set it per deployment',
  );
}
const bus = await connectBus({ ...infra, url: infra.natsUrl, name: 'notifier', log });
const notifier = startNotifier({ config, bus, log, now: () => new Date() });
log.info(
  {
    namespace: infra.namespace,
    attempts: config.retryDelaysMs.length + 1,
    allowedHosts: config.allowedHosts,
  },
  'notifier consuming',
);

await new Promise<void>((resolve) => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => resolve());
});
log.info('notifier stopping');
await notifier.stop();
await bus.nc.drain();
log.info('notifier stopped');
