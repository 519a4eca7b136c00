import type { Readable } from 'node:stream';
import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetBucketLifecycleConfigurationCommand,
  GetObjectCommand,
  HeadBucketCommand,
  type LifecycleRule,
  ListObjectsV2Command,
  PutBucketLifecycleConfigurationCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { S3Config } from '../config/infra.ts';
import type { Logger } from '../log.ts';
import { untilDone } from '../net/retry.ts';
import { attachment } from './filename.ts';

/** Object key layout. Deterministic, so a retried step overwrites instead of duplicating. */
export const keys = {
  raw: (jobId: string, ext: string) => `raw/${jobId}/source.${ext}`,
  output: (jobId: string, stepId: string, ext: string) => `outputs/${jobId}/${stepId}.${ext}`,
  bundle: (jobId: string, stepId: string) => `bundles/${jobId}/${stepId}.zip`,
  jobPrefixes: (jobId: string) => [`raw/${jobId}/`, `outputs/${jobId}/`, `bundles/${jobId}/`],
} as const;

const PRESIGN_REUSE_MARGIN_MS = 60_000;
const PRESIGN_CACHE_SIZE = 20_000;

export const LIFECYCLE_PREFIXES = ['raw/', 'outputs/', 'bundles/'] as const;

export function lifecycleRules(retentionDays: number): LifecycleRule[] {
  return [
    ...LIFECYCLE_PREFIXES.map(
      (prefix): LifecycleRule => ({
        ID: `pixtools-expire-${prefix.slice(0, -1)}`,
        Status: 'Enabled',
        Filter: { Prefix: prefix },
        Expiration: { Days: retentionDays },
      }),
    ),
    {
      ID: 'pixtools-abort-incomplete-multipart',
      Status: 'Enabled',
      Filter: { Prefix: '' },
      AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
    },
  ];
}

export type LifecycleOutcome = 'created' | 'repaired' | 'unchanged' | 'unsupported';

export class Storage {
  readonly bucket: string;
  private readonly client: S3Client;
  private readonly signer: S3Client;
  private readonly signed = new Map<string, { url: string; until: number }>();

  constructor(private readonly config: S3Config) {
    this.bucket = config.bucket;
    this.client = makeClient(config, config.endpoint);
    this.signer =
      config.publicEndpoint === config.endpoint ? this.client : makeClient(config, config.publicEndpoint);
  }

  /** `ensureBucket`, waiting (with back-off) for an S3 server that is not reachable yet. */
  ensureBucketWhenUp(log: Logger, signal?: AbortSignal): Promise<LifecycleOutcome> {
    return untilDone('S3 storage', log, () => this.ensureBucket(log), signal);
  }

  /** Creates the bucket if missing and puts the lifecycle rules back if they drifted. */
  async ensureBucket(log: Logger): Promise<LifecycleOutcome> {
    const exists = await this.client.send(new HeadBucketCommand({ Bucket: this.bucket })).then(
      () => true,
      () => false,
    );
    if (!exists) {
      await this.client.send(new CreateBucketCommand({ Bucket: this.bucket })).catch((error: unknown) => {
        if (!(error instanceof S3ServiceException && /BucketAlready/.test(error.name))) throw error;
      });
    }
    const wanted = lifecycleRules(Math.max(1, Math.ceil(this.config.retentionSeconds / 86_400)));
    let current: LifecycleRule[] | null;
    try {
      const out = await this.client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: this.bucket }));
      current = out.Rules ?? [];
    } catch (error) {
      if (isNotImplemented(error)) return warnUnsupported(log, this.bucket);
      if (!(error instanceof S3ServiceException && error.name === 'NoSuchLifecycleConfiguration'))
        throw error;
      current = null;
    }
    if (current !== null && sameRules(current, wanted)) return 'unchanged';
    try {
      await this.client.send(
        new PutBucketLifecycleConfigurationCommand({
          Bucket: this.bucket,
          LifecycleConfiguration: { Rules: wanted },
        }),
      );
    } catch (error) {
      if (isNotImplemented(error)) return warnUnsupported(log, this.bucket);
      throw error;
    }
    const outcome = current === null ? 'created' : 'repaired';
    log.info({ bucket: this.bucket, outcome }, 'bucket lifecycle rules applied');
    return outcome;
  }

  /**
   * Stores an object; with `filename`, downloads are saved under that name by any S3 server. A caller
   * that already hashed the body passes its SHA-256 (hex): it is signed as the payload hash instead of
   * hashing the body a second time (the server still checks it).
   */
  async put(
    key: string,
    body: Buffer | Uint8Array,
    contentType: string,
    filename?: string,
    sha256Hex?: string,
  ): Promise<void> {
    const disposition = filename === undefined ? undefined : attachment(filename);
    const command = new PutObjectCommand({
      Bucket: this.bucket,
      Key: key,
      Body: body,
      ContentType: contentType,
      ContentDisposition: disposition,
    });
    if (sha256Hex !== undefined) {
      command.middlewareStack.add(
        (next) => async (args) => {
          const request = args.request as { headers?: Record<string, string> };
          if (request.headers) request.headers['x-amz-content-sha256'] = sha256Hex;
          return next(args);
        },
        { step: 'build', name: 'knownPayloadHash' },
      );
    }
    await this.client.send(command);
  }

  /** Streams a body of unknown length (multipart under the hood); never holds it all in memory. */
  async putStream(key: string, body: Readable, contentType: string, filename?: string): Promise<void> {
    const disposition = filename === undefined ? undefined : attachment(filename);
    await new Upload({
      client: this.client,
      params: {
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentType: contentType,
        ContentDisposition: disposition,
      },
    }).done();
  }

  async get(key: string): Promise<Buffer> {
    const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    if (out.Body === undefined) throw new Error(`object ${key} has no body`);
    const body = out.Body as Readable;
    // A reset mid-body rejects the read below; the listener keeps the error from reaching the process.
    body.on('error', () => {});
    const bytes = await out.Body.transformToByteArray();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength); // a view, not a second copy
  }

  /** The object's body; a reset connection ends it with an error the caller must handle (it is piped). */
  async getStream(key: string): Promise<Readable> {
    const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    if (out.Body === undefined) throw new Error(`object ${key} has no body`);
    return out.Body as Readable;
  }

  /** Every key under `prefix` (paged), with its last-modified time. */
  async *list(prefix: string): AsyncGenerator<Readonly<{ key: string; lastModified: Date }>> {
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const item of page.Contents ?? []) {
        if (item.Key !== undefined) yield { key: item.Key, lastModified: item.LastModified ?? new Date(0) };
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  /**
   * A download URL valid for `expiresInSec` (never longer) that makes the browser save under `filename`.
   * A URL signed earlier for the same object and name is reused while it has more than a minute left:
   * its expiry is the same absolute time (the job's retention end), so polling clients cost no signing.
   */
  async presign(key: string, filename: string, expiresInSec: number): Promise<string> {
    const now = Date.now();
    const seconds = Math.max(1, Math.floor(expiresInSec));
    const cacheKey = `${key}\n${filename}`;
    const cached = this.signed.get(cacheKey);
    if (
      cached !== undefined &&
      cached.until - now > PRESIGN_REUSE_MARGIN_MS &&
      cached.until <= now + seconds * 1000
    ) {
      return cached.url;
    }
    const command = new GetObjectCommand({
      Bucket: this.bucket,
      Key: key,
      ResponseContentDisposition: attachment(filename),
    });
    const url = await getSignedUrl(this.signer, command, { expiresIn: seconds });
    this.signed.delete(cacheKey);
    this.signed.set(cacheKey, { url, until: now + seconds * 1000 });
    if (this.signed.size > PRESIGN_CACHE_SIZE) {
      const oldest = this.signed.keys().next();
      if (!oldest.done) this.signed.delete(oldest.value);
    }
    return url;
  }

  /** Deletes every object under the given prefixes; returns how many were deleted. */
  async deletePrefixes(prefixes: readonly string[]): Promise<number> {
    let deleted = 0;
    for (const prefix of prefixes) {
      const listed = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix }),
      );
      const objects = (listed.Contents ?? []).flatMap((item) => (item.Key ? [{ Key: item.Key }] : []));
      if (objects.length === 0) continue;
      await this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: objects } }));
      deleted += objects.length;
    }
    return deleted;
  }

  async ping(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
  }

  destroy(): void {
    this.client.destroy();
    if (this.signer !== this.client) this.signer.destroy();
  }
}

function makeClient(config: S3Config, endpoint: string): S3Client {
  return new S3Client({
    endpoint,
    region: config.region,
    forcePathStyle: true,
    credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    // Bodies of 2 MB and more would otherwise carry `Expect: 100-continue`, which the SDK's handler sends
    // on a fresh agent without keep-alive: a new TCP connection and an extra round trip for every upload.
    expectContinueHeader: false,
    maxAttempts: 3,
    // A server that never answers, or a socket that stalls, fails the request instead of holding a step
    // for ever (NodeHttpHandler options; without throwOnRequestTimeout the SDK only logs a warning).
    requestHandler: {
      connectionTimeout: config.connectTimeoutMs,
      requestTimeout: config.requestTimeoutMs,
      throwOnRequestTimeout: true,
      socketTimeout: config.requestTimeoutMs,
    },
  });
}

function isNotImplemented(error: unknown): boolean {
  return (
    error instanceof S3ServiceException &&
    (error.$metadata.httpStatusCode === 501 || error.name === 'NotImplemented')
  );
}

function warnUnsupported(log: Logger, bucket: string): LifecycleOutcome {
  log.warn(
    { bucket },
    'this S3 backend does not implement lifecycle rules: objects will not expire by policy; ' +
      'the expiry sweeper still deletes each job after its retention window',
  );
  return 'unsupported';
}

function sameRules(current: readonly LifecycleRule[], wanted: readonly LifecycleRule[]): boolean {
  const normalise = (rules: readonly LifecycleRule[]) =>
    rules
      .map((rule) =>
        JSON.stringify({
          id: rule.ID,
          status: rule.Status,
          prefix: rule.Filter?.Prefix ?? rule.Prefix ?? '',
          days: rule.Expiration?.Days ?? null,
          abort: rule.AbortIncompleteMultipartUpload?.DaysAfterInitiation ?? null,
        }),
      )
      .sort();
  return JSON.stringify(normalise(current)) === JSON.stringify(normalise(wanted));
}
