import { assertPublicWebhookUrl } from '../../../shared/net/ssrf.ts';

/** The sink answered, but not with 2xx (or redirected once too often). */
export class WebhookHttpError extends Error {
  readonly code = 'WEBHOOK_HTTP_ERROR';
  constructor(readonly status: number) {
    super(`sink answered HTTP ${status}`);
  }
}

export type PostOptions = Readonly<{ timeoutMs: number; allow: readonly string[]; maxRedirects?: number }>;

/**
 * POSTs one webhook; resolves with the 2xx status. The whole exchange, redirects included, has one
 * deadline. A redirect is followed (same method and body) only after its target passes the SSRF guard.
 */
export async function postWebhook(
  url: string,
  body: string,
  headers: Readonly<Record<string, string>>,
  options: PostOptions,
): Promise<number> {
  const signal = AbortSignal.timeout(options.timeoutMs);
  let target = url;
  for (let hop = 0; ; hop++) {
    let response: Response;
    try {
      response = await fetch(target, { method: 'POST', body, headers, redirect: 'manual', signal });
    } catch (error) {
      throw describe(error, options.timeoutMs);
    }
    await response.body?.cancel().catch(() => {});
    if (response.status >= 200 && response.status < 300) return response.status;
    const location = response.headers.get('location');
    const redirect = response.status >= 300 && response.status < 400 && location !== null;
    if (!redirect || hop >= (options.maxRedirects ?? 3)) throw new WebhookHttpError(response.status);
    target = new URL(location, target).toString();
    await assertPublicWebhookUrl(target, options.allow);
  }
}

function describe(error: unknown, timeoutMs: number): Error {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return new Error(`timed out after ${timeoutMs} ms`);
  }
  const cause = (error as { cause?: { message?: string } }).cause?.message;
  return new Error(cause ? `${(error as Error).message}: ${cause}` : String(error));
}
