import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import pg from 'pg';
import sharp from 'sharp';
import { cbsd68Dir, plainSharpCpuMs, QUALITY, referencePng } from './load/ceiling.ts';
import { cpuNow, cpuSince, findProcesses, infraLabel, printCpuTable } from './load/procs.ts';
import { freePort } from './ports.ts';

// The floor: the least CPU this design's job path spends per reference job outside the encoder, with the
// parts the project uses (Node processes, the AWS SDK, the embedded S3, NATS, Postgres, Redis) on this
// machine, against the budget the throughput goal leaves (plain sharp's CPU per image × (1 / 0.85 − 1)).
//   npm run bench:floor -- [--jobs 200] [--parallel 3] [--bytes-only]
// (--bytes-only: the image bytes' path alone, without Redis, the bus and Postgres.)
// Starts its own embedded S3 (services/s3local, a temporary folder, a free port) and bench/floor/path.ts,
// which does only what the design requires of every job (see that file); uses the machine's NATS
// (FLOOR_NATS, default 127.0.0.1:4222), Postgres (FLOOR_PG) and Redis (FLOOR_REDIS), with its own
// streams, tables and keys, removed at the end. Reads each process's CPU from /proc before and after:
// NATS, Postgres and Redis are shared, so run it while nothing else uses them (no `npm start`, no tests).
const { values } = parseArgs({
  options: {
    jobs: { type: 'string', default: '200' },
    parallel: { type: 'string', default: '3' },
    'bytes-only': { type: 'boolean', default: false },
  },
});
const jobs = Number(values.jobs);
const parallel = Number(values.parallel);
const natsUrl = process.env.FLOOR_NATS ?? '127.0.0.1:4222';
const pgUrl = process.env.FLOOR_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrl = process.env.FLOOR_REDIS ?? 'redis://127.0.0.1:6379';
const ns = `floor${process.pid}`;
const bytesOnly = values['bytes-only'];
const NODE = ['--initial-old-space-size=64', '--min-semi-space-size=16', '--max-semi-space-size=32'];

const { file, png } = await referencePng(cbsd68Dir());
const webp = await sharp(png).webp({ quality: QUALITY }).toBuffer();

const children: ChildProcess[] = [];
/** Starts a script with the services' node flags; its stdout is piped when `pipeStdout`, else inherited. */
function start(script: string, env: Record<string, string>, pipeStdout = false): ChildProcess {
  const child = spawn(process.execPath, [...NODE, '--import', 'tsx', script], {
    env: {
      ...process.env,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', pipeStdout ? 'pipe' : 'inherit', 'inherit', 'ipc'],
  });
  children.push(child);
  return child;
}
const firstLine = (child: ChildProcess) =>
  new Promise<string>((resolve, reject) => {
    if (child.stdout === null) return reject(new Error('no stdout'));
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`exited with ${code}`)));
  });

const dir = await mkdtemp(path.join(os.tmpdir(), 'pixtools-floor-'));
try {
  const outputFile = path.join(dir, 'output.webp');
  await writeFile(outputFile, webp);
  const s3Port = await freePort();
  const s3 = start(
    'services/s3local/main.ts',
    {
      S3LOCAL_PORT: String(s3Port),
      S3LOCAL_DIR: path.join(dir, 's3'),
      S3_BUCKET: ns,
      LOG_LEVEL: 'info', // its first line says it listens
    },
    true,
  );
  await firstLine(s3);
  const pathChild = start('bench/floor/path.ts', {
    FLOOR_NS: ns,
    FLOOR_S3: `http://127.0.0.1:${s3Port}`,
    FLOOR_NATS: natsUrl,
    FLOOR_PG: pgUrl,
    FLOOR_REDIS: redisUrl,
    FLOOR_OUTPUT_FILE: outputFile,
    FLOOR_BYTES_ONLY: bytesOnly ? '1' : '0',
  });
  const { port } = await new Promise<{ port: number }>((resolve, reject) => {
    pathChild.once('message', (message) => resolve(message as { port: number }));
    pathChild.once('exit', (code) => reject(new Error(`bench/floor/path.ts exited with ${code}`)));
  });
  const base = `http://127.0.0.1:${port}`;

  type Stats = { seen: Record<string, number>; converted: number };
  const stats = async () => (await (await fetch(base)).json()) as Stats;
  async function run(count: number): Promise<void> {
    const target = (await stats()).converted + count;
    let next = 0;
    await Promise.all(
      Array.from({ length: parallel }, async () => {
        while (next++ < count) {
          const response = await fetch(`${base}/jobs`, { method: 'POST', body: new Uint8Array(png) });
          if (response.status !== 202) throw new Error(`submit: ${response.status}`);
          await response.arrayBuffer();
        }
      }),
    );
    for (;;) {
      const now = await stats();
      if (
        now.converted >= target &&
        (bytesOnly || Object.values(now.seen).every((seen) => seen >= target * 6))
      )
        return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  await run(20); // warm-up: JIT, connections, the S3 folder
  const procs = findProcesses((cmd, pid) => {
    if (pid === pathChild.pid) return 'the job path (bench/floor/path.ts)';
    if (pid === s3.pid) return 'embedded S3';
    const infra = infraLabel(cmd);
    return infra === 'embedded S3' || infra === 'moto (S3)' ? null : infra;
  });
  const before = cpuNow(procs);
  const started = performance.now();
  await run(jobs);
  const seconds = (performance.now() - started) / 1000;
  const perLabel = cpuSince(procs, before);

  const sharpMs = await plainSharpCpuMs(png);

  console.log(
    `input ${file} → 1600×630 PNG (${(png.length / 1e6).toFixed(2)} MB), WebP output ${webp.length} bytes`,
  );
  console.log(
    `${jobs} jobs, ${parallel} in parallel, ${seconds.toFixed(1)} s (${(jobs / seconds).toFixed(1)} jobs/s)`,
  );
  const floor = printCpuTable(perLabel, jobs, 'floor');
  const budget = sharpMs * (1 / 0.85 - 1);
  console.log(`plain sharp, same conversion: ${sharpMs.toFixed(1)} ms CPU per image`);
  console.log(`budget for everything but the encoder at 0.85× plain sharp: ${budget.toFixed(1)} ms per job`);
  console.log(
    `best ratio this floor allows (an encoder at plain sharp's cost, nothing else): ${(sharpMs / (sharpMs + floor)).toFixed(2)}`,
  );
} finally {
  for (const child of children) child.kill('SIGTERM');
  const nc = await connect({ servers: natsUrl });
  const jsm = await jetstreamManager(nc);
  for (const stream of [`${ns}_events`, `${ns}_work`]) await jsm.streams.delete(stream).catch(() => false);
  await nc.close();
  const db = new pg.Client({ connectionString: pgUrl });
  await db.connect();
  await db.query(`drop table if exists ${ns}_jobs, ${ns}_checkpoint`);
  await db.end();
  const redis = new Redis(redisUrl);
  const keys = await redis.keys(`${ns}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  await rm(dir, { recursive: true, force: true });
}
