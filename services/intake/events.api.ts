import { getConnInfo } from '@hono/node-server/conninfo';
import { type Context, Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { z } from 'zod';
import type { JobEvent } from '../../shared/events/events.ts';
import type { IntakeDeps } from './deps.ts';
import { ApiError } from './errors.ts';
import { clip } from './submission/quote.ts';

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

/** Open streams, in total and per client address, each bounded (429 beyond). */
class StreamSlots {
  private total = 0;
  private readonly byClient = new Map<string, number>();

  constructor(
    private readonly max: number,
    private readonly perClient: number,
  ) {}

  acquire(client: string): () => void {
    const mine = this.byClient.get(client) ?? 0;
    const busy = (detail: string) =>
      new ApiError(429, `Too many open event streams ${detail}; try again shortly`, { 'Retry-After': '5' });
    if (this.total >= this.max) throw busy(`(at most ${this.max})`);
    if (mine >= this.perClient) throw busy(`from this client (at most ${this.perClient})`);
    this.total++;
    this.byClient.set(client, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.byClient.get(client) ?? 1) - 1;
      if (left > 0) this.byClient.set(client, left);
      else this.byClient.delete(client);
    };
  }
}

function clientOf(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    return 'local'; // app.request() in tests: no socket
  }
}

/**
 * `GET /api/jobs/{id}/events`: Server-Sent Events. Replays the job's past events from its own subject,
 * then streams new ones live; `Last-Event-ID` (the stream sequence) resumes after a reconnect.
 * The stream ends after the job's terminal event, or when intake shuts down (`shutdown` aborts).
 * Open streams are capped in total and per client address (429 with Retry-After beyond).
 */
export function eventsApi({ bus, config, shutdown }: Pick<IntakeDeps, 'bus' | 'config' | 'shutdown'>) {
  const slots = new StreamSlots(config.sseMaxStreams, config.sseMaxStreamsPerClient);
  return new Hono().get('/jobs/:id/events', async (c) => {
    const id = c.req.param('id');
    if (!JobId.safeParse(id).success) throw new ApiError(422, `Invalid job id: ${clip(id)}`);
    if (shutdown?.aborted)
      throw new ApiError(503, 'Shutting down; reconnect shortly', { 'Retry-After': '5' });
    const history = await bus.log.history(id);
    if (history.lastSeq === 0) throw new ApiError(404, `Job ${id} not found`);
    const lastEventId = Number(c.req.header('last-event-id') ?? 0);
    const after = Number.isSafeInteger(lastEventId) && lastEventId > 0 ? lastEventId : 0;
    const done = history.events.some((stored) => TERMINAL.has(stored.event.type) && stored.seq <= after);
    const release = slots.acquire(clientOf(c));
    return streamSSE(c, async (stream) => {
      const stop = new AbortController();
      const onShutdown = () => stop.abort();
      shutdown?.addEventListener('abort', onShutdown);
      stream.onAbort(() => stop.abort());
      const keepAlive = setInterval(() => void stream.write(': keep-alive\n\n'), 15_000);
      try {
        if (done) return;
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
        shutdown?.removeEventListener('abort', onShutdown);
        stop.abort();
        release();
      }
    });
  });
}
