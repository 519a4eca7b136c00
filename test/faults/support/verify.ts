import sharp from 'sharp';
import type { Bus } from '../../../shared/bus/connect.ts';
import type { JobEvent } from '../../../shared/events/events.ts';
import type { Storage } from '../../../shared/storage/storage.ts';
import type { Sink } from '../../notifier/support/sink.ts';

export type Verdict = Readonly<{
  jobs: number;
  lost: string[];
  duplicateOutputs: string[];
  badOutputs: string[];
  webhooksMissing: string[];
  webhookDuplicates: number;
  webhookConflicts: string[];
}>;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function events(bus: Bus, jobId: string): Promise<JobEvent[]> {
  return (await bus.log.history(jobId)).events.map((stored) => stored.event);
}

/** Waits (up to `timeoutMs`) until every job completed and its webhook arrived; then checks each. */
export async function verify(
  bus: Bus,
  storage: Storage,
  url: string,
  sink: Sink,
  jobIds: readonly string[],
  timeoutMs: number,
): Promise<Verdict> {
  const deadline = Date.now() + timeoutMs;
  const done = new Map<string, JobEvent[]>();
  while (done.size < jobIds.length && Date.now() < deadline) {
    for (const jobId of jobIds) {
      if (done.has(jobId)) continue;
      const history = await events(bus, jobId).catch(() => []);
      if (history.some((e) => e.type === 'JobCompleted' || e.type === 'JobFailed')) done.set(jobId, history);
    }
    if (done.size < jobIds.length) await sleep(1000);
  }
  const hooked = () => new Set(sink.received.map((r) => (JSON.parse(r.body) as { job_id: string }).job_id));
  while (jobIds.some((id) => !hooked().has(id)) && Date.now() < deadline) await sleep(1000);

  const lost = jobIds.filter((id) => !done.get(id)?.some((e) => e.type === 'JobCompleted'));
  const duplicateOutputs: string[] = [];
  const badOutputs: string[] = [];
  for (const [jobId, history] of done) {
    const succeeded = history.flatMap((e) => (e.type === 'StepSucceeded' ? [e.data.stepId] : []));
    if (new Set(succeeded).size !== succeeded.length)
      duplicateOutputs.push(`${jobId}: ${succeeded.join(',')}`);
    let objects = 0;
    for await (const _ of storage.list(`outputs/${jobId}/`)) objects++;
    const outputSteps = history.filter((e) => e.type === 'StepSucceeded' && e.data.output !== null).length;
    const bundles = history.filter(
      (e) => e.type === 'StepSucceeded' && e.data.output?.format === 'zip',
    ).length;
    if (objects !== outputSteps - bundles) duplicateOutputs.push(`${jobId}: ${objects} objects`);
    // The read model may still be catching up with the log: its answer is awaited until the deadline.
    let problem: string | null = 'not checked';
    while (problem !== null) {
      problem = await checkDownloads(url, jobId).catch((error: Error) => error.message);
      if (problem === null || !problem.startsWith('status ') || Date.now() > deadline) break;
      await sleep(1000);
    }
    if (problem !== null) badOutputs.push(`${jobId}: ${problem}`);
  }
  const byJob = new Map<string, Set<string>>();
  for (const request of sink.received) {
    const jobId = (JSON.parse(request.body) as { job_id: string }).job_id;
    const delivery = String(request.headers['x-pixtools-delivery'] ?? '');
    byJob.set(jobId, (byJob.get(jobId) ?? new Set()).add(delivery));
  }
  const distinct = [...byJob.values()].reduce((sum, ids) => sum + ids.size, 0);
  return {
    jobs: jobIds.length,
    lost,
    duplicateOutputs,
    badOutputs,
    webhooksMissing: jobIds.filter((id) => !byJob.has(id)),
    webhookDuplicates: sink.received.length - distinct,
    webhookConflicts: [...byJob].filter(([, ids]) => ids.size > 1).map(([id]) => id),
  };
}

/** `null` when the job reads COMPLETED with a link per operation, each downloadable and decodable. */
async function checkDownloads(url: string, jobId: string): Promise<string | null> {
  const answer = await fetch(`${url}/api/jobs/${jobId}`);
  const job = (await answer.json()) as {
    status: string;
    operations: string[];
    result_urls: Record<string, string>;
    metadata_url?: string | null;
  };
  if (job.status !== 'COMPLETED') return `status ${job.status}`;
  for (const op of job.operations) {
    // EXIF is reported in the body; its JSON file is linked as `metadata_url` (not a result URL).
    const link = op === 'metadata' ? (job.metadata_url ?? undefined) : job.result_urls[op];
    if (link === undefined) return `no link for ${op}`;
    const file = await fetch(link);
    if (file.status !== 200) return `${op}: download answered ${file.status}`;
    const bytes = Buffer.from(await file.arrayBuffer());
    if (op === 'metadata') JSON.parse(bytes.toString('utf8'));
    else {
      const meta = await sharp(bytes).metadata();
      if (meta.format !== (op === 'jpg' ? 'jpeg' : op)) return `${op}: decoded as ${meta.format}`;
    }
  }
  return null;
}
