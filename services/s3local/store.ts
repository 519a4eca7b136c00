import { createHash, randomUUID } from 'node:crypto';
import { type FileHandle, mkdir, open, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sortedBtree from 'sorted-btree';
import { noSuchBucket, S3Error } from './errors.ts';

// The embedded S3's objects on disk. Per bucket: `objects/<sha256(key)>-<etag>` holds a body,
// `objects/<sha256(key)>.json` its metadata, which names the body file. A write goes to `tmp/` first
// and is renamed into place, then the metadata is renamed over the old one: a reader sees the old
// object or the new one, never a part of either, and a crash leaves at most an unreferenced body
// (removed when the store opens). An index of every object is kept in memory, ordered by key (a B+ tree),
// so a listing page costs O(log n + page) however many objects the bucket holds.

export type ObjectMeta = Readonly<{
  key: string;
  size: number;
  etag: string;
  lastModified: string;
  contentType: string;
  contentDisposition?: string;
  file: string;
}>;

export type WriteOptions = Readonly<{
  contentType: string;
  contentDisposition?: string;
  /** The body must hash to this SHA-256 (hex), as its signature says; otherwise nothing is stored. */
  sha256?: string;
  maxBytes: number;
}>;

const BTree = sortedBtree.default;
type Index = InstanceType<typeof BTree<string, ObjectMeta>>;
type Bucket = { readonly dir: string; readonly objects: Index };
const newIndex = (): Index => new BTree<string, ObjectMeta>(undefined, compareKeys);

export class ObjectStore {
  private readonly buckets = new Map<string, Bucket>();
  private readonly queues = new Map<string, Promise<void>>();
  private constructor(private readonly root: string) {}

  static async open(root: string): Promise<ObjectStore> {
    const store = new ObjectStore(root);
    await mkdir(path.join(root, '.tmp'), { recursive: true });
    await rm(path.join(root, '.tmp'), { recursive: true, force: true });
    await mkdir(path.join(root, '.tmp'), { recursive: true });
    for (const entry of await readdir(root, { withFileTypes: true })) {
      if (entry.isDirectory() && entry.name !== '.tmp') await store.load(entry.name);
    }
    return store;
  }

  bucketNames(): string[] {
    return [...this.buckets.keys()].sort();
  }

  hasBucket(name: string): boolean {
    return this.buckets.has(name);
  }

  async createBucket(name: string): Promise<boolean> {
    if (this.buckets.has(name)) return false;
    await mkdir(path.join(this.root, name, 'objects'), { recursive: true });
    this.buckets.set(name, { dir: path.join(this.root, name, 'objects'), objects: newIndex() });
    return true;
  }

  head(bucket: string, key: string): ObjectMeta | undefined {
    return this.bucket(bucket).objects.get(key);
  }

  /** The body's path; open it at once (a later overwrite unlinks it, an open descriptor keeps reading). */
  bodyPath(bucket: string, meta: ObjectMeta): string {
    return path.join(this.bucket(bucket).dir, meta.file);
  }

  /** Streams `body` into a temporary file, checking its size and hash; returns the file and its digest. */
  async receive(body: AsyncIterable<Buffer>, options: Pick<WriteOptions, 'sha256' | 'maxBytes'>) {
    const file = path.join(this.root, '.tmp', randomUUID());
    const out = await open(file, 'w');
    const hash = createHash('sha256');
    let size = 0;
    // Chunks are gathered and written a few MB at a time: one system call instead of one per chunk.
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    try {
      for await (const chunk of body) {
        size += chunk.length;
        if (size > options.maxBytes) {
          throw new S3Error(400, 'EntityTooLarge', `The object is larger than ${options.maxBytes} bytes`);
        }
        hash.update(chunk);
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes >= WRITE_BATCH_BYTES) {
          await writeAll(out, pending);
          pending = [];
          pendingBytes = 0;
        }
      }
      await writeAll(out, pending);
      await out.close();
    } catch (error) {
      await out.close().catch(() => {});
      await rm(file, { force: true });
      throw error;
    }
    const sha256 = hash.digest('hex');
    if (options.sha256 !== undefined && options.sha256 !== sha256) {
      await rm(file, { force: true });
      throw new S3Error(400, 'XAmzContentSHA256Mismatch', 'The body does not match x-amz-content-sha256');
    }
    return { file, size, sha256 };
  }

  async put(
    bucket: string,
    key: string,
    body: AsyncIterable<Buffer>,
    options: WriteOptions,
  ): Promise<ObjectMeta> {
    this.bucket(bucket);
    const received = await this.receive(body, options);
    return this.install(bucket, key, received, options);
  }

  /**
   * Moves a received temporary file into place as `key`. Writes and deletes of one key run one after
   * the other, so the metadata on disk, the index and the body files always agree.
   */
  install(
    bucket: string,
    key: string,
    received: Readonly<{ file: string; size: number; sha256: string }>,
    options: Pick<WriteOptions, 'contentType' | 'contentDisposition'>,
  ): Promise<ObjectMeta> {
    return this.serially(bucket, key, () => this.installNow(bucket, key, received, options));
  }

  private async installNow(
    bucket: string,
    key: string,
    received: Readonly<{ file: string; size: number; sha256: string }>,
    options: Pick<WriteOptions, 'contentType' | 'contentDisposition'>,
  ): Promise<ObjectMeta> {
    const target = this.bucket(bucket);
    const name = keyName(key);
    const etag = received.sha256.slice(0, 32);
    const meta: ObjectMeta = {
      key,
      size: received.size,
      etag,
      lastModified: new Date().toISOString(),
      contentType: options.contentType,
      ...(options.contentDisposition === undefined ? {} : { contentDisposition: options.contentDisposition }),
      file: `${name}-${etag}-${randomUUID().slice(0, 8)}`,
    };
    await rename(received.file, path.join(target.dir, meta.file));
    const metaTmp = path.join(this.root, '.tmp', `${randomUUID()}.json`);
    await writeFile(metaTmp, JSON.stringify(meta));
    await rename(metaTmp, path.join(target.dir, `${name}.json`));
    const previous = target.objects.get(key);
    target.objects.set(key, meta);
    if (previous !== undefined && previous.file !== meta.file) {
      await rm(path.join(target.dir, previous.file), { force: true });
    }
    return meta;
  }

  delete(bucket: string, key: string): Promise<void> {
    const target = this.bucket(bucket);
    return this.serially(bucket, key, async () => {
      const meta = target.objects.get(key);
      if (meta === undefined) return;
      target.objects.delete(key);
      await rm(path.join(target.dir, `${keyName(key)}.json`), { force: true });
      await rm(path.join(target.dir, meta.file), { force: true });
    });
  }

  /** Runs `work` after every earlier write or delete of the same key has finished. */
  private serially<T>(bucket: string, key: string, work: () => Promise<T>): Promise<T> {
    const id = `${bucket}/${key}`;
    const run = (this.queues.get(id) ?? Promise.resolve()).then(work);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(id, settled);
    void settled.then(() => {
      if (this.queues.get(id) === settled) this.queues.delete(id);
    });
    return run;
  }

  /** Keys under `prefix` after `startAfter`, in code-unit order (S3's UTF-8 order for all but astral characters). */
  list(bucket: string, prefix: string, startAfter: string, max: number) {
    const items: ObjectMeta[] = [];
    // The keys under a prefix are one contiguous run of the index, starting at the prefix itself.
    const from = compareKeys(prefix, startAfter) > 0 ? prefix : startAfter;
    for (const [key, meta] of this.bucket(bucket).objects.entries(from)) {
      if (!key.startsWith(prefix)) break;
      if (compareKeys(key, startAfter) <= 0) continue;
      if (items.length === max) return { items, truncated: true };
      items.push(meta);
    }
    return { items, truncated: false };
  }

  tempPath(): string {
    return path.join(this.root, '.tmp', randomUUID());
  }

  private bucket(name: string): Bucket {
    const bucket = this.buckets.get(name);
    if (bucket === undefined) throw noSuchBucket();
    return bucket;
  }

  private async load(name: string): Promise<void> {
    const dir = path.join(this.root, name, 'objects');
    await mkdir(dir, { recursive: true });
    const objects = newIndex();
    const files = await readdir(dir);
    for (const file of files.filter((f) => f.endsWith('.json'))) {
      try {
        const meta = JSON.parse(await readFile(path.join(dir, file), 'utf8')) as ObjectMeta;
        objects.set(meta.key, meta);
      } catch {
        await rm(path.join(dir, file), { force: true }); // a torn metadata file from a crash
      }
    }
    const referenced = new Set([...objects.values()].map((meta) => meta.file));
    for (const file of files.filter((f) => !f.endsWith('.json') && !referenced.has(f))) {
      await rm(path.join(dir, file), { force: true });
    }
    this.buckets.set(name, { dir, objects });
  }
}

const WRITE_BATCH_BYTES = 8 * 1024 * 1024;

async function writeAll(file: FileHandle, chunks: Buffer[]): Promise<void> {
  let rest = chunks;
  while (rest.length > 0) {
    const { bytesWritten } = await file.writev(rest);
    let skip = bytesWritten;
    while (rest.length > 0 && skip >= (rest[0]?.length ?? 0)) {
      skip -= rest[0]?.length ?? 0;
      rest = rest.slice(1);
    }
    if (skip > 0 && rest[0] !== undefined) rest = [rest[0].subarray(skip), ...rest.slice(1)];
  }
}

function keyName(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Concatenates files into one temporary file, hashing it; for multipart completion. */
export async function concatenate(files: readonly string[], target: string) {
  const out = await open(target, 'w');
  const hash = createHash('sha256');
  let size = 0;
  try {
    for (const file of files) {
      const bytes = await readFile(file);
      hash.update(bytes);
      size += bytes.length;
      await out.write(bytes);
    }
  } finally {
    await out.close();
  }
  return { file: target, size, sha256: hash.digest('hex') };
}
