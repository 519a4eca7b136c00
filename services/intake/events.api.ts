import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import type { JobEvent } from '../../shared/events/events.ts';
import type { IntakeDeps } from './deps.ts';
import { ApiError } from './errors.ts';

const JobId = z.uuid();
const TERMINAL = new Set<JobEvent['type']>(['JobCompleted', 'JobFailed', 'JobExpired']);

/** What a browser needs of an event: never storage keys or the webhook target. */
export function publicEvent(event: JobEvent) {
  const data = event.data as Record<string, unknown>;
  const pick = (...names: string[]) =>
    Object.fromEntries(names.filter((name) => data[name] !== undefined).map((name) => [name, data[name]]));
  const base = { type: event.type, time: event.metadata.time };
  switch (event.type) {
    case 'JobPlanned':
      return {
        ...base,
        steps: event.data.steps.map(({ id, op, inputs, result }) => ({ id, op, inputs, result })),
      };
    case 'StepProgressed': {
      const { stepId, attempt, done, total, unit, etaMs, phase } = event.data;
      return { ...base, stepId, attempt, done, total, unit, etaMs, phase };
    }
    case 'StepSucceeded':
      return {
        ...base,
        stepId: event.data.stepId,
        durationMs: event.data.durationMs,
        output: event.data.output && {
          format: event.data.output.format,
          bytes: event.data.output.bytes,
          width: event.data.output.width,
          height: event.data.output.height,
        },
      };
    default:
      return { ...base, ...pick('stepId', 'attempt', 'error', 'failedStep', 'operations', 'attempts') };
  }
}

/**
 * `GET /api/jobs/{id}/events`: Server-Sent Events. Replays the job's past events from its own subject,
 * then streams new ones live; `Last-Event-ID` (the stream sequence) resumes after a reconnect.
 * The stream ends after the job's terminal event.
 */
export function eventsApi({ bus }: Pick<IntakeDeps, 'bus'>) {
  return new Hono().get('/jobs/:id/events', async (c) => {
    const id = c.req.param('id');
    if (!JobId.safeParse(id).success) throw new ApiError(422, `Invalid job id: ${id}`);
    const history = await bus.log.history(id);
    if (history.lastSeq === 0) throw new ApiError(404, `Job ${id} not found`);
    const lastEventId = Number(c.req.header('last-event-id') ?? 0);
    const after = Number.isSafeInteger(lastEventId) && lastEventId > 0 ? lastEventId : 0;
    const done = history.events.some((stored) => TERMINAL.has(stored.event.type) && stored.seq <= after);
    return streamSSE(c, async (stream) => {
      if (done) return;
      const stop = new AbortController();
      stream.onAbort(() => stop.abort());
      const keepAlive = setInterval(() => void stream.write(': keep-alive\n\n'), 15_000);
      try {
        for await (const { seq, event } of bus.log.follow(id, after, stop.signal)) {
          await stream.writeSSE({
            id: String(seq),
            event: event.type,
            data: JSON.stringify(publicEvent(event)),
          });
          if (TERMINAL.has(event.type)) break;
        }
      } finally {
        clearInterval(keepAlive);
        stop.abort();
      }
    });
  });
}
