import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CliError, type Client, errorOf } from './client.ts';

export type ProcessOptions = Readonly<{
  to: readonly string[];
  resize: Readonly<{ width?: number; height?: number }> | null;
  quality: number | null;
  denoise: boolean;
  metadata: boolean;
  webhook: string | null;
  /** A pipeline JSON file; when given it is what runs (operations are still sent, as the API asks). */
  pipeline: string | null;
  idempotencyKey: string | null;
}>;

type Fields = Record<string, string>;

/**
 * The multipart fields for `pixtools process`. Formats alone use the reference contract (`operations` +
 * `operation_params`); with `--denoise` and formats the formats are made from the denoised image, as a
 * pipeline: denoise → [resize] → each format.
 */
export async function formFields(options: ProcessOptions): Promise<Fields> {
  const operations = [
    ...options.to,
    ...(options.denoise ? ['denoise'] : []),
    ...(options.metadata ? ['metadata'] : []),
  ];
  if (operations.length === 0)
    throw new CliError('usage', 'Nothing to do: give --to, --denoise or --metadata');
  const fields: Fields = { operations: JSON.stringify(operations) };
  if (options.webhook !== null) fields.webhook_url = options.webhook;
  if (options.pipeline !== null) {
    fields.pipeline = await readFile(options.pipeline, 'utf8').catch((error: unknown) => {
      throw new CliError('usage', `Cannot read ${options.pipeline}: ${(error as Error).message}`);
    });
    return fields;
  }
  if (options.denoise && options.to.length > 0) {
    fields.pipeline = JSON.stringify(denoisedPipeline(options));
    return fields;
  }
  const params: Record<string, Record<string, unknown>> = {};
  for (const op of operations) {
    const entry: Record<string, unknown> = {};
    if (options.resize !== null && op !== 'metadata') entry.resize = options.resize;
    if (options.quality !== null && (op === 'jpg' || op === 'webp')) entry.quality = options.quality;
    if (Object.keys(entry).length > 0) params[op] = entry;
  }
  if (Object.keys(params).length > 0) fields.operation_params = JSON.stringify(params);
  return fields;
}

function denoisedPipeline(options: ProcessOptions) {
  const steps: Record<string, unknown>[] = [{ id: 'denoise', op: 'denoise', input: 'source' }];
  let last = 'denoise';
  if (options.resize !== null) {
    steps.push({ id: 'resize', op: 'resize', input: last, params: options.resize });
    last = 'resize';
  }
  for (const format of options.to) {
    const quality = options.quality !== null && (format === 'jpg' || format === 'webp');
    steps.push({
      id: format,
      op: format,
      input: last,
      ...(quality ? { params: { quality: options.quality } } : {}),
    });
  }
  if (options.metadata) steps.push({ id: 'metadata', op: 'metadata', input: 'source' });
  return steps;
}

const RETRYABLE = new Set([429, 502, 503, 504]);

/**
 * POSTs the file with an Idempotency-Key, retrying network errors, 429 and 5xx with the same key (so a
 * retry can never make a second job). Returns the job id.
 */
export async function submit(client: Client, file: string, fields: Fields, key: string | null, attempts = 4) {
  const bytes = await readFile(file).catch((error: unknown) => {
    throw new CliError('usage', `Cannot read ${file}: ${(error as Error).message}`);
  });
  const idempotencyKey = key ?? randomUUID();
  for (let attempt = 1; ; attempt++) {
    const form = new FormData();
    form.set('file', new File([new Uint8Array(bytes)], path.basename(file)));
    for (const [name, value] of Object.entries(fields)) form.set(name, value);
    let failure: CliError;
    try {
      const response = await client.request('/api/process', {
        method: 'POST',
        body: form,
        headers: { 'Idempotency-Key': idempotencyKey },
      });
      if (response.ok) return ((await response.json()) as { job_id: string }).job_id;
      failure = await errorOf(response);
      if (!RETRYABLE.has(response.status) || attempt >= attempts) throw failure;
      await sleep(retryDelayMs(response.headers.get('retry-after'), attempt));
    } catch (error) {
      if (!(error instanceof CliError) || error.kind !== 'unavailable' || attempt >= attempts) throw error;
      if (error.status === null) await sleep(500 * attempt);
    }
  }
}

function retryDelayMs(header: string | null, attempt: number): number {
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 30) * 1000 : 500 * attempt;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
