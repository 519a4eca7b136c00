import { percentile } from '../stats.ts';
import type { Ceiling } from './ceiling.ts';
import type { Finished, Phases, Submitted } from './client.ts';

type Counts = { ok: number; other: number; latencies: number[]; seconds: number };
type Cpu = { user: number; system: number };

export type Run = Readonly<{
  rate: number;
  fraction: number;
  duration: number;
  pollMs: number;
  submissions: readonly (Submitted & { at: number })[];
  finished: readonly Finished[];
  before: Ceiling;
  after: Ceiling | null;
  submittedBy: number;
  lagMax: number;
  loads: readonly number[];
  load: string;
  clientCpu: Cpu;
  pollers: { clients: number; everyMs: number; counts: Counts } | null;
}>;

const seconds = (ms: number) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : 'unfinished');
const ms = (value: number) => (Number.isFinite(value) ? `${value.toFixed(0)} ms` : 'n/a');
const cpuSeconds = (cpu: Cpu) => (cpu.user + cpu.system) / 1e6;
const pcts = (values: number[], format: (value: number) => string) =>
  [50, 95, 99].map((p) => `p${p} ${format(percentile(values, p))}`).join('  ');

function tally(submissions: Run['submissions']) {
  const refused = submissions.flatMap((s) => (s.kind === 'refused' ? [s] : []));
  const of = (test: (status: number) => boolean) => refused.filter((s) => test(s.status));
  const tooMany = of((status) => status === 429);
  return {
    accepted: submissions.filter((s) => s.kind === 'accepted'),
    tooMany,
    server: of((status) => status >= 500),
    other: of((status) => status !== 429 && status < 500),
    timeouts: submissions.filter((s) => s.kind === 'timeout').length,
    network: submissions.flatMap((s) => (s.kind === 'network' ? [s.detail] : [])),
  };
}

export function printRun(run: Run): void {
  const { duration, finished, before, after } = run;
  const t = tally(run.submissions);
  const warm = duration * 0.1;
  const steady = finished.filter(
    (job) =>
      job.outcome === 'completed' &&
      job.seenAt !== null &&
      job.seenAt >= warm * 1000 &&
      job.seenAt <= duration * 1000,
  ).length;
  const completedRate = steady / (duration - warm);
  const latencies = finished.flatMap((job) => {
    if (job.outcome === 'completed' && job.seenAt !== null) return [job.seenAt - job.submittedAt];
    return job.outcome === 'unfinished' ? [Number.POSITIVE_INFINITY] : [];
  });
  const exact = finished.flatMap((job) => {
    if (job.outcome === 'completed' && job.exactMs !== null) return [job.exactMs];
    return job.outcome === 'unfinished' ? [Number.POSITIVE_INFINITY] : [];
  });
  const phases = finished.flatMap((job) => (job.outcome === 'completed' && job.phases ? [job.phases] : []));
  const broken = finished.filter((job) => job.outcome === 'failed' || job.outcome === 'error');
  const unfinished = finished.filter((job) => job.outcome === 'unfinished').length;
  const offered = run.rate; // submissions at t = i / rate for t < duration
  const meanLoad = run.loads.reduce((a, b) => a + b, 0) / Math.max(1, run.loads.length);
  const statuses = (list: { status: number }[]) => [...new Set(list.map((s) => s.status))].join(',') || '-';

  console.log(`\n== load run: ${run.fraction.toFixed(2)}× ceiling for ${duration} s ==`);
  console.log(
    `offered   ${offered.toFixed(2)} jobs/s (${run.submissions.length} submissions, all answered by ${seconds(run.submittedBy)}; scheduler lag max ${ms(run.lagMax)})`,
  );
  console.log(
    `completed ${completedRate.toFixed(2)} jobs/s over the steady window ${warm.toFixed(0)}–${duration} s (${steady} jobs)`,
  );
  console.log(
    `ceiling   ${before.c2.toFixed(2)} img/s plain sharp at concurrency 2 (${before.c1.toFixed(2)} at 1) before the load`,
  );
  if (after)
    console.log(
      `          ${after.c2.toFixed(2)} img/s at concurrency 2 (${after.c1.toFixed(2)} at 1) after the load`,
    );
  console.log(`ratio     completed / ceiling = ${(completedRate / before.c2).toFixed(3)} (goal ≥ 0.85)`);
  console.log(
    `answers   202 ${t.accepted.length}  429 ${t.tooMany.length}  5xx ${t.server.length} (${statuses(t.server)})  other ${t.other.length} (${statuses(t.other)})  timeouts ${t.timeouts}  network errors ${t.network.length}`,
  );
  for (const detail of [...new Set(t.network)].slice(0, 3)) console.log(`          network: ${detail}`);
  const withRetry = t.tooMany.filter((s) => s.retryAfter !== null).length;
  if (t.tooMany.length > 0) {
    const values = [...new Set(t.tooMany.map((s) => s.retryAfter))].join(',');
    const lat = t.tooMany.map((s) => s.ms);
    console.log(
      `429       p50 ${ms(percentile(lat, 50))}  p95 ${ms(percentile(lat, 95))}; Retry-After on ${withRetry}/${t.tooMany.length} (${values}) (goal: within 50 ms)`,
    );
  }
  console.log(
    `202       submit request p50 ${ms(
      percentile(
        t.accepted.map((s) => s.ms),
        50,
      ),
    )}  p95 ${ms(
      percentile(
        t.accepted.map((s) => s.ms),
        95,
      ),
    )}`,
  );
  console.log(
    `submit→COMPLETED ${pcts(latencies, seconds)}  (n=${latencies.length}; seen by a poll every ${run.pollMs} ms, so up to ${run.pollMs} ms late)`,
  );
  console.log(
    `          without the poll delay: ${pcts(exact, seconds)}  (submission start → the job's last step finished, on the shared wall clock)`,
  );
  const phase = (name: keyof Phases, label: string) => {
    const list = phases.map((p) => p[name]);
    return `${label} ${seconds(percentile(list, 50))} / ${seconds(percentile(list, 95))}`;
  };
  console.log(
    `server    p50 / p95 from the job body's timestamps: ${phase('total', 'created → last step finished')}; of which ${phase('planned', 'created → webp dispatched')}, ${phase('queued', 'dispatched → started')}, ${phase('convert', 'webp step')}, ${phase('after', 'webp finished → last step finished (a bundle step, if the job has one)')}`,
  );
  if (unfinished > 0) {
    const done = latencies.filter(Number.isFinite);
    console.log(`          completed jobs only (a lower bound): ${pcts(done, seconds)}`);
  }
  console.log(
    `jobs      completed ${latencies.length - unfinished}  failed/error ${broken.length}  unfinished at the drain deadline ${unfinished}`,
  );
  for (const job of broken.slice(0, 5)) console.log(`          ${job.outcome} ${job.jobId}: ${job.detail}`);
  if (run.pollers) {
    const { clients, everyMs, counts } = run.pollers;
    const rps = (counts.ok + counts.other) / counts.seconds;
    console.log(
      `pollers   ${clients} clients, one GET every ${everyMs} ms on a finished job: ${rps.toFixed(0)} req/s (target ${((clients * 1000) / everyMs).toFixed(0)}), ${counts.other} not 200, latency ${pcts(counts.latencies, ms)}`,
    );
  }
  console.log(
    `machine   load average mean ${meanLoad.toFixed(2)} during the run, now ${run.load}; bench client CPU ${cpuSeconds(run.clientCpu).toFixed(1)} s`,
  );
  const tooManyMs = (p: number) =>
    ms(
      percentile(
        t.tooMany.map((s) => s.ms),
        p,
      ),
    );
  console.log(
    '\n| offered × ceiling | offered | completed | ceiling c2 (c1) | ratio | p50 | p95 | p99 | p95 without poll delay | 202 / 429 / 5xx / timeouts | 429 p50 / p95 | load |',
  );
  console.log(
    `| ${run.fraction.toFixed(2)}× | ${offered.toFixed(2)}/s | ${completedRate.toFixed(2)}/s | ${before.c2.toFixed(2)} (${before.c1.toFixed(2)}) | ${(completedRate / before.c2).toFixed(2)} | ${[50, 95, 99].map((p) => seconds(percentile(latencies, p))).join(' | ')} | ${seconds(percentile(exact, 95))} | ${t.accepted.length} / ${t.tooMany.length} / ${t.server.length} / ${t.timeouts} | ${tooManyMs(50)} / ${tooManyMs(95)} | ${meanLoad.toFixed(1)} |`,
  );
}

export function printGetRps(r: {
  clients: number;
  seconds: number;
  counts: Counts;
  clientCpu: Cpu;
  load: string;
}) {
  const rps = r.counts.ok / r.counts.seconds;
  console.log(
    `\n== GET /api/jobs/{id} on one finished job, ${r.clients} keep-alive clients, ${r.seconds} s ==`,
  );
  console.log(`${rps.toFixed(0)} requests/s answered 200 (goal ≥ 1000), ${r.counts.other} not 200`);
  console.log(`latency ${pcts(r.counts.latencies, (value) => `${value.toFixed(1)} ms`)}`);
  console.log(
    `bench client CPU ${cpuSeconds(r.clientCpu).toFixed(1)} s of ${r.seconds} s; load average ${r.load}`,
  );
}
