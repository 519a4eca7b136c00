import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { type Ceiling, cbsd68Dir, measureCeiling, referencePng } from './load/ceiling.ts';
import { Client, type Finished, hammer, referenceForm, type Submitted } from './load/client.ts';
import { printGetRps, printRun } from './load/report.ts';

// Open-loop load against a running PixTools (it starts nothing: run `npm start` yourself first):
//   npm run bench:load -- http://127.0.0.1:8000 --rate 0.7 --duration 60
//   npm run bench:load -- http://127.0.0.1:8000 --overload            (3× the ceiling)
//   npm run bench:load -- http://127.0.0.1:8000 --jobs-per-second 5 --pollers 100 --poller-ms 100
//   npm run bench:load -- http://127.0.0.1:8000 --get-rps 32         (GET rps on one finished job)
// Workload (issue 9): a CBSD68 photo (CBSD68_DIR) stretched to 1600×630, sent as PNG, `["webp"]` quality 80.
// In this process, before the load: one warm-up job through the system (it is also the "finished job" of
// --pollers and --get-rps), then the plain-sharp ceiling, sharp(png).webp({ quality: 80 }).toBuffer() at
// concurrency 1 and 2 for --ceiling-seconds each while the system is idle; --ceiling-after repeats it.
// Then submissions at a fixed arrival rate (--rate × the concurrency-2 ceiling, or --jobs-per-second),
// each with a --timeout-ms limit; each accepted job is polled every --poll-ms until COMPLETED/FAILED or
// until --drain-seconds after the last submission. The pollers and the GET-rate run use undici's Pool on
// keep-alive connections, paced by one ticker, and read each body without parsing it (`Client.getStatus`,
// `hammer`): the bench client shares the machine, and fetch + JSON.parse with a timer per poller cost it
// three to four times as much CPU per GET.
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rate: { type: 'string', default: '0.7' },
    'jobs-per-second': { type: 'string' },
    overload: { type: 'boolean', default: false },
    duration: { type: 'string', default: '60' },
    'poll-ms': { type: 'string', default: '1000' },
    'timeout-ms': { type: 'string', default: '30000' },
    'drain-seconds': { type: 'string', default: '30' },
    'ceiling-seconds': { type: 'string', default: '10' },
    'ceiling-after': { type: 'boolean', default: false },
    pollers: { type: 'string', default: '0' },
    'poller-ms': { type: 'string', default: '100' },
    'get-rps': { type: 'string' },
    'get-seconds': { type: 'string', default: '10' },
    image: { type: 'string' },
  },
});
const num = (name: keyof typeof values): number => {
  const value = Number(values[name]);
  if (!Number.isFinite(value) || value < 0) throw new Error(`--${name} must be a non-negative number`);
  return value;
};
const base = (positionals[0] ?? 'http://127.0.0.1:8000').replace(/\/$/, '');
const client = new Client(base, num('timeout-ms'));
const dir = cbsd68Dir();
const load = () =>
  os
    .loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');

const { file, png } = await referencePng(dir, values.image);
const upload = referenceForm(png);
console.log(
  `target ${base}; input ${file} → 1600×630 PNG, ${(png.length / 1e6).toFixed(2)} MB; load ${load()}`,
);

/** Submits one job and follows it to its end: the system is warm, and there is a finished job to GET. */
async function finishedJob(): Promise<string> {
  const submitted = await client.submit(upload);
  if (submitted.kind !== 'accepted') throw new Error(`warm-up submission: ${JSON.stringify(submitted)}`);
  const end = await client.follow(submitted.jobId, 0, 100, 120_000, () => performance.now());
  if (end.outcome !== 'completed') throw new Error(`warm-up job ${submitted.jobId}: ${JSON.stringify(end)}`);
  return submitted.jobId;
}
const doneJob = await finishedJob();

if (values['get-rps'] !== undefined) {
  const clients = num('get-rps');
  const seconds = num('get-seconds');
  const cpu = process.cpuUsage();
  const until = performance.now() + seconds * 1000;
  const counts = await hammer(client, doneJob, clients, 0, () => performance.now() >= until);
  printGetRps({ clients, seconds, counts, clientCpu: process.cpuUsage(cpu), load: load() });
  process.exit(0);
}

const ceilingSeconds = num('ceiling-seconds');
console.log(`measuring the plain-sharp ceiling (${ceilingSeconds} s at concurrency 1, then 2) …`);
const before: Ceiling = await measureCeiling(png, ceilingSeconds);
const fraction = values.overload ? 3 : num('rate');
const rate = values['jobs-per-second'] !== undefined ? num('jobs-per-second') : fraction * before.c2;
const duration = num('duration');
const pollMs = num('poll-ms');
const deadline = (duration + num('drain-seconds')) * 1000;
console.log(
  `ceiling ${before.c2.toFixed(2)} img/s (c2), ${before.c1.toFixed(2)} (c1); offering ${rate.toFixed(2)} jobs/s for ${duration} s, polling every ${pollMs} ms`,
);

const t0 = performance.now();
const now = () => performance.now() - t0;
const cpu = process.cpuUsage();
let loadDone = false;
const pollers = num('pollers');
const pollerRun = hammer(client, doneJob, pollers, num('poller-ms'), () => loadDone);
const loads: number[] = [];
const sampler = setInterval(() => loads.push(os.loadavg()[0] ?? 0), 5000);

const submissions: (Submitted & { at: number })[] = [];
const jobs: Promise<Finished>[] = [];
let lagMax = 0;
async function fire(at: number) {
  const submitted = await client.submit(upload);
  submissions.push({ ...submitted, at });
  if (submitted.kind === 'accepted') jobs.push(client.follow(submitted.jobId, at, pollMs, deadline, now));
}
const pending: Promise<void>[] = [];
const interval = 1000 / rate;
for (let index = 0; index * interval < duration * 1000; index++) {
  const wait = index * interval - now();
  if (wait > 0) await sleep(wait);
  lagMax = Math.max(lagMax, -wait);
  pending.push(fire(now()));
}
await Promise.all(pending); // every submission has answered (or timed out)
const submittedBy = now();
const finished = await Promise.all(jobs);
loadDone = true;
clearInterval(sampler);
const pollerCounts = await pollerRun;
const clientCpu = process.cpuUsage(cpu);
const after = values['ceiling-after'] ? await measureCeiling(png, ceilingSeconds) : null;

printRun({
  rate,
  fraction: rate / before.c2,
  duration,
  pollMs,
  submissions,
  finished,
  before,
  after,
  submittedBy,
  lagMax,
  loads,
  load: load(),
  clientCpu,
  pollers: pollers > 0 ? { clients: pollers, everyMs: num('poller-ms'), counts: pollerCounts } : null,
});
