import { createHash, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import {
  AckPolicy,
  type JetStreamClient,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
} from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createLogger } from '../../shared/log.ts';
import { Storage } from '../../shared/storage/storage.ts';

// The least the design has to do per reference job outside the encoder, in one process, with real
// clients (bench/floor.ts starts it and reads its CPU): receive the upload as a raw body (no multipart),
// hash it, claim its idempotency key in Redis, PUT it to S3, append the job's six events to JetStream with
// the expected-last-sequence check, queue one work message, and read every event with four durable
// consumers (the services that read the log: planner, dispatcher, notifier, projections). The work
// consumer GETs the input and PUTs the already-encoded output (no decoding, no encoding); the
// projection consumer writes one row and its checkpoint in one transaction per job (the real one writes
// several rows per job). No validation, no logging, no read model queries, no polling.
const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
};
const ns = env('FLOOR_NS');
/** FLOOR_BYTES_ONLY=1: only the image bytes' path (receive, hash, PUT, GET, PUT the output); no Redis, bus or Postgres. */
const bytesOnly = process.env.FLOOR_BYTES_ONLY === '1';
const output = await readFile(env('FLOOR_OUTPUT_FILE'));
const storage = new Storage({
  endpoint: env('FLOOR_S3'),
  publicEndpoint: env('FLOOR_S3'),
  region: 'us-east-1',
  bucket: ns,
  accessKeyId: 'S3RVER',
  secretAccessKey: 'S3RVER',
  retentionSeconds: 86_400,
  requestTimeoutMs: 30_000,
  connectTimeoutMs: 5_000,
});
await storage.ensureBucket(createLogger('floor', { level: 'warn', pretty: false }));
const redis = new Redis(env('FLOOR_REDIS'));
const db = new pg.Pool({ connectionString: env('FLOOR_PG'), max: 2 });
await db.query(`create table if not exists ${ns}_jobs (id text primary key, status text, events int)`);
await db.query(`create table if not exists ${ns}_checkpoint (id int primary key, seq bigint)`);
await db.query(`insert into ${ns}_checkpoint values (1, 0) on conflict do nothing`);

const nc = await connect({ servers: env('FLOOR_NATS') });
const jsm = await jetstreamManager(nc);
const js: JetStreamClient = jetstream(nc);
await jsm.streams.add({ name: `${ns}_events`, subjects: [`${ns}.events.*`] });
await jsm.streams.add({ name: `${ns}_work`, subjects: [`${ns}.work`], retention: RetentionPolicy.Workqueue });
const READERS = ['planner', 'dispatcher', 'notifier', 'projections'] as const;
for (const name of READERS)
  await jsm.consumers.add(`${ns}_events`, { durable_name: name, ack_policy: AckPolicy.Explicit });
await jsm.consumers.add(`${ns}_work`, { durable_name: 'converter', ack_policy: AckPolicy.Explicit });

const lastSeq = new Map<string, number>();
async function append(jobId: string, type: string, data: Record<string, unknown>): Promise<void> {
  const eventId = `${jobId}:${type}`;
  const event = {
    type,
    data,
    metadata: {
      eventId,
      jobId,
      time: new Date().toISOString(),
      version: 1,
      correlationId: jobId,
      causationId: null,
    },
  };
  const ack = await js.publish(`${ns}.events.${jobId}`, JSON.stringify(event), {
    msgID: eventId,
    expect: { lastSubjectSequence: lastSeq.get(jobId) ?? 0 },
  });
  lastSeq.set(jobId, ack.seq);
}

const step = (jobId: string) => ({ stepId: 'webp', op: 'webp', outputKey: `outputs/${jobId}/webp.webp` });
const seen = Object.fromEntries(READERS.map((name) => [name, 0])) as Record<(typeof READERS)[number], number>;
let converted = 0;

for (const name of READERS) {
  const consumer = await js.consumers.get(`${ns}_events`, name);
  void (async () => {
    for await (const msg of await consumer.consume()) {
      seen[name]++;
      if (name === 'projections') {
        const event = msg.json<{ type: string; metadata: { jobId: string } }>();
        if (event.type === 'JobCompleted') {
          const client = await db.connect();
          try {
            await client.query('begin');
            await client.query(
              `insert into ${ns}_jobs values ($1, 'COMPLETED', 6) on conflict (id) do update set status = excluded.status`,
              [event.metadata.jobId],
            );
            await client.query(`update ${ns}_checkpoint set seq = $1 where id = 1`, [msg.seq]);
            await client.query('commit');
          } finally {
            client.release();
          }
        }
      }
      msg.ack();
    }
  })();
}

const work = await js.consumers.get(`${ns}_work`, 'converter');
void (async () => {
  for await (const msg of await work.consume()) {
    const { jobId } = msg.json<{ jobId: string }>();
    await append(jobId, 'StepStarted', { stepId: 'webp', attempt: 1, worker: 'converter' });
    await storage.get(`raw/${jobId}`);
    await storage.put(`outputs/${jobId}/webp.webp`, output, 'image/webp', 'photo.webp');
    await append(jobId, 'StepSucceeded', {
      ...step(jobId),
      output: { key: `outputs/${jobId}/webp.webp`, contentType: 'image/webp', bytes: output.length },
    });
    await append(jobId, 'JobCompleted', { outputs: { webp: `outputs/${jobId}/webp.webp` } });
    msg.ack();
    converted++;
  }
})();

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

const server = createServer(async (req, res) => {
  if (req.method === 'GET') {
    res.end(JSON.stringify({ seen, converted }));
    return;
  }
  const bytes = await body(req);
  const jobId = randomUUID();
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (bytesOnly) {
    await storage.put(`raw/${jobId}`, bytes, 'image/png', undefined, sha256);
    res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ job_id: jobId }));
    await storage.get(`raw/${jobId}`);
    await storage.put(`outputs/${jobId}/webp.webp`, output, 'image/webp', 'photo.webp');
    converted++;
    return;
  }
  await redis.set(`${ns}:idempotency:${sha256}:${jobId}`, jobId, 'EX', 86_400, 'NX');
  await storage.put(`raw/${jobId}`, bytes, 'image/png', undefined, sha256);
  await append(jobId, 'JobSubmitted', {
    sha256,
    bytes: bytes.length,
    operations: ['webp'],
    rawKey: `raw/${jobId}`,
  });
  res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ job_id: jobId }));
  // The planner's part: plan, dispatch, queue the work.
  await append(jobId, 'JobPlanned', { steps: [step(jobId)] });
  await append(jobId, 'StepDispatched', { ...step(jobId), attempt: 1 });
  await js.publish(
    `${ns}.work`,
    JSON.stringify({ jobId, ...step(jobId), inputs: [{ key: `raw/${jobId}` }] }),
  );
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  process.send?.({ port: address.port });
});
