import { type Client, type JobBody, TERMINAL_STATUSES } from './client.ts';
import { jobEvents } from './events.ts';
import type { Reporter } from './progress.ts';

/**
 * Follows the job's live events until its terminal event, then reads the job body until the read
 * model shows the terminal status too (it trails the log by milliseconds).
 */
export async function waitForJob(
  client: Client,
  jobId: string,
  reporter: Reporter,
  timeoutMs = 30_000,
): Promise<JobBody> {
  const current = await client.job(jobId);
  if (!TERMINAL_STATUSES.has(current.status)) {
    try {
      for await (const event of jobEvents(client, jobId)) reporter.event(event);
    } finally {
      reporter.stop();
    }
  } else {
    reporter.stop();
  }
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const body = await client.job(jobId);
    if (TERMINAL_STATUSES.has(body.status) || Date.now() > deadline) return body;
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}
