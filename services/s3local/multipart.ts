import { randomUUID } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { noSuchBucket, S3Error } from './errors.ts';
import { concatenate, type ObjectMeta, type ObjectStore } from './store.ts';
import { malformed } from './xml.ts';

// Multipart uploads (what @aws-sdk/lib-storage sends for bodies over one part). Parts wait in the
// store's temporary folder; completion concatenates them in order and installs the object. Uploads
// live in memory: a restart forgets them (the client's upload fails and is retried whole), and one
// left incomplete is aborted after a day, as the bucket's lifecycle rule asks of S3.

const MIN_PART_BYTES = 5 * 1024 * 1024;
const MAX_PARTS = 10_000;
const ABANDONED_AFTER_MS = 86_400_000;

type Part = Readonly<{ file: string; size: number; sha256: string; etag: string }>;
type Upload = {
  readonly bucket: string;
  readonly key: string;
  readonly contentType: string;
  readonly contentDisposition?: string;
  readonly started: number;
  readonly parts: Map<number, Part>;
};

export class Multipart {
  private readonly uploads = new Map<string, Upload>();

  constructor(
    private readonly store: ObjectStore,
    private readonly maxBytes: number,
    private readonly now: () => number,
  ) {}

  create(bucket: string, key: string, contentType: string, contentDisposition?: string): string {
    if (!this.store.hasBucket(bucket)) throw noSuchBucket();
    const id = randomUUID();
    this.uploads.set(id, {
      bucket,
      key,
      contentType,
      ...(contentDisposition === undefined ? {} : { contentDisposition }),
      started: this.now(),
      parts: new Map(),
    });
    return id;
  }

  async uploadPart(
    id: string,
    bucket: string,
    key: string,
    partNumber: number,
    body: AsyncIterable<Buffer>,
    sha256?: string,
  ): Promise<string> {
    const upload = this.find(id, bucket, key);
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PARTS) {
      throw new S3Error(400, 'InvalidArgument', 'Part number must be an integer between 1 and 10000');
    }
    const received = await this.store.receive(body, {
      maxBytes: this.maxBytes,
      ...(sha256 ? { sha256 } : {}),
    });
    const etag = received.sha256.slice(0, 32);
    const previous = upload.parts.get(partNumber);
    upload.parts.set(partNumber, { ...received, etag });
    if (previous !== undefined) await rm(previous.file, { force: true });
    return etag;
  }

  async complete(
    id: string,
    bucket: string,
    key: string,
    request: Record<string, unknown>,
  ): Promise<ObjectMeta> {
    const upload = this.find(id, bucket, key);
    const listed = Array.isArray(request.Part) ? (request.Part as Array<Record<string, unknown>>) : [];
    if (listed.length === 0) throw malformed();
    const parts = listed.map((entry, index) => {
      const number = Number(entry.PartNumber);
      const part = upload.parts.get(number);
      const etag = typeof entry.ETag === 'string' ? entry.ETag.replaceAll('"', '') : '';
      if (part === undefined || part.etag !== etag) {
        throw new S3Error(400, 'InvalidPart', `Part ${number} was not uploaded or its ETag does not match`);
      }
      const previous = listed[index - 1];
      if (previous !== undefined && Number(previous.PartNumber) >= number) {
        throw new S3Error(400, 'InvalidPartOrder', 'Parts must be listed in ascending order');
      }
      if (index < listed.length - 1 && part.size < MIN_PART_BYTES) {
        throw new S3Error(400, 'EntityTooSmall', 'Every part but the last must be at least 5 MiB');
      }
      return part;
    });
    const total = parts.reduce((sum, part) => sum + part.size, 0);
    if (total > this.maxBytes)
      throw new S3Error(400, 'EntityTooLarge', `The object is larger than ${this.maxBytes} bytes`);
    const joined = await concatenate(
      parts.map((part) => part.file),
      this.store.tempPath(),
    );
    const meta = await this.store.install(bucket, key, joined, upload);
    await this.abort(id, bucket, key);
    return meta;
  }

  async abort(id: string, bucket: string, key: string): Promise<void> {
    const upload = this.find(id, bucket, key);
    this.uploads.delete(id);
    await Promise.all([...upload.parts.values()].map((part) => rm(part.file, { force: true })));
  }

  /** Aborts uploads started more than a day ago; returns how many. */
  async sweep(): Promise<number> {
    const stale = [...this.uploads].filter(([, upload]) => this.now() - upload.started > ABANDONED_AFTER_MS);
    for (const [id, upload] of stale) await this.abort(id, upload.bucket, upload.key);
    return stale.length;
  }

  private find(id: string, bucket: string, key: string): Upload {
    const upload = this.uploads.get(id);
    if (upload === undefined || upload.bucket !== bucket || upload.key !== key) {
      throw new S3Error(404, 'NoSuchUpload', 'The specified multipart upload does not exist');
    }
    return upload;
  }
}
