import { createLogger } from '../../shared/log.ts';
import { readConfig } from './config.ts';
import { startS3Local } from './server.ts';

// The embedded S3 used by `npm start` when no S3_ENDPOINT is configured: objects stay on disk.
const config = readConfig(process.env);
const log = createLogger('s3local', { level: config.logLevel, pretty: config.logPretty });
const server = await startS3Local(
  {
    host: config.host,
    port: config.port,
    directory: config.directory,
    buckets: [config.bucket],
    credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
    maxObjectBytes: config.maxObjectBytes,
  },
  log,
);
log.info(
  { port: server.port, directory: config.directory },
  `embedded S3 listening on http://${config.host}:${server.port}`,
);
const stop = () => void server.close().then(() => log.info('embedded S3 stopped'));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
