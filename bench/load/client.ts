import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { QUALITY } from './ceiling.ts';

/** What one `POST /api/process` came back with; `ms` is the request's own duration. */
export type Submitted =
  | { kind: 'accepted'; jobId: string; ms: number }
  | { kind: 'refused'; status: number; ms: number; retryAfter: string | null }
  | { kind: 'timeout'; ms: number }
  | { kind: 'network'; ms: number; detail: string };

/** How an accepted job ended, as its polls saw it; times in ms since the bench's clock origin. */
export type Finished = {
  jobId: string;
  submittedAt: number;
  outcome: 'completed' | 'failed' | 'error' | 'unfinished';
  seenAt: number | null;
  /** ms from the submission's start to the job's last step finishing, on the wall clock (server and bench share it). */
  exactMs: number | null;
  /** From the job body's own timestamps (server clocks, no poll granularity). */
  phases: Phases | null;
  detail: string | null;
  polls: number;
};

type JobBody = {
  status?: string;
  result_urls?: Record<string, string>;
  error_message?: string | null;
  created_at?: string;
  steps?: {
    operation?: string;
    dispatched_at?: string | null;
    started_at?: string | null;
    finished_at?: string | null;
  }[];
};

/** ms: created_at → the webp step dispatched → started → finished → the last step finished (the bundle). */
export type Phases = { total: number; planned: number; queued: number; convert: number; after: number };

const message = (error: unknown): string => {
  if (!(error instanceof Error)) return String(error);
  const code = 'code' in error ? ` ${String(error.code)}` : '';
  const cause = error.cause instanceof Error ? ` (${message(error.cause)})` : '';
  return `${error.name}: ${error.message}${code}${cause}`;
};

/** A multipart body built once and sent as is by every submission. */
export type ReferenceForm = Readonly<{ body: Buffer; contentType: string }>;

/** The reference submission's body: the PNG as `file`, `operations=["webp"]`, quality 80, as FormData sends it. */
export function referenceForm(png: Buffer): ReferenceForm {
  const boundary = `----PixToolsBench${randomBytes(8).toString('hex')}`;
  const part = (headers: string, content: Buffer | string) =>
    Buffer.concat([
      Buffer.from(`--${boundary}\r\n${headers}\r\n\r\n`),
      Buffer.from(content),
      Buffer.from('\r\n'),
    ]);
  const body = Buffer.concat([
    part(
      'Content-Disposition: form-data; name="file"; filename="reference.png"\r\nContent-Type: image/png',
      png,
    ),
    part('Content-Disposition: form-data; name="operations"', JSON.stringify(['webp'])),
    part(
      'Content-Disposition: form-data; name="operation_params"',
      JSON.stringify({ webp: { quality: QUALITY } }),
    ),
    Buffer.from(`--${boundary}--\r\n`),
  ]);
  return { body, contentType: `multipart/form-data; boundary=${boundary}` };
}

export class Client {
  /** Keep-alive sockets for the submissions. */
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 512 });
  /** Keep-alive connections for the pollers' GETs (see `getStatus`). */
  private readonly pool: Pool;

  constructor(
    readonly base: string,
    readonly timeoutMs: number,
  ) {
    this.pool = new Pool(base, { connections: 512, pipelining: 1 });
  }

  /**
   * One `GET /api/jobs/{id}` for the pollers and the GET-rate run: undici's `Pool` (one keep-alive
   * connection per client), the body read to its end but not parsed. Paced by `hammer`'s one ticker, it
   * costs the bench client about 40 µs of CPU a request here, against 130–190 µs for node:http with a
   * timer per client (measured at 1000 requests/s): on a shared machine the figures charge the server,
   * not the client.
   */
  async getStatus(jobId: string): Promise<number> {
    try {
      const response = await this.pool.request({
        path: `/api/jobs/${jobId}`,
        method: 'GET',
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
      let bytes = 0;
      for await (const chunk of response.body) bytes += (chunk as Buffer).length;
      return bytes > 0 ? response.statusCode : 0;
    } catch {
      return 0;
    }
  }

  async close(): Promise<void> {
    this.agent.destroy();
    await this.pool.destroy();
  }

  /**
   * The reference submission (`referenceForm`), over node:http on a keep-alive socket: the same bytes on
   * the wire as a browser's FormData, for a fraction of undici's CPU per 2.4 MB upload.
   */
  submit(form: ReferenceForm): Promise<Submitted> {
    const started = performance.now();
    const ms = () => performance.now() - started;
    return new Promise((resolve) => {
      let timedOut = false;
      const request = http.request(
        `${this.base}/api/process`,
        {
          method: 'POST',
          agent: this.agent,
          headers: { 'Content-Type': form.contentType, 'Content-Length': form.body.length },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on('data', (chunk: Buffer) => chunks.push(chunk));
          response.on('error', (error) => finish({ kind: 'network', ms: ms(), detail: message(error) }));
          response.on('end', () => {
            const status = response.statusCode ?? 0;
            if (status === 202) {
              const { job_id: jobId } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as {
                job_id: string;
              };
              finish({ kind: 'accepted', jobId, ms: ms() });
              return;
            }
            const retryAfter = response.headers['retry-after'];
            finish({
              kind: 'refused',
              status,
              ms: ms(),
              retryAfter: retryAfter === undefined ? null : String(retryAfter),
            });
          });
        },
      );
      const timer = setTimeout(() => {
        timedOut = true;
        request.destroy();
      }, this.timeoutMs);
      const finish = (result: Submitted) => {
        clearTimeout(timer);
        resolve(result);
      };
      request.on('error', (error) =>
        finish(
          timedOut ? { kind: 'timeout', ms: ms() } : { kind: 'network', ms: ms(), detail: message(error) },
        ),
      );
      request.end(form.body);
    });
  }

  /** One `GET /api/jobs/{id}`: the status code and parsed body (null on a timeout or network error). */
  async get(jobId: string): Promise<{ status: number; body: JobBody | null }> {
    try {
      const signal = AbortSignal.timeout(this.timeoutMs);
      const response = await fetch(`${this.base}/api/jobs/${jobId}`, { signal });
      const text = await response.text();
      return { status: response.status, body: response.ok ? (JSON.parse(text) as JobBody) : null };
    } catch {
      return { status: 0, body: null };
    }
  }

  /** Polls every `pollMs` until COMPLETED/FAILED or `deadline` (ms on `now()`'s clock). */
  async follow(jobId: string, submittedAt: number, pollMs: number, deadline: number, now: () => number) {
    const result: Finished = {
      jobId,
      submittedAt,
      outcome: 'unfinished',
      seenAt: null,
      exactMs: null,
      phases: null,
      detail: null,
      polls: 0,
    };
    const submittedWall = Date.now() - (now() - submittedAt);
    while (now() + pollMs < deadline) {
      await sleep(pollMs);
      result.polls++;
      const { body } = await this.get(jobId);
      const status = body?.status;
      if (body === null || status === undefined || status === 'PENDING' || status === 'PROCESSING') continue;
      result.seenAt = now();
      result.phases = phasesOf(body);
      const doneAt = Math.max(...(body.steps ?? []).map((step) => Date.parse(step.finished_at ?? '')));
      result.exactMs = Number.isFinite(doneAt) ? doneAt - submittedWall : null;
      if (status === 'FAILED')
        return { ...result, outcome: 'failed' as const, detail: body.error_message ?? null };
      if (status.startsWith('COMPLETED') && body.result_urls?.webp)
        return { ...result, outcome: 'completed' as const };
      return {
        ...result,
        outcome: 'error' as const,
        detail: `status ${status}, result_urls ${JSON.stringify(body.result_urls)}`,
      };
    }
    return result;
  }
}

function phasesOf(body: JobBody): Phases | null {
  const at = (time: string | null | undefined) => Date.parse(time ?? '');
  const steps = body.steps ?? [];
  const webp = steps.find((step) => step.operation === 'webp');
  const created = at(body.created_at);
  const last = Math.max(...steps.map((step) => at(step.finished_at)));
  if (webp === undefined) return null;
  const [dispatched, started, finished] = [at(webp.dispatched_at), at(webp.started_at), at(webp.finished_at)];
  const phases = {
    total: last - created,
    planned: dispatched - created,
    queued: started - dispatched,
    convert: finished - started,
    after: last - finished,
  };
  return Object.values(phases).every(Number.isFinite) ? phases : null;
}

/**
 * `clients` pollers of one job until `stop()`. With `everyMs` 0 each loops back to back; otherwise each
 * sends one GET every `everyMs` (skipping a beat while its previous answer is outstanding), paced by a
 * single ticker that fires a tenth of the clients every `everyMs / 10`: a timer per client would cost
 * the bench client more CPU than its requests.
 */
export async function hammer(
  client: Client,
  jobId: string,
  clients: number,
  everyMs: number,
  stop: () => boolean,
) {
  const counts = { ok: 0, other: 0, latencies: [] as number[], seconds: 0 };
  const started = performance.now();
  const once = async () => {
    const sent = performance.now();
    const status = await client.getStatus(jobId);
    counts.latencies.push(performance.now() - sent);
    if (status === 200) counts.ok++;
    else counts.other++;
  };
  if (clients > 0 && everyMs === 0) {
    const loop = async () => {
      while (!stop()) await once();
    };
    await Promise.all(Array.from({ length: clients }, loop));
  } else if (clients > 0) {
    const slots = 10;
    const outstanding = new Set<Promise<void>>();
    const busy = new Array<boolean>(clients).fill(false);
    let tick = 0;
    await new Promise<void>((done) => {
      const timer = setInterval(() => {
        if (stop()) {
          clearInterval(timer);
          done();
          return;
        }
        for (let index = tick++ % slots; index < clients; index += slots) {
          if (busy[index]) continue;
          busy[index] = true;
          const request = once().finally(() => {
            busy[index] = false;
            outstanding.delete(request);
          });
          outstanding.add(request);
        }
      }, everyMs / slots);
    });
    await Promise.all(outstanding);
  }
  counts.seconds = (performance.now() - started) / 1000;
  return counts;
}
