import { createHash, randomUUID } from 'node:crypto';
import sharp from 'sharp';
import type { ImageFormat, Operation, StepSpec } from '../../shared/events/operations.ts';
import { keys } from '../../shared/storage/storage.ts';
import type { Harness } from './harness.ts';

export type JobRequest = Readonly<{
  image: Buffer;
  name: string;
  operations?: Operation[];
  operationParams?: Record<string, Record<string, unknown>>;
  pipeline?: StepSpec[];
  /** false: the source object is not stored, as if it vanished from storage (default true). */
  storeSource?: boolean;
}>;

/** Stores the source and appends `JobSubmitted` directly, as intake would after validating. */
export async function appendJob(h: Harness, request: JobRequest): Promise<string> {
  const jobId = randomUUID();
  // a corrupt image has no readable header: describe it by its name, as a sniffer reading magic bytes would
  const meta = await sharp(request.image)
    .metadata()
    .catch(() => ({ format: request.name.split('.').pop() ?? 'png', width: 1, height: 1 }));
  const format = (
    meta.format === 'jpeg' ? 'jpg' : meta.format === 'heif' ? 'avif' : meta.format
  ) as ImageFormat;
  const key = keys.raw(jobId, format);
  if (request.storeSource !== false) await h.storage.put(key, request.image, `image/${format}`);
  await h.bus.log.append({ jobId, correlationId: jobId, causationId: null, time: new Date().toISOString() }, [
    {
      type: 'JobSubmitted',
      data: {
        source: {
          key,
          format,
          bytes: request.image.length,
          width: meta.width,
          height: meta.height,
          originalName: request.name,
          sha256: createHash('sha256').update(request.image).digest('hex'),
        },
        operations: request.operations ?? [],
        operationParams: request.operationParams ?? {},
        pipeline: request.pipeline ?? null,
        webhookUrl: null,
        requestId: `test-${jobId}`,
        expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      },
    },
  ]);
  return jobId;
}
