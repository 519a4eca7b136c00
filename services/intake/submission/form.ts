import type { Readable } from 'node:stream';
import busboy from 'busboy';
import { ApiError } from '../errors.ts';
import { boundaryOf, PartHeaderScrubber } from './part-headers.ts';
import { clip, quote } from './quote.ts';

/** The text fields the contract knows, each with its size limit in bytes (UTF-8). */
export const FIELD_LIMITS = {
  operations: 1024,
  operation_params: 16 * 1024,
  pipeline: 64 * 1024,
  webhook_url: 2048,
} as const;
export type FieldName = keyof typeof FIELD_LIMITS;
const FIELDS = Object.keys(FIELD_LIMITS) as FieldName[];
const isField = (name: string): name is FieldName => (FIELDS as string[]).includes(name);

/** Parts, fields and files a body may have at all; the multipart headers of a part are bounded too. */
const MAX_PARTS = 32;
/** The declared file name is cut (not refused) beyond this many bytes; the boundary sanitises it later. */
const MAX_FILENAME_BYTES = 1024;

export type UploadedFile = Readonly<{ bytes: Buffer; name: string; declaredType: string; tooLarge: boolean }>;

/** What came in, before any rule: the upload (one copy of its bytes) and the known text fields. */
export type RawForm = Readonly<{
  file: UploadedFile | null;
  fields: Readonly<Partial<Record<FieldName, string>>>;
  /** Known fields over their limit (their values are not kept). */
  oversized: readonly FieldName[];
  tooManyParts: boolean;
}>;

export type Form = Readonly<{
  file: UploadedFile;
  operations: string;
  operationParams: string | null;
  pipeline: string | null;
  webhookUrl: string | null;
}>;

export type ReadOptions = Readonly<{ maxFileBytes: number; deadlineMs: number }>;

/** Multipart overhead allowed beyond the file limit before the body is refused unread (or unfinished). */
const FORM_OVERHEAD_BYTES = 1024 * 1024;

/** `10MB` for 10 MiB: the reference's wording, following the configured limit. */
export function megabytes(bytes: number): string {
  return `${Number((bytes / 1024 / 1024).toFixed(2))}MB`;
}

const malformed = (what: string) => new ApiError(400, `Malformed multipart body: ${what}`);

/**
 * Streams a `multipart/form-data` (or urlencoded) body through busboy: the file is written once into a
 * buffer of its final size (bytes past `maxFileBytes` are counted, not kept), text fields are bounded,
 * a body far over the limit is refused (413, from Content-Length before reading, or as it arrives),
 * and the whole body must arrive within `deadlineMs` (408). A body that is not a form is an empty form.
 */
export async function readRawForm(
  request: Request,
  options: ReadOptions,
  incoming?: Readable,
): Promise<RawForm> {
  const contentType = request.headers.get('content-type') ?? '';
  if (!/^(multipart\/form-data|application\/x-www-form-urlencoded)\b/i.test(contentType)) {
    return { file: null, fields: {}, oversized: [], tooManyParts: false };
  }
  const expected = Number(request.headers.get('content-length') ?? 0);
  const maxBodyBytes = options.maxFileBytes + FORM_OVERHEAD_BYTES;
  const tooLarge = () => new ApiError(413, `File exceeds ${megabytes(options.maxFileBytes)} limit`);
  if (expected > maxBodyBytes) throw tooLarge();
  const parser = new FormParser(contentType, options.maxFileBytes, expected);
  const reader = chunksOf(request, incoming);
  if (reader === null) return parser.finish();
  // On failure the rest of the body is left unread: the HTTP server drains (or closes) it after the answer.
  const timer = setTimeout(() => {
    parser.fail(new ApiError(408, `Request body not received within ${options.deadlineMs / 1000} s`));
  }, options.deadlineMs);
  let received = 0;
  try {
    for (;;) {
      const { done, value } = await Promise.race([reader.next(), parser.failed]);
      if (done) break;
      received += value.length;
      if (received > maxBodyBytes) throw tooLarge();
      await Promise.race([parser.write(value), parser.failed]);
    }
    return await parser.finish();
  } finally {
    clearTimeout(timer);
    parser.destroy();
  }
}

type Chunks = { next: () => Promise<IteratorResult<Uint8Array, unknown>> };

/**
 * The body's chunks. From the Node request itself when there is one: its iterator honours back-pressure
 * (Node 20's `Readable.toWeb`, behind `request.body`, queues the whole body in memory while the parser
 * is busy), and it does not destroy the socket when reading stops early, so the answer still goes out.
 */
function chunksOf(request: Request, incoming: Readable | undefined): Chunks | null {
  if (incoming !== undefined) return incoming.iterator({ destroyOnReturn: false });
  const reader = request.body?.getReader();
  if (reader === undefined) return null;
  return { next: () => reader.read() as Promise<IteratorResult<Uint8Array, unknown>> };
}

/** Busboy wired to collect one file and the known fields; its errors become 400s that say what is wrong. */
class FormParser {
  private readonly bb: busboy.Busboy;
  private file: FileCollector | null = null;
  private readonly fields: Partial<Record<FieldName, string>> = {};
  private readonly oversized = new Set<FieldName>();
  private tooManyParts = false;
  private parts = 0;
  private rejectFailure: (error: Error) => void = () => {};
  private readonly scrubber: PartHeaderScrubber | null;
  /** Rejects when parsing fails; raced against every read so a failure stops the upload at once. */
  readonly failed: Promise<never>;
  private readonly closed: Promise<void>;

  constructor(
    contentType: string,
    private readonly maxFileBytes: number,
    private readonly expectedBytes: number,
  ) {
    this.failed = new Promise<never>((_, reject) => {
      this.rejectFailure = reject;
    });
    this.failed.catch(() => {});
    try {
      this.bb = busboy({
        headers: { 'content-type': contentType },
        defParamCharset: 'utf8',
        limits: {
          // busboy flags a file that reaches its limit: one byte more tells "exactly the limit" from "over"
          fileSize: maxFileBytes + 1,
          files: 4,
          fields: MAX_PARTS,
          parts: MAX_PARTS,
          fieldSize: Math.max(...Object.values(FIELD_LIMITS)) + 1,
          fieldNameSize: 100,
          headerPairs: 20,
        },
      });
    } catch (error) {
      const message = (error as Error).message;
      throw malformed(
        /boundary/i.test(message)
          ? 'Content-Type multipart/form-data has no boundary parameter'
          : clip(message),
      );
    }
    const boundary = boundaryOf(contentType);
    this.scrubber = boundary === null ? null : new PartHeaderScrubber(boundary);
    this.closed = new Promise<void>((resolve) => this.bb.once('close', resolve));
    this.bb.on('file', (name, stream, info) => {
      this.parts++;
      if (name !== 'file' || this.file !== null) {
        stream.on('error', () => {}).resume();
        return;
      }
      const filename = Buffer.from(info.filename ?? '')
        .subarray(0, MAX_FILENAME_BYTES)
        .toString();
      this.file = new FileCollector(
        stream,
        filename,
        info.mimeType,
        this.maxFileBytes + 1,
        this.expectedBytes,
      );
    });
    this.bb.on('field', (name, value, info) => {
      this.parts++;
      if (!isField(name)) return;
      if (info.valueTruncated || Buffer.byteLength(value) > FIELD_LIMITS[name]) {
        this.oversized.add(name);
        delete this.fields[name];
        return;
      }
      if (!this.oversized.has(name)) this.fields[name] = value;
    });
    for (const limit of ['partsLimit', 'filesLimit', 'fieldsLimit'] as const) {
      this.bb.on(limit, () => {
        this.tooManyParts = true;
      });
    }
    this.bb.on('error', (error: Error) => this.fail(this.describe(error)));
  }

  private describe(error: Error): ApiError {
    if (/Unexpected end of form/i.test(error.message)) {
      return malformed(
        this.parts === 0
          ? 'the boundary named in Content-Type never appears in the body'
          : 'the body ends before the closing boundary (truncated?)',
      );
    }
    return malformed(clip(error.message.replace(/^Multipart: /, '')).toLowerCase());
  }

  fail(error: ApiError): void {
    this.rejectFailure(error);
  }

  /** Feeds a chunk, waiting for busboy to take it (back-pressure). */
  async write(chunk: Uint8Array): Promise<void> {
    for (const data of this.scrubber === null ? [chunk] : this.scrubber.push(chunk)) {
      if (data.length === 0) continue;
      await new Promise<void>((resolve, reject) => {
        this.bb.write(data, (error) => (error ? reject(this.describe(error)) : resolve()));
      });
    }
  }

  async finish(): Promise<RawForm> {
    this.bb.end();
    await Promise.race([this.closed, this.failed]);
    const file = this.file === null ? null : await Promise.race([this.file.done, this.failed]);
    return { file, fields: this.fields, oversized: [...this.oversized], tooManyParts: this.tooManyParts };
  }

  destroy(): void {
    this.bb.removeAllListeners('file');
    this.bb.on('error', () => {});
    this.bb.destroy();
  }
}

/** Copies a file part into one buffer sized from Content-Length, grown only if that was wrong. */
class FileCollector {
  private buffer: Buffer;
  private length = 0;
  private tooLarge = false;
  readonly done: Promise<UploadedFile>;

  constructor(
    stream: NodeJS.ReadableStream,
    name: string,
    declaredType: string,
    maxBytes: number,
    expectedBytes: number,
  ) {
    const initial = Number.isFinite(expectedBytes) && expectedBytes > 0 ? expectedBytes : 64 * 1024;
    this.buffer = Buffer.allocUnsafe(Math.min(initial, maxBytes));
    this.done = new Promise<UploadedFile>((resolve, reject) => {
      stream.on('data', (chunk: Buffer) => this.append(chunk, maxBytes));
      stream.on('limit', () => {
        this.tooLarge = true;
      });
      stream.on('error', reject);
      stream.on('end', () =>
        resolve({
          bytes: this.buffer.subarray(0, this.length),
          name,
          declaredType,
          tooLarge: this.tooLarge,
        }),
      );
    });
    this.done.catch(() => {});
  }

  private append(chunk: Buffer, maxBytes: number): void {
    const needed = this.length + chunk.length;
    if (needed > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.min(maxBytes, Math.max(needed, this.buffer.length * 2)));
      this.buffer.copy(grown, 0, 0, this.length);
      this.buffer = grown;
    }
    chunk.copy(this.buffer, this.length);
    this.length += chunk.length;
  }
}

/** Control characters other than tab, newline and carriage return (which JSON may contain as whitespace). */
const CONTROL = /(?![\t\n\r])\p{Cc}/u;

/**
 * Rules 2 and 3: `file` and `operations` are present; the file and every field are within their limits
 * (413 naming what is too large); text fields carry no control characters (422 naming the field).
 */
export function readForm(raw: RawForm, maxUploadBytes: number): Form {
  const { file, fields } = raw;
  if (file === null) throw new ApiError(422, 'file is required (a multipart file field)');
  if (fields.operations === undefined && !raw.oversized.includes('operations')) {
    throw new ApiError(422, 'operations is required');
  }
  if (file.tooLarge) throw new ApiError(413, `File exceeds ${megabytes(maxUploadBytes)} limit`);
  const over = raw.oversized[0];
  if (over !== undefined) {
    throw new ApiError(413, `Field ${over} exceeds its limit of ${FIELD_LIMITS[over]} bytes`);
  }
  if (raw.tooManyParts) throw new ApiError(413, `The form has more than ${MAX_PARTS} parts`);
  for (const name of FIELDS) {
    const value = fields[name];
    if (value !== undefined && CONTROL.test(value)) {
      throw new ApiError(422, `Field ${name} contains control characters (${quote(value)})`);
    }
  }
  const operations = fields.operations ?? '';
  const { pipeline, webhook_url: webhook } = fields;
  return {
    file,
    operations,
    operationParams: fields.operation_params ?? null,
    pipeline: pipeline === undefined || ['', 'null'].includes(pipeline.trim()) ? null : pipeline,
    webhookUrl: webhook === undefined || webhook.trim() === '' ? null : webhook.trim(),
  };
}
