import { Agent, request } from 'undici';
import { checkWebhookTarget, guardedLookup, type Resolver } from '../../../shared/net/ssrf.ts';

/** The sink answered, but not with 2xx (or redirected once too often). */
export class WebhookHttpError extends Error {
  readonly code = 'WEBHOOK_HTTP_ERROR';
  constructor(readonly status: number) {
    super(`sink answered HTTP ${status}`);
  }
}

export type PostOptions = Readonly<{
  timeoutMs: number;
  allow: readonly string[];
  maxRedirects?: number;
  /** Name resolution used at connect time (the system's by default). */
  resolve?: Resolver;
}>;

/**
 * POSTs one webhook with undici; resolves with the 2xx status. The whole exchange, redirects included,
 * has one deadline. Every hop (the first one too) passes the SSRF guard where it counts: an address
 * literal before the request, a name inside the socket's own lookup, so the address checked is the one
 * connected to. Connections are not pooled across deliveries (a fresh Agent per delivery).
 */
export async function postWebhook(
  url: string,
  body: string,
  headers: Readonly<Record<string, string>>,
  options: PostOptions,
): Promise<number> {
  const signal = AbortSignal.timeout(options.timeoutMs);
  const lookup = guardedLookup(options.allow, options.resolve);
  const guarded = new Agent({ connect: { lookup } });
  const trusted = new Agent();
  try {
    let target = url;
    for (let hop = 0; ; hop++) {
      const { trusted: allowListed } = checkWebhookTarget(target, options.allow);
      let response: Awaited<ReturnType<typeof request>>;
      try {
        response = await request(target, {
          method: 'POST',
          body,
          headers,
          signal,
          dispatcher: allowListed ? trusted : guarded,
        });
      } catch (error) {
        throw describe(error, options.timeoutMs);
      }
      await response.body.dump().catch(() => {});
      const status = response.statusCode;
      if (status >= 200 && status < 300) return status;
      const raw = response.headers.location;
      const location = Array.isArray(raw) ? raw[0] : raw;
      const redirect = status >= 300 && status < 400 && location !== undefined;
      if (!redirect || hop >= (options.maxRedirects ?? 3)) throw new WebhookHttpError(status);
      target = new URL(location, target).toString();
    }
  } finally {
    await Promise.all([guarded.destroy(), trusted.destroy()]).catch(() => {});
  }
}

/** The guard's own errors pass through unchanged (a refused target is final); others get their cause. */
function describe(error: unknown, timeoutMs: number): Error {
  const guard = [error, (error as { cause?: unknown }).cause].find(
    (candidate) =>
      candidate instanceof Error &&
      ['WEBHOOK_URL_FORBIDDEN', 'WEBHOOK_URL_UNRESOLVED'].includes(
        String((candidate as { code?: unknown }).code),
      ),
  );
  if (guard instanceof Error) return guard;
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return new Error(`timed out after ${timeoutMs} ms`);
  }
  const cause = (error as { cause?: { message?: string } }).cause?.message;
  return new Error(cause ? `${(error as Error).message}: ${cause}` : String(error));
}
