import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { S3Error } from './errors.ts';

// AWS Signature Version 4 as S3 checks it, for requests signed in the Authorization header and for
// presigned URLs (the signature in the query). The canonical path is the path exactly as sent: S3
// clients sign it once-encoded and unnormalised.

export type Credentials = Readonly<{ accessKeyId: string; secretAccessKey: string }>;

export type Signed = Readonly<{
  method: string;
  rawPath: string;
  query: ReadonlyArray<readonly [string, string]>;
  headers: IncomingHttpHeaders;
}>;

/** What the signature covers of the body: a SHA-256 the body must match, or nothing. */
export type Payload = Readonly<{ kind: 'sha256'; hex: string }> | Readonly<{ kind: 'unsigned' }>;

const ALGORITHM = 'AWS4-HMAC-SHA256';
const MAX_SKEW_MS = 15 * 60_000;
const MAX_PRESIGN_SECONDS = 7 * 86_400;

export function verify(request: Signed, credentials: Credentials, nowMs: number): Payload {
  const authorization = header(request.headers, 'authorization');
  const fromQuery = new Map(request.query);
  if (authorization !== undefined) return verifyHeader(request, authorization, credentials, nowMs);
  if (fromQuery.has('X-Amz-Signature')) return verifyQuery(request, fromQuery, credentials, nowMs);
  throw new S3Error(403, 'AccessDenied', 'Anonymous access is not allowed');
}

function verifyHeader(
  request: Signed,
  authorization: string,
  credentials: Credentials,
  nowMs: number,
): Payload {
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$/.exec(
      authorization.trim(),
    );
  if (match === null)
    throw new S3Error(400, 'AuthorizationHeaderMalformed', 'Malformed Authorization header');
  const [, credential = '', signedHeaders = '', signature = ''] = match;
  const amzDate = header(request.headers, 'x-amz-date') ?? '';
  const time = parseAmzDate(amzDate);
  if (Math.abs(nowMs - time) > MAX_SKEW_MS) {
    throw new S3Error(
      403,
      'RequestTimeTooSkewed',
      'The difference between the request time and now is too large',
    );
  }
  const contentHash = header(request.headers, 'x-amz-content-sha256');
  if (contentHash === undefined) throw new S3Error(400, 'InvalidRequest', 'Missing x-amz-content-sha256');
  const payload = payloadOf(contentHash);
  check(request, request.query, { credential, signedHeaders, signature, amzDate, contentHash }, credentials);
  return payload;
}

function verifyQuery(
  request: Signed,
  query: ReadonlyMap<string, string>,
  credentials: Credentials,
  nowMs: number,
): Payload {
  if (query.get('X-Amz-Algorithm') !== ALGORITHM) {
    throw new S3Error(400, 'AuthorizationQueryParametersError', 'X-Amz-Algorithm must be AWS4-HMAC-SHA256');
  }
  const amzDate = query.get('X-Amz-Date') ?? '';
  const expires = Number(query.get('X-Amz-Expires'));
  if (!Number.isInteger(expires) || expires < 1 || expires > MAX_PRESIGN_SECONDS) {
    throw new S3Error(400, 'AuthorizationQueryParametersError', 'X-Amz-Expires must be 1 to 604800 seconds');
  }
  const time = parseAmzDate(amzDate);
  if (nowMs > time + expires * 1000) throw new S3Error(403, 'AccessDenied', 'Request has expired');
  if (time - nowMs > MAX_SKEW_MS) throw new S3Error(403, 'AccessDenied', 'Request is not valid yet');
  const contentHash = query.get('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD';
  const payload = payloadOf(contentHash);
  const signed = {
    credential: query.get('X-Amz-Credential') ?? '',
    signedHeaders: query.get('X-Amz-SignedHeaders') ?? '',
    signature: query.get('X-Amz-Signature') ?? '',
    amzDate,
    contentHash,
  };
  check(
    request,
    request.query.filter(([name]) => name !== 'X-Amz-Signature'),
    signed,
    credentials,
  );
  return payload;
}

type Claimed = Readonly<{
  credential: string;
  signedHeaders: string;
  signature: string;
  amzDate: string;
  contentHash: string;
}>;

function check(
  request: Signed,
  query: ReadonlyArray<readonly [string, string]>,
  claimed: Claimed,
  credentials: Credentials,
): void {
  const [accessKeyId, date, region, service, terminator, ...rest] = claimed.credential.split('/');
  if (
    rest.length > 0 ||
    date === undefined ||
    region === undefined ||
    service !== 's3' ||
    terminator !== 'aws4_request' ||
    date !== claimed.amzDate.slice(0, 8)
  ) {
    throw new S3Error(400, 'AuthorizationHeaderMalformed', 'Malformed credential scope');
  }
  if (accessKeyId !== credentials.accessKeyId) {
    throw new S3Error(403, 'InvalidAccessKeyId', 'The access key is not known to this server');
  }
  const names = claimed.signedHeaders.split(';');
  if (!names.includes('host') || names.some((name) => name === '' || name !== name.toLowerCase())) {
    throw new S3Error(
      400,
      'AuthorizationHeaderMalformed',
      'SignedHeaders must be lower-case and include host',
    );
  }
  const canonicalHeaders = names.map((name) => `${name}:${canonicalValue(request.headers[name])}\n`).join('');
  const canonicalRequest = [
    request.method,
    request.rawPath,
    canonicalQuery(query),
    canonicalHeaders,
    claimed.signedHeaders,
    claimed.contentHash,
  ].join('\n');
  const scope = `${date}/${region}/s3/aws4_request`;
  const stringToSign = [ALGORITHM, claimed.amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const expected = createHmac('sha256', signingKey(credentials.secretAccessKey, date, region))
    .update(stringToSign)
    .digest();
  const given = Buffer.from(claimed.signature, 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new S3Error(403, 'SignatureDoesNotMatch', 'The request signature does not match');
  }
}

const keys = new Map<string, Buffer>();

function signingKey(secret: string, date: string, region: string): Buffer {
  const id = `${date}/${region}`;
  const cached = keys.get(id);
  if (cached !== undefined) return cached;
  const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), 's3'), 'aws4_request');
  if (keys.size > 16) keys.clear();
  keys.set(id, key);
  return key;
}

/** Sorted by name, then value; both encoded the way SigV4 wants (RFC 3986 unreserved kept). */
function canonicalQuery(query: ReadonlyArray<readonly [string, string]>): string {
  return query
    .map(([name, value]) => [uriEncode(name), uriEncode(value)] as const)
    .sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
}

export function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function canonicalValue(value: string | string[] | undefined): string {
  const text = Array.isArray(value) ? value.join(',') : (value ?? '');
  return text.trim().replace(/\s+/g, ' ');
}

function payloadOf(contentHash: string): Payload {
  if (contentHash === 'UNSIGNED-PAYLOAD') return { kind: 'unsigned' };
  if (/^[0-9a-f]{64}$/.test(contentHash)) return { kind: 'sha256', hex: contentHash };
  if (contentHash.startsWith('STREAMING-')) {
    throw new S3Error(501, 'NotImplemented', 'aws-chunked uploads are not supported by the embedded S3');
  }
  throw new S3Error(400, 'InvalidArgument', 'x-amz-content-sha256 must be a SHA-256 or UNSIGNED-PAYLOAD');
}

function parseAmzDate(text: string): number {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(text);
  if (match === null) throw new S3Error(403, 'AccessDenied', 'Missing or malformed X-Amz-Date');
  const [, y, mo, d, h, mi, s] = match.map(Number);
  return Date.UTC(y ?? 0, (mo ?? 1) - 1, d, h, mi, s);
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function sha256Hex(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}
