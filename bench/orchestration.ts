import { ensureDatabase, migrateToLatest } from '../db/migrator.ts';
import { createDb } from '../projections/database.ts';
import { rebuild } from '../projections/projector.ts';
import { connectBus } from '../shared/bus/connect.ts';
import { readInfraConfig } from '../shared/config/infra.ts';
import { createLogger } from '../shared/log.ts';
import { Storage } from '../shared/storage/storage.ts';
import { freshEnv } from '../test/support/env.ts';
import { cleanup, waitFor } from '../test/support/harness.ts';
import { samplePng } from '../test/support/images.ts';
import { ensureS3Server } from '../test/support/moto.ts';
import { spawnService } from '../test/support/processes.ts';
import { summary } from './stats.ts';

// Orchestration overhead with every service in its own process, against the real infrastructure:
//   npm run bench:orchestration -- [jobs=300] [parallel=8]
// Prints dispatch → pick-up and step finished → job completed latencies (from event timestamps),
// then the replay rate of a full projections rebuild.
const jobs = Number(process.argv[2] ?? 300);
const parallel = Number(process.argv[3] ?? 8);

await ensureS3Server();
const port = String(18_000 + Math.floor(Math.random() * 1000));
const env = freshEnv({ PORT: port, HOST: '127.0.0.1', CONVERTER_CONCURRENCY: '4' });
const infra = readInfraConfig(env);
const log = createLogger('bench', { level: 'warn', pretty: false });
await ensureDatabase(infra.databaseUrl);
const db = createDb(infra.databaseUrl);
await migrateToLatest(db);
const storage = new Storage(infra.s3);
await storage.ensureBucket(log);
const bus = await connectBus({ ...infra, url: infra.natsUrl, name: 'bench' });

const services = [
  ['services/planner/main.ts', 'planner consuming'],
  ['services/converter/main.ts', 'converter consuming'],
  ['projections/main.ts', 'projections consuming'],
  ['services/intake/main.ts', 'intake listening'],
] as const;
const running = services.map(([entry]) => spawnService(entry, env));
await Promise.all(running.map((service, i) => service.waitFor(services[i]?.[1] ?? '')));

const png = await samplePng(32, 32);
const ids: string[] = [];
const started = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: parallel }, async () => {
    while (next < jobs) {
      next++;
      const form = new FormData();
      form.set('file', new File([new Uint8Array(png)], 'tiny.png'));
      form.set('operations', '["webp"]');
      const response = await fetch(`http://127.0.0.1:${port}/api/process`, { method: 'POST', body: form });
      if (response.status !== 202)
        throw new Error(`submit failed: ${response.status} ${await response.text()}`);
      ids.push(((await response.json()) as { job_id: string }).job_id);
    }
  }),
);
const count = async () =>
  Number(
    (
      await db
        .selectFrom('jobs')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('status', 'in', ['COMPLETED', 'FAILED'])
        .executeTakeFirstOrThrow()
    ).n,
  );
await waitFor(count, (n) => n >= jobs, 300_000);
const seconds = (performance.now() - started) / 1000;

const pickup: number[] = [];
const completion: number[] = [];
const endToEnd: number[] = [];
for (const id of ids) {
  const events = (await bus.log.history(id)).events.map((stored) => stored.event);
  const at = (type: string) => Date.parse(events.find((event) => event.type === type)?.metadata.time ?? '');
  pickup.push(at('StepStarted') - at('StepDispatched'));
  completion.push(at('JobCompleted') - at('StepSucceeded'));
  endToEnd.push(at('JobCompleted') - at('JobSubmitted'));
}
for (const service of running) await service.kill('SIGTERM');

console.log(
  `jobs: ${jobs} tiny PNG → WebP jobs, ${parallel} submitting in parallel, ${seconds.toFixed(1)} s (${(jobs / seconds).toFixed(1)} jobs/s)`,
);
console.log(`step dispatched → picked up by converter: ${summary(pickup)}`);
console.log(`step finished   → job completed:          ${summary(completion)}`);
console.log(`job submitted   → job completed:          ${summary(endToEnd)}`);

const replay = await rebuild(db, bus, log);
console.log(
  `projections:rebuild replayed ${replay.events} events in ${replay.seconds.toFixed(2)} s: ${Math.round(replay.events / replay.seconds)} events/s`,
);
await cleanup(bus, storage, db, infra.databaseUrl);
