import { type Service, supervise } from './supervise.ts';

// `npm start`: every service as its own process, logs prefixed by name, supervised (a crashed service
// is restarted with back-off and the log says so), Ctrl-C stops them all.
// Without S3_ENDPOINT an embedded S3 (services/s3local, data under .data/s3) is started first on port 9000.
const env = { LOG_PRETTY: 'true', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...process.env };
const embeddedS3 = !process.env.S3_ENDPOINT;
// START_NODE_ARGS adds node flags to every service (for example `--cpu-prof --cpu-prof-dir=/tmp/prof`,
// which NODE_OPTIONS does not allow).
const nodeArgs = process.env.START_NODE_ARGS ?? '';
// Every service starts with a 64 MB old generation: V8's default (a limit just above the few MB that
// survive) ran a mark-compact every few jobs in the processes whose heaps stay small (measured: the
// embedded S3, 17 -> 5 mark-compacts per 60 jobs and 29-31 -> 21 ms CPU per job; the event consumers
// 4 -> 0).
const V8_HEAP = '--initial-old-space-size=64';
// The processes that move image bytes get a larger young generation: with V8's default, each 2.4 MB
// upload's buffers and request objects are promoted and a full mark-compact runs every few jobs
// (measured: the converter went from 20 to 3 mark-compacts per 60 jobs, 175 -> 161 ms CPU per job).
// A young generation that large needs old-generation room to match: V8 starts incremental marking
// whenever the room left below the old-generation limit is smaller than the young generation, which at
// 64 MB (about 30 MB live) it always was (`--trace-incremental-marking`: "Start (task)" every 0.3-1 s
// under load; intake 16 -> 6 and the converter 15 -> 4 mark-compacts per 90 jobs at 128 MB, the rest
// started by V8's memory reducer; peak RSS unchanged, 235-252 MB).
const BYTES_HEAVY = '--initial-old-space-size=128 --min-semi-space-size=16 --max-semi-space-size=32';
const tsx = (file: string, heap = V8_HEAP) => `exec node ${heap} ${nodeArgs} --import tsx ${file}`;

const services: Service[] = [
  { name: 'projections', command: tsx('projections/main.ts') },
  { name: 'planner', command: tsx('services/planner/main.ts') },
  { name: 'converter', command: tsx('services/converter/main.ts', BYTES_HEAVY) },
  { name: 'denoiser', command: tsx('services/denoiser/main.ts') },
  { name: 'intake', command: tsx('services/intake/main.ts', BYTES_HEAVY) },
  { name: 'notifier', command: tsx('services/notifier/main.ts') },
  { name: 'expiry', command: tsx('services/expiry/main.ts') },
];
const all: Service[] = embeddedS3
  ? [
      { name: 's3', command: tsx('services/s3local/main.ts', BYTES_HEAVY) },
      ...services.map((service) => ({
        ...service,
        command: `node --import tsx scripts/wait-port.ts 127.0.0.1 9000 && ${service.command}`,
      })),
    ]
  : services;

const supervisor = supervise(all, { env });
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => supervisor.stop(signal));
}
await supervisor.finished;
process.exit(0);
