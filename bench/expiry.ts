import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ExpiryState } from '../services/expiry/state.ts';
import { type ExpiryDeps, sweepBucket, sweepLog } from '../services/expiry/sweep.ts';
import { startS3Local } from '../services/s3local/server.ts';
import { ObjectStore } from '../services/s3local/store.ts';
import { connectBus } from '../shared/bus/connect.ts';
import { createLogger } from '../shared/log.ts';
import { keys, Storage } from '../shared/storage/storage.ts';
import { freePort } from './ports.ts';

// What a retention pass costs as the bucket grows: the bucket pass (list every object, look up the old
// ones; what the sweeper did every minute before the log pass) against the log pass (read the events
// since the cursor), each expiring the same number of due jobs among `--objects` objects of jobs that
// are not due, in one process with its own embedded S3 (a temporary folder) and the machine's NATS:
//   npm run bench:expiry -- [--objects 100000] [--due 600]
// The background objects are written through the embedded S3's store before its server starts (a
// body and a metadata file each); the due jobs go in through S3 and the event log as intake stores them.
// Prints CPU (user + system of this process: S3 server and sweeper together) and wall time per pass.
const { values } = parseArgs({
  options: {
    objects: { type: 'string', default: '100000' },
    due: { type: 'string', default: '600' },
  },
});
const objects = Number(values.objects);
const due = Number(values.due);
const ns = `benchexpiry${process.pid}`;
const log = createLogger('bench', { level: 'warn', pretty: false });
const dir = await mkdtemp(path.join(os.tmpdir(), 'pixtools-bench-expiry-'));
const RETENTION_MS = 86_400_000;
const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

const port = await freePort();
const endpoint = `http://127.0.0.1:${port}`;
const bus = await connectBus({
  url: process.env.NATS_URL ?? '127.0.0.1:4222',
  namespace: ns,
  name: 'bench-expiry',
  ackWaitMs: 30_000,
  maxDeliver: 5,
});
const state = await ExpiryState.open(bus);

// Every object is written through the embedded S3's store before its server starts (a body and a
// metadata file each): first the due jobs' sources, then the other objects. The bucket pass runs at a
// clock that makes exactly the first ones a retention old.
const started = performance.now();
const store = await ObjectStore.open(dir);
await store.createBucket(ns);
const body = async function* () {
  yield Buffer.alloc(64);
};
const put = (key: string) => store.put(ns, key, body(), { contentType: 'image/png', maxBytes: 1024 });
/** `count` jobs submitted a retention ago (source stored, `JobSubmitted` appended). */
async function dueJobs(count: number): Promise<void> {
  const submitted = new Date(Date.now() - RETENTION_MS - 60_000);
  for (let i = 0; i < count; i++) {
    const jobId = randomUUID();
    await put(keys.raw(jobId, 'png'));
    const context = { jobId, correlationId: jobId, causationId: null, time: submitted.toISOString() };
    await bus.log.append(context, [
      {
        type: 'JobSubmitted',
        data: {
          source: {
            key: keys.raw(jobId, 'png'),
            format: 'png',
            bytes: 64,
            width: 1,
            height: 1,
            originalName: 'p.png',
            sha256: '0'.repeat(64),
          },
          operations: ['webp'],
          operationParams: {},
          pipeline: null,
          webhookUrl: null,
          requestId: `bench-${jobId}`,
          expiresAt: new Date(submitted.getTime() + RETENTION_MS).toISOString(),
        },
      },
    ]);
  }
}
// The first WARM_UP warm the expiring path up (the first pass to expire jobs otherwise pays about 2 ms
// more per job); then `due` for the log pass, `due` for the bucket pass.
const WARM_UP = due;
await dueJobs(WARM_UP + 2 * due);
const dueWritten = Date.now();
await new Promise((resolve) => setTimeout(resolve, 10));
for (let i = 0; i < objects; i++) {
  await put(i % 2 === 0 ? keys.raw(randomUUID(), 'png') : `outputs/${randomUUID()}/webp.webp`);
}
console.log(
  `${objects + WARM_UP + 2 * due} objects written in ${((performance.now() - started) / 1000).toFixed(0)} s`,
);

const s3 = await startS3Local(
  { host: '127.0.0.1', port, directory: dir, buckets: [ns], credentials, maxObjectBytes: 1 << 20 },
  log,
);
const storage = new Storage({
  endpoint,
  publicEndpoint: endpoint,
  region: 'us-east-1',
  bucket: ns,
  ...credentials,
  retentionSeconds: RETENTION_MS / 1000,
  requestTimeoutMs: 600_000,
  connectTimeoutMs: 5_000,
});

/** CPU (ms, this process) and wall time of one pass; the S3 server runs in this process too. */
async function measure(name: string, pass: () => Promise<number>): Promise<void> {
  const cpu = process.cpuUsage();
  const wall = performance.now();
  const expired = await pass();
  const used = process.cpuUsage(cpu);
  const cpuMs = (used.user + used.system) / 1000;
  const wallMs = performance.now() - wall;
  console.log(
    `| ${name} | ${expired} | ${cpuMs.toFixed(0)} | ${wallMs.toFixed(0)} | ${(cpuMs / Math.max(1, expired)).toFixed(2)} |`,
  );
}

const deps = (now: number): ExpiryDeps => ({
  bus,
  storage,
  log,
  now: () => new Date(now),
  retentionMs: RETENTION_MS,
  state,
});
try {
  console.log(`${due} due jobs per pass, ${objects} other objects in the bucket (${os.cpus().length} cores)`);
  console.log('| pass | jobs expired | CPU ms | wall ms | CPU ms per expired job |');
  console.log('|---|---|---|---|---|');
  // Idle: nothing due (what most passes meet), once unmeasured to warm up, then measured.
  const early = Date.now() - 2 * RETENTION_MS;
  for (const measured of [false, true]) {
    const run = measured ? measure : (_: string, pass: () => Promise<number>) => pass();
    await run('log pass, nothing due', () => sweepLog(deps(early), due));
    await run('bucket pass, nothing due', () => sweepBucket(deps(early), due));
  }
  await sweepLog(deps(Date.now()), WARM_UP);
  await measure('log pass (cursor over the events)', () => sweepLog(deps(Date.now()), due));
  // The bucket pass's clock: the due jobs' sources (written by `dueWritten`) are a retention old (the
  // pass's minute of slack included), the other objects are younger.
  await measure('bucket pass (list every object)', () =>
    sweepBucket(deps(dueWritten + RETENTION_MS - 60_000), due),
  );
} finally {
  for (const stream of bus.names.streams) await bus.jsm.streams.delete(stream).catch(() => false);
  await bus.nc.close();
  storage.destroy();
  await s3.close();
  await rm(dir, { recursive: true, force: true });
}
