import { readFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { cbsd68Dir, plainSharpCpuMs, QUALITY, referencePng } from './load/ceiling.ts';
import {
  cpuNow,
  cpuSince,
  findProcesses,
  infraLabel,
  type Proc,
  printCpuTable,
  waitUntilIdle,
} from './load/procs.ts';

// Where the CPU goes, per job, by process: against a running system (`npm start`; pass its PIXTOOLS_NS),
//   npm run bench:cpu -- http://127.0.0.1:8000 --ns pixtools --jobs 100 --parallel 3
// submits the reference workload (1600×630 PNG → ["webp"] q80), polls each job once a second until it
// is COMPLETED, and reads each process's CPU time (utime + stime from /proc) before and after (once the
// services are idle, so the end of their start-up is not counted). The
// services are found by their PIXTOOLS_NS; NATS, Postgres, Redis and the S3 server by name (their
// figures include anything else they serve meanwhile). Then plain sharp's CPU per image, same input.
// CPU time per job is far less sensitive to a busy machine than a rate is.
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    ns: { type: 'string', default: 'pixtools' },
    jobs: { type: 'string', default: '100' },
    parallel: { type: 'string', default: '3' },
  },
});
const base = (positionals[0] ?? 'http://127.0.0.1:8000').replace(/\/$/, '');
const jobs = Number(values.jobs);
const parallel = Number(values.parallel);
function processes(): Proc[] {
  return findProcesses((cmd, pid) => {
    const infra = infraLabel(cmd);
    if (infra !== null) return infra;
    const service = cmd.match(/^\S*node\b.*?((?:services\/\w+|projections)\/main\.ts)/);
    if (!service?.[1]) return null;
    if (!readFileSync(`/proc/${pid}/environ`, 'utf8').includes(`PIXTOOLS_NS=${values.ns}\0`)) return null;
    return service[1].replace('/main.ts', '');
  });
}

const { file, png } = await referencePng(cbsd68Dir());
const upload = new Blob([new Uint8Array(png)], { type: 'image/png' });
let refused = 0;

async function runOne(): Promise<void> {
  for (;;) {
    const form = new FormData();
    form.set('file', upload, 'photo.png');
    form.set('operations', '["webp"]');
    form.set('operation_params', JSON.stringify({ webp: { quality: QUALITY } }));
    const response = await fetch(`${base}/api/process`, { method: 'POST', body: form });
    const body = (await response.json()) as { job_id?: string };
    if (response.status === 429) {
      refused++;
      await new Promise((resolve) =>
        setTimeout(resolve, 1000 * Number(response.headers.get('retry-after') ?? 1)),
      );
      continue;
    }
    if (response.status !== 202 || body.job_id === undefined) throw new Error(`submit: ${response.status}`);
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const job = (await (await fetch(`${base}/api/jobs/${body.job_id}`)).json()) as {
        status: string;
        result_urls: Record<string, string>;
      };
      if (job.status === 'FAILED') throw new Error(`job ${body.job_id} failed`);
      if (job.status === 'COMPLETED') {
        if (!job.result_urls.webp) throw new Error(`job ${body.job_id} COMPLETED without its link`);
        return;
      }
    }
  }
}

const procs = processes();
// Right after `/api/health` answers, the other services may still be loading modules or models: that
// CPU is not the jobs'. Wait (at most 60 s) until the services use under 60 ms of CPU a second.
const idle = await waitUntilIdle(
  procs.filter((proc) => proc.label.startsWith('services/') || proc.label === 'projections'),
  60,
  60,
);
console.log(
  `services idle after ${idle.waitedSeconds} s (${idle.lastMsPerSecond.toFixed(0)} ms of CPU in the last second)`,
);
const before = cpuNow(procs);
const started = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: parallel }, async () => {
    while (next++ < jobs) await runOne();
  }),
);
const seconds = (performance.now() - started) / 1000;
await new Promise((resolve) => setTimeout(resolve, 2000)); // the read model and webhooks settle
const perLabel = cpuSince(procs, before);

const sharpMs = await plainSharpCpuMs(png);

console.log(
  `input ${file} → 1600×630 PNG (${(png.length / 1e6).toFixed(2)} MB); ${jobs} jobs, ${parallel} in parallel`,
);
console.log(
  `${seconds.toFixed(1)} s, ${(jobs / seconds).toFixed(2)} jobs/s; ${refused} answered 429 (retried); load ${os
    .loadavg()
    .map((v) => v.toFixed(1))
    .join(' ')}`,
);
const total = printCpuTable(perLabel, jobs, 'all');
console.log(`plain sharp, same conversion: ${sharpMs.toFixed(1)} ms CPU per image`);
console.log(
  `CPU-bound throughput ratio (plain sharp CPU ÷ the system's CPU per job): ${(sharpMs / total).toFixed(2)}`,
);
