import type { LookupAddress } from 'node:dns';
import { lookup } from 'node:dns/promises';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { ConfigError, type Env, list } from '../config/env.ts';

/**
 * The webhook-target guard (SSRF). A target is refused when its scheme is not http(s) or when any
 * address its host resolves to is not public: loopback, private, link-local, unique-local, CGNAT,
 * multicast, unspecified, reserved, documentation, or a translation range that could hide one.
 * An allow-list entry (`host`, `host:port`, or a CIDR such as `10.0.0.0/8`) lets a target through.
 * Intake runs it at submission (422). The notifier checks the address it actually connects to
 * (`guardedLookup`, the socket's own DNS lookup), on every attempt and redirect hop, so a name that
 * resolves to a public address for the check and to a private one for the connection (DNS rebinding)
 * is refused too.
 */
export class WebhookUrlForbiddenError extends Error {
  readonly code = 'WEBHOOK_URL_FORBIDDEN';
}

/** The host did not resolve (typo, or DNS down). Callers decide whether that is final. */
export class WebhookUrlUnresolvedError extends Error {
  readonly code = 'WEBHOOK_URL_UNRESOLVED';
}

const LOOKUP_TIMEOUT_MS = 5000;

export async function assertPublicWebhookUrl(url: string, allow: readonly string[]): Promise<void> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new WebhookUrlForbiddenError(`webhook URL "${url}" is not an absolute URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new WebhookUrlForbiddenError(`webhook URL must use http or https, not ${parsed.protocol}`);
  }
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (hostAllowed(parsed, allow)) return;
  const addresses = await resolve(host);
  for (const address of addresses) {
    const range = rangeOf(address);
    if (range === 'unicast' || addressAllowed(address, allow)) continue;
    throw new WebhookUrlForbiddenError(
      `webhook host ${parsed.hostname} resolves to ${address} (${range}), which is not a public address`,
    );
  }
}

/** The ipaddr.js range of an address; only `unicast` is public. IPv4-mapped IPv6 is judged as IPv4. */
export function rangeOf(address: string): string {
  if (!ipaddr.isValid(address)) return 'invalid';
  return ipaddr.process(address).range();
}

export function isPublicAddress(address: string): boolean {
  return rangeOf(address) === 'unicast';
}

async function resolve(host: string): Promise<string[]> {
  if (ipaddr.isValid(host)) return [host];
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new WebhookUrlUnresolvedError(`webhook host ${host} did not resolve in time`)),
      LOOKUP_TIMEOUT_MS,
    );
  });
  try {
    const found = await Promise.race([lookup(host, { all: true, verbatim: true }), timeout]);
    if (found.length === 0) throw new WebhookUrlUnresolvedError(`webhook host ${host} has no address`);
    return found.map((entry) => entry.address);
  } catch (error) {
    if (error instanceof WebhookUrlUnresolvedError) throw error;
    throw new WebhookUrlUnresolvedError(`webhook host ${host} does not resolve: ${(error as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
}

function hostAllowed(url: URL, allow: readonly string[]): boolean {
  const host = url.hostname.toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  return allow.some((entry) => {
    const wanted = entry.trim().toLowerCase();
    return wanted === host || wanted === `${host}:${port}`;
  });
}

function addressAllowed(address: string, allow: readonly string[]): boolean {
  const ip = ipaddr.process(address);
  return allow.some((entry) => {
    if (ipaddr.isValid(entry)) return ipaddr.process(entry).toNormalizedString() === ip.toNormalizedString();
    if (!ipaddr.isValidCIDR(entry)) return false;
    const [network, bits] = ipaddr.parseCIDR(entry);
    return network.kind() === ip.kind() && ip.match(network, bits);
  });
}

/** The one environment variable for the webhook allow-list, read by intake and the notifier alike. */
export const ALLOWED_HOSTS_ENV = 'WEBHOOK_ALLOWED_HOSTS';
const HOST_ENTRY =
  /^(\[[0-9a-f:.]+\]|[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*)(:\d{1,5})?$/i;

/**
 * Reads `WEBHOOK_ALLOWED_HOSTS` (comma-separated `host`, `host:port`, `[v6]:port`, address or CIDR) and
 * fails fast on an entry that is none of these, or when only the old misspelling `WEBHOOK_ALLOW_HOSTS`
 * is set (it used to be read by intake alone, so the two services disagreed).
 */
export function readAllowedHosts(env: Env): readonly string[] {
  if (env.WEBHOOK_ALLOW_HOSTS && !env[ALLOWED_HOSTS_ENV]) {
    throw new ConfigError(`WEBHOOK_ALLOW_HOSTS is not read; set ${ALLOWED_HOSTS_ENV} instead`);
  }
  const entries = list(env, ALLOWED_HOSTS_ENV, []);
  for (const entry of entries) {
    if (!ipaddr.isValid(entry) && !ipaddr.isValidCIDR(entry) && !HOST_ENTRY.test(entry)) {
      throw new ConfigError(`${ALLOWED_HOSTS_ENV} has an entry that is no host, address or CIDR: "${entry}"`);
    }
  }
  return Object.freeze(entries.map((entry) => entry.toLowerCase()));
}

/** Resolves a host name to every address (dns.lookup by default; tests pass their own). */
export type Resolver = (host: string) => Promise<readonly LookupAddress[]>;

const systemResolver: Resolver = (host) => lookup(host, { all: true, verbatim: true });

/**
 * Whether a URL needs no address check at all: its host (or `host:port`) is allow-listed by name.
 * Otherwise an address literal is checked here and a name at connect time by `guardedLookup`.
 */
export function checkWebhookTarget(url: string, allow: readonly string[]): { trusted: boolean } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new WebhookUrlForbiddenError(`webhook URL "${url.slice(0, 100)}" is not an absolute URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new WebhookUrlForbiddenError(`webhook URL must use http or https, not ${parsed.protocol}`);
  }
  if (hostAllowed(parsed, allow)) return { trusted: true };
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  if (ipaddr.isValid(host)) checkAddress(parsed.hostname, host, allow);
  return { trusted: false };
}

function checkAddress(hostname: string, address: string, allow: readonly string[]): void {
  const range = rangeOf(address);
  if (range === 'unicast' || addressAllowed(address, allow)) return;
  throw new WebhookUrlForbiddenError(
    `webhook host ${hostname} resolves to ${address} (${range}), which is not a public address`,
  );
}

/**
 * A `lookup` for `net.connect`/`tls.connect` (an undici Agent's `connect` option): resolves the name and
 * refuses the connection unless every address is public or allow-listed. The socket connects to what
 * this returns, so the address checked is the address used.
 */
export function guardedLookup(allow: readonly string[], resolve: Resolver = systemResolver): LookupFunction {
  return (hostname, options, callback) => {
    const done = callback as (
      error: Error | null,
      address: string | LookupAddress[],
      family?: number,
    ) => void;
    resolve(hostname).then(
      (found) => {
        try {
          if (found.length === 0)
            throw new WebhookUrlUnresolvedError(`webhook host ${hostname} has no address`);
          for (const entry of found) checkAddress(hostname, entry.address, allow);
        } catch (error) {
          done(error as Error, '');
          return;
        }
        const wanted = options.family === 4 || options.family === 6 ? options.family : 0;
        const usable = found.filter((entry) => wanted === 0 || entry.family === wanted);
        if (options.all) return done(null, [...usable]);
        const first = usable[0];
        if (first === undefined)
          return done(
            new WebhookUrlUnresolvedError(`webhook host ${hostname} has no IPv${wanted} address`),
            '',
          );
        done(null, first.address, first.family);
      },
      (error: Error) =>
        done(
          new WebhookUrlUnresolvedError(`webhook host ${hostname} does not resolve: ${error.message}`),
          '',
        ),
    );
  };
}
