import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Sink, startSink } from '../notifier/support/sink.ts';
import { samplePng } from '../support/images.ts';
import type { ServiceName } from '../support/system.ts';
import { DEPENDENCIES, type Dependency, SERVICES, startFaultySystem } from './support/faulty-system.ts';
import { type FaultFigure, report } from './support/figures.ts';
import { type Submission, startLoad } from './support/load.ts';
import { verify } from './support/verify.ts';

const CUT_MS = 6000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type System = Awaited<ReturnType<typeof startFaultySystem>>;

/** Time from `since` until a job submitted after it completes (the system works again). */
async function recoveryMs(s: System, since: number, image: Buffer): Promise<number | null> {
  const deadline = since + 60_000;
  while (Date.now() < deadline) {
    const form = new FormData();
    form.set('file', new File([new Uint8Array(image)], 'probe.png'));
    form.set('operations', '["webp"]');
    const answer = await fetch(`${s.url}/api/process`, { method: 'POST', body: form }).catch(() => null);
    const body = answer?.status === 202 ? ((await answer.json()) as { job_id: string }) : null;
    if (body === null) {
      await sleep(250);
      continue;
    }
    while (Date.now() < deadline) {
      const { events } = await s.bus.log.history(body.job_id).catch(() => ({ events: [] }));
      if (events.some((stored) => stored.event.type === 'JobCompleted')) return Date.now() - since;
      await sleep(200);
    }
  }
  return null;
}

describe('fault injection under load: every service killed, every dependency cut', () => {
  let s: System;
  let sink: Sink;
  let image: Buffer;
  before(async () => {
    sink = await startSink();
    image = await samplePng(320, 240);
    s = await startFaultySystem();
  });
  after(async () => {
    await s?.close();
    await sink?.close();
  });

  it('loses nothing, duplicates nothing, answers no 500', { timeout: 540_000 }, async () => {
    const load = startLoad(s.url, image, sink.url('/hook'), 500);
    const faults: FaultFigure[] = [];
    const windows = new Map<Dependency, { from: number; to: number }>();
    const started = Date.now();
    const record = (figure: FaultFigure) => {
      faults.push(figure);
      const at = ((Date.now() - started) / 1000).toFixed(0);
      console.log(`# +${at} s ${figure.fault}: recovered in ${figure.recoveryMs} ms`);
    };

    try {
      await sleep(10_000);
      for (const name of SERVICES as ServiceName[]) {
        const from = Date.now();
        await s.crash(name);
        const to = Date.now();
        record({
          fault: `SIGKILL ${name}`,
          durationMs: to - from,
          recoveryMs: await recoveryMs(s, from, image),
        });
        await sleep(3000); // steady load between faults
      }
      for (const dep of DEPENDENCIES) {
        const from = Date.now();
        s.proxies[dep].down();
        await sleep(CUT_MS);
        s.proxies[dep].up();
        const to = Date.now();
        windows.set(dep, { from, to });
        record({ fault: `cut ${dep}`, durationMs: to - from, recoveryMs: await recoveryMs(s, to, image) });
        await sleep(3000);
      }
      await sleep(10_000);
    } finally {
      await load.stop(); // also when a fault step failed: the load would keep the process alive
    }

    for (const sub of load.submissions.filter((x) => x.status >= 500 && x.status !== 503))
      console.log(`# HTTP ${sub.status} at +${((sub.at - started) / 1000).toFixed(1)} s`);
    const verdict = await verify(s.bus, s.storage, s.url, sink, load.accepted(), 180_000);
    const figures = report('fault suite', load.submissions, verdict, faults);
    for (const bad of verdict.badOutputs.slice(0, 5)) {
      // What the read model holds for a job it describes wrongly (diagnosis of a failed run).
      const jobId = bad.slice(0, 36);
      const row = await s.db
        .selectFrom('jobs')
        .select(['status', 'last_seq'])
        .where('job_id', '=', jobId)
        .executeTakeFirst();
      const timeline = await s.db
        .selectFrom('job_events')
        .select(['seq', 'type'])
        .where('job_id', '=', jobId)
        .orderBy('seq')
        .execute();
      const checkpoint = await s.db.selectFrom('projection_checkpoints').selectAll().execute();
      const log = (await s.bus.log.history(jobId)).events.map((e) => `${e.seq}:${e.event.type}`);
      console.log(
        `# ${bad}\n#   row ${JSON.stringify(row)} checkpoint ${JSON.stringify(checkpoint)}\n#   projected ${timeline.map((t) => `${t.seq}:${t.type}`).join(' ')}\n#   log ${log.join(' ')}`,
      );
    }

    if (verdict.badOutputs.length > 0) {
      const output = s.processes.get('projections')?.output() ?? '';
      console.log(`# projections' last lines:\n${output.split('\n').slice(-40).join('\n')}`);
    }

    const during = (dep: Dependency, test: (s: Submission) => boolean) => {
      const window = windows.get(dep);
      // Answers to requests sent well inside the cut (a request sent just before it may still get through).
      return load.submissions.filter(
        (sub) =>
          window !== undefined && sub.at >= window.from + 500 && sub.at <= window.to - 500 && test(sub),
      );
    };
    assert.deepEqual(verdict.lost, [], 'every accepted job completed');
    assert.deepEqual(verdict.duplicateOutputs, [], 'no step has two outputs');
    assert.deepEqual(verdict.badOutputs, [], 'every output downloads and decodes');
    assert.deepEqual(verdict.webhooksMissing, [], 'every webhook arrived');
    assert.deepEqual(verdict.webhookConflicts, [], 'one delivery id per job');
    assert.equal(figures.http500, 0, 'no 500 anywhere');
    const natsRefusals = during('nats', (sub) => sub.status === 503);
    assert.ok(natsRefusals.length > 0, 'submissions during the NATS cut are refused with 503');
    assert.deepEqual(
      during('nats', (sub) => sub.status !== 202 && (sub.status !== 503 || sub.retryAfter === null)),
      [],
      'every refusal during the NATS cut is a 503 with Retry-After',
    );
    assert.deepEqual(
      during('postgres', (sub) => sub.status !== 202),
      [],
      'submissions need no Postgres',
    );
    assert.ok(verdict.jobs >= 100, `a real load: ${verdict.jobs} jobs`);
    for (const fault of faults) assert.notEqual(fault.recoveryMs, null, `${fault.fault}: recovered`);
  });
});
