import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createLogger } from '../../shared/log.ts';
import { readConfig } from './config.ts';

// The embedded S3 used by `npm start` when no S3_ENDPOINT is configured: data stays on disk.
// s3rver answers 501 to lifecycle calls; the services warn and the expiry sweeper deletes by policy.
const config = readConfig(process.env);
const log = createLogger('s3local', { level: 'info', pretty: config.logPretty });
const require = createRequire(import.meta.url);
const S3rver = require('s3rver') as new (
  options: Record<string, unknown>,
) => {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
};
mkdirSync(config.directory, { recursive: true });
const server = new S3rver({
  address: config.host,
  port: config.port,
  directory: config.directory,
  silent: true,
  configureBuckets: [{ name: config.bucket, configs: [] }],
});
const { port } = await server.run();
log.info({ port, directory: config.directory }, `embedded S3 listening on http://${config.host}:${port}`);
const stop = () => void server.close().then(() => log.info('embedded S3 stopped'));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
