import { randomUUID } from 'node:crypto';

export type Submission = Readonly<{
  at: number;
  status: number;
  jobId: string | null;
  retryAfter: string | null;
}>;

/**
 * A steady load: one `POST /api/process` every `intervalMs` (each with a webhook to `webhookUrl`,
 * every other one with an `Idempotency-Key`), each answer recorded with its time, until `stop`.
 */
export function startLoad(url: string, image: Buffer, webhookUrl: string, intervalMs = 500) {
  const submissions: Submission[] = [];
  const pending = new Set<Promise<void>>();
  let n = 0;
  const submitOne = async () => {
    const at = Date.now();
    const form = new FormData();
    form.set('file', new File([new Uint8Array(image)], `load-${n}.png`));
    form.set('operations', '["webp","jpg","metadata"]');
    form.set('webhook_url', webhookUrl);
    const headers: Record<string, string> = n % 2 === 0 ? { 'Idempotency-Key': randomUUID() } : {};
    n++;
    try {
      const answer = await fetch(`${url}/api/process`, {
        method: 'POST',
        body: form,
        headers,
        signal: AbortSignal.timeout(30_000),
      });
      const body = (await answer.json().catch(() => ({}))) as { job_id?: string };
      submissions.push({
        at,
        status: answer.status,
        jobId: answer.status === 202 ? (body.job_id ?? null) : null,
        retryAfter: answer.headers.get('retry-after'),
      });
    } catch {
      submissions.push({ at, status: 0, jobId: null, retryAfter: null }); // no answer (intake down)
    }
  };
  const timer = setInterval(() => {
    const task = submitOne().finally(() => pending.delete(task));
    pending.add(task);
  }, intervalMs);
  return {
    submissions,
    accepted: () => submissions.flatMap((s) => (s.jobId === null ? [] : [s.jobId])),
    async stop() {
      clearInterval(timer);
      await Promise.allSettled(pending);
    },
  };
}
