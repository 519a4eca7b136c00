import { createHash } from 'node:crypto';
import { Hono } from 'hono';
import sharp from 'sharp';
import { z } from 'zod';
import { Operation } from '../../shared/events/operations.ts';
import { keys } from '../../shared/storage/storage.ts';
import type { IntakeDeps } from './deps.ts';
import { ApiError } from './errors.ts';
import { sniffImage } from './sniff.ts';

const Operations = z.array(Operation);

function parseOperations(raw: string): z.infer<typeof Operations> {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new ApiError(422, `Invalid operations: ${raw}`);
  }
  const parsed = Operations.safeParse(json);
  if (!parsed.success) throw new ApiError(422, `Invalid operations: ${raw}`);
  if (parsed.data.length === 0) throw new ApiError(422, 'At least one operation is required');
  return parsed.data;
}

/** `POST /api/process`: validate, store the upload, append `JobSubmitted`. */
export function processApi({ config, bus, storage, now, newId }: IntakeDeps) {
  return new Hono().post('/process', async (c) => {
    const body = await c.req.parseBody();
    const file = body.file;
    const operationsRaw = body.operations;
    if (!(file instanceof File)) throw new ApiError(422, 'file is required');
    if (typeof operationsRaw !== 'string') throw new ApiError(422, 'operations is required');
    if (file.size > config.maxUploadBytes) {
      throw new ApiError(413, `File exceeds ${Math.floor(config.maxUploadBytes / 1024 / 1024)}MB limit`);
    }
    const bytes = Buffer.from(await file.arrayBuffer());
    const sniffed = await sniffImage(bytes);
    if (!('format' in sniffed)) throw new ApiError(400, `Unsupported file type: ${sniffed.found}`);
    const operations = parseOperations(operationsRaw);
    const meta = await sharp(bytes, { limitInputPixels: config.maxInputPixels })
      .metadata()
      .catch((error: Error) => {
        throw new ApiError(400, `Unsupported file type: unreadable image (${error.message})`);
      });
    const jobId = newId();
    const requestId = c.get('requestId' as never) as string;
    const time = now();
    const key = keys.raw(jobId, sniffed.format);
    await storage.put(key, bytes, file.type || 'application/octet-stream');
    const expiresAt = new Date(time.getTime() + config.infra.s3.retentionSeconds * 1000).toISOString();
    await bus.log.append({ jobId, correlationId: jobId, causationId: null, time: time.toISOString() }, [
      {
        type: 'JobSubmitted',
        data: {
          source: {
            key,
            format: sniffed.format,
            bytes: bytes.length,
            width: meta.width ?? 1,
            height: meta.height ?? 1,
            originalName: file.name || 'image',
            sha256: createHash('sha256').update(bytes).digest('hex'),
          },
          operations,
          operationParams: {},
          pipeline: null,
          webhookUrl: null,
          requestId,
          expiresAt,
        },
      },
    ]);
    return c.json({ job_id: jobId, status: 'PENDING' }, 202);
  });
}
