import { EventSourceParserStream } from 'eventsource-parser/stream';
import { CliError, type Client, errorOf } from './client.ts';

/** One event of `GET /api/jobs/{id}/events`, as the API publishes it (public fields only). */
export type JobStreamEvent = Readonly<{
  type: string;
  time?: string;
  stepId?: string;
  steps?: readonly { id: string; op: string; inputs: readonly string[]; result: string | null }[];
  attempt?: number;
  attempts?: number;
  error?: string;
  durationMs?: number;
  output?: { format: string; bytes: number; width: number | null; height: number | null } | null;
  /** Step progress, when a worker reports it (0..1). */
  fraction?: number;
}>;

const TERMINAL = new Set(['JobCompleted', 'JobFailed', 'JobExpired']);

/**
 * The job's events from the SSE stream, ending after its terminal event. A dropped connection is
 * resumed with `Last-Event-ID`, so no event is seen twice or missed (parsing: eventsource-parser).
 */
export async function* jobEvents(
  client: Client,
  jobId: string,
  maxReconnects = 20,
): AsyncGenerator<JobStreamEvent> {
  let lastEventId: string | null = null;
  let reconnects = 0;
  for (;;) {
    const headers: Record<string, string> = { Accept: 'text/event-stream' };
    if (lastEventId !== null) headers['Last-Event-ID'] = lastEventId;
    try {
      const response = await client.request(`/api/jobs/${encodeURIComponent(jobId)}/events`, { headers });
      if (!response.ok) throw await errorOf(response);
      if (response.body === null) throw new CliError('unavailable', 'The event stream has no body');
      const stream = response.body
        .pipeThrough(new TextDecoderStream())
        .pipeThrough(new EventSourceParserStream());
      const reader = stream.getReader();
      for (;;) {
        const { done, value: message } = await reader.read();
        if (done) break;
        if (message.id !== undefined) lastEventId = message.id;
        reconnects = 0;
        const event = {
          type: message.event ?? 'message',
          ...(JSON.parse(message.data) as object),
        } as JobStreamEvent;
        yield event;
        if (TERMINAL.has(event.type)) {
          await reader.cancel();
          return;
        }
      }
      // Closed before the terminal event (a restart, a proxy timeout): resume after the last id.
    } catch (error) {
      if (error instanceof CliError && error.kind === 'refused') throw error;
      if (reconnects >= maxReconnects) throw error;
    }
    reconnects++;
    if (reconnects > maxReconnects)
      throw new CliError('unavailable', `The event stream of ${jobId} keeps closing`);
    await new Promise((resolve) => setTimeout(resolve, Math.min(250 * 2 ** reconnects, 5000)));
  }
}
