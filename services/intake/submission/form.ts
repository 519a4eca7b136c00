import { ApiError } from '../errors.ts';

export type Form = Readonly<{
  file: File;
  operations: string;
  operationParams: string | null;
  pipeline: string | null;
  webhookUrl: string | null;
}>;

/** `10MB` for 10 MiB: the reference's wording, following the configured limit. */
export function megabytes(bytes: number): string {
  return `${Number((bytes / 1024 / 1024).toFixed(2))}MB`;
}

const field = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/** Rules 2 and 3: `file` and `operations` are present, and the file is within the byte limit. */
export function readForm(body: Readonly<Record<string, unknown>>, maxUploadBytes: number): Form {
  const { file, operations } = body;
  if (!(file instanceof File)) throw new ApiError(422, 'file is required (a multipart file field)');
  if (typeof operations !== 'string') throw new ApiError(422, 'operations is required');
  if (file.size > maxUploadBytes) throw new ApiError(413, `File exceeds ${megabytes(maxUploadBytes)} limit`);
  const webhook = field(body.webhook_url);
  const pipeline = field(body.pipeline);
  return {
    file,
    operations,
    operationParams: field(body.operation_params),
    pipeline: pipeline === null || ['', 'null'].includes(pipeline.trim()) ? null : pipeline,
    webhookUrl: webhook === null || webhook.trim() === '' ? null : webhook.trim(),
  };
}
