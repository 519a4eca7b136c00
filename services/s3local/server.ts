import { open, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pipeline } from 'node:stream/promises';
import type { Logger } from '../../shared/log.ts';
import { noSuchBucket, noSuchKey, notImplemented, S3Error } from './errors.ts';
import { Multipart } from './multipart.ts';
import { type Credentials, type Payload, uriEncode, verify } from './sigv4.ts';
import { type ObjectMeta, ObjectStore } from './store.ts';
import { document, elements, parseRequest } from './xml.ts';

// The embedded S3 of `npm start`: the part of S3's REST API the services, the SDK's multipart uploads
// and browsers following presigned links use, over plain node:http. Every request must carry a valid
// Signature V4 (header or presigned query) for the configured key; bodies are checked against their
// signed SHA-256. Lifecycle configuration answers 501, as before: the expiry sweeper deletes by policy.

export type S3LocalOptions = Readonly<{
  host: string;
  port: number;
  directory: string;
  buckets: readonly string[];
  credentials: Credentials;
  maxObjectBytes: number;
  now?: () => number;
}>;

export type S3Local = Readonly<{ port: number; close(): Promise<void> }>;

type Request = Readonly<{
  req: IncomingMessage;
  res: ServerResponse;
  bucket: string;
  key: string;
  params: ReadonlyMap<string, string>;
  payload: Payload;
}>;

const MAX_XML_BYTES = 1024 * 1024;
const WHOLE_READ_BYTES = 16 * 1024 * 1024;
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
// Query parameters that select a sub-resource this server does not implement.
const SUBRESOURCES = [
  'acl',
  'tagging',
  'versioning',
  'policy',
  'cors',
  'website',
  'versionId',
  'torrent',
  'retention',
];

export async function startS3Local(options: S3LocalOptions, log: Logger): Promise<S3Local> {
  const now = options.now ?? Date.now;
  const store = await ObjectStore.open(options.directory);
  for (const bucket of options.buckets) await store.createBucket(bucket);
  const multipart = new Multipart(store, options.maxObjectBytes, now);
  let requests = 0;
  const server = createServer((req, res) => {
    const id = (++requests).toString(16).padStart(8, '0');
    res.setHeader('x-amz-request-id', id);
    handle(req, res).catch((error: unknown) => fail(req, res, error, id, log));
  });
  server.keepAliveTimeout = 65_000; // longer than the SDK's idle sockets live: no reset on reuse
  const sweeper = setInterval(() => void multipart.sweep().catch(() => {}), 3_600_000);
  sweeper.unref();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const mark = url.indexOf('?');
    const rawPath = mark < 0 ? url : url.slice(0, mark);
    const query = parseQuery(mark < 0 ? '' : url.slice(mark + 1));
    const payload = verify(
      { method: req.method ?? 'GET', rawPath, query, headers: req.headers },
      options.credentials,
      now(),
    );
    const { bucket, key } = locate(rawPath);
    const request: Request = { req, res, bucket, key, params: new Map(query), payload };
    if (bucket === '') return listBuckets(request);
    if (key === '') return bucketOperation(request);
    if (!store.hasBucket(bucket)) throw noSuchBucket();
    return objectOperation(request);
  }

  function listBuckets({ req, res }: Request): void {
    if (req.method !== 'GET') throw notImplemented(`${req.method} /`);
    const buckets = store.bucketNames().map(
      (name) =>
        `<Bucket>${elements([
          ['Name', name],
          ['CreationDate', new Date(0).toISOString()],
        ])}</Bucket>`,
    );
    sendXml(res, 200, document('ListAllMyBucketsResult', `<Buckets>${buckets.join('')}</Buckets>`));
  }

  async function bucketOperation(request: Request): Promise<void> {
    const { req, res, bucket, params } = request;
    if (params.has('lifecycle')) throw notImplemented('Bucket lifecycle configuration');
    if (SUBRESOURCES.some((name) => params.has(name))) throw notImplemented('This bucket sub-resource');
    if (req.method === 'PUT') {
      if (!BUCKET_NAME.test(bucket))
        throw new S3Error(400, 'InvalidBucketName', 'The bucket name is not valid');
      await readBody(request); // an optional CreateBucketConfiguration; this server has one region
      if (!(await store.createBucket(bucket))) {
        throw new S3Error(409, 'BucketAlreadyOwnedByYou', 'The bucket already exists and is yours');
      }
      res.setHeader('Location', `/${bucket}`);
      return end(res, 200);
    }
    if (!store.hasBucket(bucket)) throw noSuchBucket();
    if (req.method === 'HEAD') return end(res, 200);
    if (req.method === 'GET' && params.get('list-type') === '2') return listObjects(request);
    if (req.method === 'POST' && params.has('delete')) return deleteObjects(request);
    throw notImplemented(`${req.method} on a bucket with these parameters`);
  }

  async function objectOperation(request: Request): Promise<void> {
    const { req, res, bucket, key, params, payload } = request;
    if (SUBRESOURCES.some((name) => params.has(name))) throw notImplemented('This object sub-resource');
    const uploadId = params.get('uploadId');
    switch (req.method) {
      case 'GET':
      case 'HEAD':
        return getObject(request);
      case 'PUT': {
        if (req.headers['x-amz-copy-source'] !== undefined) throw notImplemented('CopyObject');
        const sha256 = payload.kind === 'sha256' ? payload.hex : undefined;
        if (uploadId !== undefined) {
          const etag = await multipart.uploadPart(
            uploadId,
            bucket,
            key,
            Number(params.get('partNumber')),
            req,
            sha256,
          );
          res.setHeader('ETag', `"${etag}"`);
          return end(res, 200);
        }
        const meta = await store.put(bucket, key, req, {
          ...contentHeaders(req),
          maxBytes: options.maxObjectBytes,
          ...(sha256 === undefined ? {} : { sha256 }),
        });
        res.setHeader('ETag', `"${meta.etag}"`);
        return end(res, 200);
      }
      case 'DELETE':
        if (uploadId !== undefined) await multipart.abort(uploadId, bucket, key);
        else await store.delete(bucket, key);
        return end(res, 204);
      case 'POST': {
        if (params.has('uploads')) {
          const { contentType, contentDisposition } = contentHeaders(req);
          const id = multipart.create(bucket, key, contentType, contentDisposition);
          const body = elements([
            ['Bucket', bucket],
            ['Key', key],
            ['UploadId', id],
          ]);
          return sendXml(res, 200, document('InitiateMultipartUploadResult', body));
        }
        if (uploadId === undefined) throw notImplemented('POST on an object without uploads or uploadId');
        const parsed = parseRequest(await readBody(request), 'CompleteMultipartUpload');
        const meta = await multipart.complete(uploadId, bucket, key, parsed);
        const body = elements([
          ['Bucket', bucket],
          ['Key', key],
          ['ETag', `"${meta.etag}"`],
        ]);
        return sendXml(res, 200, document('CompleteMultipartUploadResult', body));
      }
      default:
        throw new S3Error(405, 'MethodNotAllowed', 'The method is not allowed on this resource');
    }
  }

  async function getObject({ req, res, bucket, key, params }: Request): Promise<void> {
    const meta = store.head(bucket, key);
    if (meta === undefined) throw noSuchKey();
    // Opened before anything is sent: an overwrite or delete racing this read unlinks the file, and
    // the open descriptor keeps reading the object as it was.
    const file = await open(store.bodyPath(bucket, meta)).catch(() => {
      throw noSuchKey();
    });
    try {
      const { size } = await file.stat();
      setObjectHeaders(res, meta, size, params);
      if (req.method === 'HEAD') return end(res, 200);
      res.writeHead(200);
      if (size <= WHOLE_READ_BYTES) {
        // One read and one socket write: far less work per object than a stream of chunks.
        res.end(await file.readFile());
        return;
      }
      await pipeline(file.createReadStream({ highWaterMark: 1024 * 1024, autoClose: false }), res);
    } finally {
      await file.close();
    }
  }

  function listObjects({ res, bucket, params }: Request): void {
    const prefix = params.get('prefix') ?? '';
    if (params.has('delimiter')) throw notImplemented('ListObjectsV2 with a delimiter');
    const maxKeys = Math.min(1000, Math.max(0, Number(params.get('max-keys') ?? 1000) || 0));
    const token = params.get('continuation-token');
    const after =
      token !== undefined
        ? Buffer.from(token, 'base64url').toString('utf8')
        : (params.get('start-after') ?? '');
    const urlEncoded = params.get('encoding-type') === 'url';
    const name = (key: string) => (urlEncoded ? uriEncode(key).replaceAll('%2F', '/') : key);
    const { items, truncated } = store.list(bucket, prefix, after, maxKeys);
    const last = items.at(-1);
    const contents = items.map(
      (meta) =>
        `<Contents>${elements([
          ['Key', name(meta.key)],
          ['LastModified', meta.lastModified],
          ['ETag', `"${meta.etag}"`],
          ['Size', meta.size],
          ['StorageClass', 'STANDARD'],
        ])}</Contents>`,
    );
    const head = elements([
      ['Name', bucket],
      ['Prefix', name(prefix)],
      ['KeyCount', items.length],
      ['MaxKeys', maxKeys],
      ['IsTruncated', truncated],
      ['ContinuationToken', token],
      ['NextContinuationToken', truncated && last ? Buffer.from(last.key).toString('base64url') : undefined],
      ['EncodingType', urlEncoded ? 'url' : undefined],
    ]);
    sendXml(res, 200, document('ListBucketResult', head + contents.join('')));
  }

  async function deleteObjects(request: Request): Promise<void> {
    const parsed = parseRequest(await readBody(request), 'Delete');
    const objects = Array.isArray(parsed.Object) ? (parsed.Object as Array<Record<string, unknown>>) : [];
    if (objects.length > 1000) throw new S3Error(400, 'MalformedXML', 'At most 1000 keys per request');
    const keys = objects.map((entry) => entry.Key).filter((key): key is string => typeof key === 'string');
    for (const key of keys) await store.delete(request.bucket, key);
    const quiet = parsed.Quiet === 'true';
    const deleted = quiet ? '' : keys.map((key) => `<Deleted>${elements([['Key', key]])}</Deleted>`).join('');
    sendXml(request.res, 200, document('DeleteResult', deleted));
  }

  /** A small request body (an XML document), checked against its signed hash. */
  async function readBody({ req, payload }: Request): Promise<Buffer> {
    const { file, size } = await store.receive(req, {
      maxBytes: MAX_XML_BYTES,
      ...(payload.kind === 'sha256' ? { sha256: payload.hex } : {}),
    });
    const body = size === 0 ? Buffer.alloc(0) : await readFile(file);
    await rm(file, { force: true });
    return body;
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        clearInterval(sweeper);
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 5_000).unref();
      }),
  };
}

function parseQuery(raw: string): Array<[string, string]> {
  if (raw === '') return [];
  return raw.split('&').map((pair) => {
    const eq = pair.indexOf('=');
    return eq < 0 ? [decode(pair), ''] : [decode(pair.slice(0, eq)), decode(pair.slice(eq + 1))];
  });
}

/** Path-style addressing: `/bucket/key`; the key as S3 stores it (decoded), checked for sanity. */
function locate(rawPath: string): { bucket: string; key: string } {
  if (!rawPath.startsWith('/')) throw new S3Error(400, 'InvalidURI', 'The request path must start with /');
  const slash = rawPath.indexOf('/', 1);
  const bucket = decode(slash < 0 ? rawPath.slice(1) : rawPath.slice(1, slash));
  const key = slash < 0 ? '' : decode(rawPath.slice(slash + 1));
  if (Buffer.byteLength(key) > 1024)
    throw new S3Error(400, 'KeyTooLongError', 'The key is longer than 1024 bytes');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\u0000-\u001f\u007f]/.test(key))
    throw new S3Error(400, 'InvalidArgument', 'Keys may not hold control characters');
  return { bucket, key };
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new S3Error(400, 'InvalidURI', 'The request path or query is not valid percent-encoding');
  }
}

function contentHeaders(req: IncomingMessage): { contentType: string; contentDisposition?: string } {
  const disposition = req.headers['content-disposition'];
  return {
    contentType: req.headers['content-type'] ?? 'application/octet-stream',
    ...(disposition === undefined ? {} : { contentDisposition: disposition }),
  };
}

function setObjectHeaders(
  res: ServerResponse,
  meta: ObjectMeta,
  size: number,
  params: ReadonlyMap<string, string>,
) {
  res.setHeader('Content-Type', params.get('response-content-type') ?? meta.contentType);
  res.setHeader('Content-Length', size);
  res.setHeader('ETag', `"${meta.etag}"`);
  res.setHeader('Last-Modified', new Date(meta.lastModified).toUTCString());
  const disposition = params.get('response-content-disposition') ?? meta.contentDisposition;
  if (disposition !== undefined) res.setHeader('Content-Disposition', disposition);
  const cacheControl = params.get('response-cache-control');
  if (cacheControl !== undefined) res.setHeader('Cache-Control', cacheControl);
}

function sendXml(res: ServerResponse, status: number, xml: string): void {
  res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(xml) });
  res.end(xml);
}

function end(res: ServerResponse, status: number): void {
  res.writeHead(status, { 'Content-Length': 0 });
  res.end();
}

function fail(req: IncomingMessage, res: ServerResponse, error: unknown, id: string, log: Logger): void {
  const known = error instanceof S3Error ? error : new S3Error(500, 'InternalError', 'Internal error');
  const resource = (req.url ?? '/').split('?')[0];
  if (!(error instanceof S3Error)) {
    // The path only: a presigned query carries a credential and a signature.
    log.error({ err: error, method: req.method, path: resource }, 'embedded S3 request failed');
  }
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (req.method === 'HEAD') {
    end(res, known.status);
    return;
  }
  const body = elements([
    ['Code', known.code],
    ['Message', known.message],
    ['Resource', resource],
    ['RequestId', id],
  ]);
  sendXml(res, known.status, `<?xml version="1.0" encoding="UTF-8"?>\n<Error>${body}</Error>`);
}
