import sharp from 'sharp';
import { connectBus } from '../../shared/bus/connect.ts';
import { createLogger } from '../../shared/log.ts';
import { lowerPriority } from '../../shared/os/priority.ts';
import { Storage } from '../../shared/storage/storage.ts';
import { readConfig } from './config.ts';
import { startConverter } from './converter.ts';

// Every image is different: libvips' operation cache would only hold memory.
sharp.cache(false);
const config = readConfig(process.env);
const { infra } = config;
const log = createLogger('converter', { level: infra.logLevel, pretty: infra.logPretty });
const storage = new Storage(infra.s3);
await storage.ensureBucketWhenUp(log);
storage.destroy();
// Below intake and the bus, above the denoiser: threads started later (libvips, libuv) inherit it.
lowerPriority(config.nice);
const bus = await connectBus({ ...infra, url: infra.natsUrl, name: 'converter', log });
const converter = startConverter({ config, bus, log });
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void converter.stop());
log.info({ concurrency: config.concurrency }, 'converter consuming');
await converter.done;
await bus.nc.drain();
log.info('converter stopped');
