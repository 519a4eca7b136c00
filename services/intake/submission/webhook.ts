import type { Logger } from '../../../shared/log.ts';
import { assertPublicWebhookUrl, WebhookUrlForbiddenError } from '../../../shared/net/ssrf.ts';
import { ApiError } from '../errors.ts';
import { clip } from './quote.ts';

const SYNTAX = 'webhook_url must be a valid http(s) URL';

/**
 * Rule 9: an absolute http(s) URL with a host. Then the SSRF guard: a target that resolves to a
 * private, loopback or link-local address is refused unless allowed by configuration. A host that does
 * not resolve right now is accepted: the notifier checks the address it connects to at every attempt.
 */
export async function checkWebhookUrl(
  raw: string | null,
  allow: readonly string[],
  log: Logger,
): Promise<string | null> {
  if (raw === null) return null;
  // The URL parser silently drops tabs and newlines; a target with control characters is refused.
  if (/[\p{Cc}\p{Cf}\s]/u.test(raw)) throw new ApiError(422, SYNTAX);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ApiError(422, SYNTAX);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.hostname === '') {
    throw new ApiError(422, SYNTAX);
  }
  try {
    await assertPublicWebhookUrl(url.toString(), allow);
  } catch (error) {
    if (error instanceof WebhookUrlForbiddenError) {
      throw new ApiError(422, `webhook_url is not allowed: ${clip(error.message, 200)}`);
    }
    log.warn({ host: url.hostname, reason: (error as Error).message }, 'webhook host not verified at intake');
  }
  return raw;
}
