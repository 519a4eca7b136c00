import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Webhook signatures: HMAC-SHA256 over `${timestamp}.${body}` with the deployment's secret, sent as
 * `X-PixTools-Signature: t=<unix seconds>,v1=<hex>`. Signing the timestamp lets a receiver refuse replays.
 */
export const HEADERS = {
  signature: 'X-PixTools-Signature',
  delivery: 'X-PixTools-Delivery',
  event: 'X-PixTools-Event',
  attempt: 'X-PixTools-Attempt',
} as const;

export function sign(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

export function signatureHeader(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${sign(secret, timestamp, body)}`;
}

export type Verification = Readonly<{ ok: true }> | Readonly<{ ok: false; reason: string }>;

/** What a receiver does (docs/WEBHOOKS.md): recompute, compare in constant time, bound the clock skew. */
export function verifySignature(
  secret: string,
  header: string | null | undefined,
  body: string,
  nowSeconds: number,
  toleranceSeconds = 300,
): Verification {
  const parts = new Map(
    (header ?? '').split(',').map((part) => {
      const [key = '', ...rest] = part.trim().split('=');
      return [key, rest.join('=')] as const;
    }),
  );
  const timestamp = Number(parts.get('t'));
  const given = parts.get('v1') ?? '';
  if (!Number.isInteger(timestamp) || !/^[0-9a-f]{64}$/.test(given)) {
    return { ok: false, reason: 'malformed signature header' };
  }
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) return { ok: false, reason: 'timestamp too old' };
  const expected = Buffer.from(sign(secret, timestamp, body), 'hex');
  if (!timingSafeEqual(expected, Buffer.from(given, 'hex')))
    return { ok: false, reason: 'signature mismatch' };
  return { ok: true };
}
