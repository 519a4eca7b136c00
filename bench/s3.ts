import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { DeleteBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { readInfraConfig, type S3Config } from '../shared/config/infra.ts';
import { createLogger } from '../shared/log.ts';
import { Storage } from '../shared/storage/storage.ts';
import { freePort } from './ports.ts';
import { percentile } from './stats.ts';

// The embedded S3 of `npm start` against the S3 server the tests use, through the services' own client:
//   npm run bench:s3 -- [--seconds 5] [--concurrency 4] [--moto http://127.0.0.1:9555]
// Starts services/s3local/main.ts exactly as `npm start` does (S3LOCAL_MAIN / S3LOCAL_NODE_ARGS override the
// script and add node flags, to measure another build or take a --cpu-prof) on a free
// port with its own temporary data dir, and stops it at the end. Uses the running moto (never stops it)
// with a fresh bucket that it empties and deletes afterwards. For each server and object size (~1.5 MB,
// 100 KB): puts, then gets, `--concurrency` loops for `--seconds` each. Server CPU is read from
// /proc/<pid>/stat (moto's pid from `ss -ltnp`); moto is shared, so its CPU includes other clients' work.
const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '4' },
    moto: { type: 'string', default: process.env.TEST_S3_ENDPOINT ?? 'http://127.0.0.1:9555' },
  },
});
const seconds = Number(values.seconds);
const concurrency = Number(values.concurrency);
const SIZES = [
  { label: '1.5 MB', bytes: 1_500_000 },
  { label: '100 KB', bytes: 100_000 },
];
const KEYS = 32; // objects per size, written round-robin by the puts and read back by the gets
const ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
const log = createLogger('bench-s3', { level: 'warn', pretty: false });

/** utime + stime of a process in seconds, or null when /proc does not tell. */
function cpuSeconds(pid: number | null): number | null {
  if (pid === null) return null;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
  } catch {
    return null;
  }
}

function listenerPid(port: number): number | null {
  const out = execFileSync('ss', ['-ltnpH', `sport = :${port}`], { encoding: 'utf8' });
  const match = /pid=(\d+)/.exec(out);
  return match ? Number(match[1]) : null;
}

type Row = {
  server: string;
  op: string;
  size: string;
  ops: number;
  mbs: number;
  p50: number;
  p95: number;
  cpu: number | null;
};

async function closedLoops(op: (index: number) => Promise<void>) {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  const loop = async () => {
    while (performance.now() < until) {
      const sent = performance.now();
      await op(next++);
      latencies.push(performance.now() - sent);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  return { latencies, elapsed: (performance.now() - started) / 1000 };
}

async function measure(server: string, config: S3Config, pid: number | null): Promise<Row[]> {
  const storage = new Storage(config);
  await storage.ensureBucket(log);
  const rows: Row[] = [];
  for (const { label, bytes } of SIZES) {
    const body = randomBytes(bytes);
    const key = (index: number) => `bench/${bytes}/${index % KEYS}`;
    for (let index = 0; index < KEYS; index++)
      await storage.put(key(index), body, 'application/octet-stream');
    const ops = {
      put: (index: number) => storage.put(key(index), body, 'application/octet-stream'),
      get: async (index: number) => void (await storage.get(key(index))),
    };
    for (const [op, run] of Object.entries(ops)) {
      const cpu = cpuSeconds(pid);
      const { latencies, elapsed } = await closedLoops(run);
      const after = cpuSeconds(pid);
      const rate = latencies.length / elapsed;
      const used = cpu === null || after === null ? null : (after - cpu) / latencies.length;
      const [p50, p95] = [percentile(latencies, 50), percentile(latencies, 95)];
      rows.push({ server, op, size: label, ops: rate, mbs: (rate * bytes) / 1e6, p50, p95, cpu: used });
    }
  }
  await storage.deletePrefixes(['bench/']);
  storage.destroy();
  return rows;
}

const base = readInfraConfig(process.env).s3;
const rows: Row[] = [];

const port = await freePort();
const dir = mkdtempSync(path.join(os.tmpdir(), 's3local-bench-'));
const embeddedS3 = spawn(
  process.execPath,
  [
    ...(process.env.S3LOCAL_NODE_ARGS?.split(' ') ?? []),
    '--import',
    'tsx',
    process.env.S3LOCAL_MAIN ?? 'services/s3local/main.ts',
  ],
  {
    env: {
      ...process.env,
      S3LOCAL_PORT: String(port),
      S3LOCAL_DIR: dir,
      S3_BUCKET: 'pixtools',
      LOG_PRETTY: 'false',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  },
);
try {
  const embedded = {
    ...base,
    endpoint: `http://127.0.0.1:${port}`,
    publicEndpoint: `http://127.0.0.1:${port}`,
    bucket: 'pixtools',
  };
  const probe = new Storage(embedded);
  for (
    let tries = 0;
    await probe.ping().then(
      () => false,
      () => true,
    );
    tries++
  ) {
    if (tries > 150) throw new Error('the embedded S3 did not start within 30 s');
    await sleep(200);
  }
  probe.destroy();
  rows.push(...(await measure(`embedded ${embeddedS3.pid ?? ''}`, embedded, embeddedS3.pid ?? null)));
} finally {
  embeddedS3.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
}

const motoUrl = new URL(values.moto);
const bucket = `s3bench-${randomBytes(4).toString('hex')}`;
const moto = {
  ...base,
  endpoint: values.moto,
  publicEndpoint: values.moto,
  bucket,
  accessKeyId: 'test',
  secretAccessKey: 'test',
};
const motoPid = listenerPid(Number(motoUrl.port));
rows.push(...(await measure(`moto ${motoPid ?? '?'} (tests)`, moto, motoPid)));
const admin = new S3Client({
  endpoint: values.moto,
  region: base.region,
  forcePathStyle: true,
  credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
});
await admin.send(new DeleteBucketCommand({ Bucket: bucket }));
admin.destroy();

console.log(
  `\nconcurrency ${concurrency}, ${seconds} s per cell; load average ${os
    .loadavg()
    .map((v) => v.toFixed(2))
    .join(' ')}\n`,
);
console.log('| server (pid) | op | object | ops/s | MB/s | p50 | p95 | server CPU per op |');
console.log('|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  const cpu = r.cpu === null ? 'n/a' : `${(r.cpu * 1000).toFixed(1)} ms`;
  console.log(
    `| ${r.server} | ${r.op} | ${r.size} | ${r.ops.toFixed(1)} | ${r.mbs.toFixed(1)} | ${r.p50.toFixed(1)} ms | ${r.p95.toFixed(1)} ms | ${cpu} |`,
  );
}
