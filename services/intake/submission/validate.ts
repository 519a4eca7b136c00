import { createHash } from 'node:crypto';
import type { Operation, StepSpec } from '../../../shared/events/operations.ts';
import type { Logger } from '../../../shared/log.ts';
import { stepsFromOperations } from '../../../shared/plan/dag.ts';
import type { IntakeConfig } from '../config.ts';
import { ApiError } from '../errors.ts';
import { readForm } from './form.ts';
import { inspectImage, type UploadedImage } from './image.ts';
import { checkOutputSizes } from './limits.ts';
import { checkOperationParams, type Params, parseOperationParams, parseOperations } from './operations.ts';
import { checkPipelineFormats, parsePipeline } from './pipeline.ts';
import { checkWebhookUrl } from './webhook.ts';

/** A request that passed every rule: what `JobSubmitted` will carry, before storage and ids. */
export type Submission = Readonly<{
  bytes: Buffer;
  sha256: string;
  originalName: string;
  image: UploadedImage;
  operations: Operation[];
  operationParams: Record<string, Params>;
  pipeline: StepSpec[] | null;
  webhookUrl: string | null;
}>;

/** Rule 10: a conversion to the source's own format (`jpeg` is `jpg`); denoise and metadata are exempt. */
function checkSameFormat(operations: readonly Operation[], format: string): void {
  if (operations.includes(format as Operation)) {
    throw new ApiError(422, `Cannot convert ${format} to ${format} - source and target formats are the same`);
  }
}

/**
 * The contract's rules 2–10, in order, first failure wins (rule 1, the API key, is middleware).
 * Then the additive checks: the pipeline DAG and the output size limit.
 */
export async function validateSubmission(
  body: Readonly<Record<string, unknown>>,
  config: IntakeConfig,
  log: Logger,
): Promise<Submission> {
  const form = readForm(body, config.maxUploadBytes);
  const bytes = Buffer.from(await form.file.arrayBuffer());
  const image = await inspectImage(bytes, form.file.type, config.maxInputPixels);
  const operations = parseOperations(form.operations);
  const operationParams = parseOperationParams(form.operationParams, operations);
  checkOperationParams(operationParams);
  const webhookUrl = await checkWebhookUrl(form.webhookUrl, config.webhookAllowedHosts, log);
  // With a pipeline, the pipeline is what runs; `operations` is kept for reference clients.
  if (form.pipeline === null) checkSameFormat(operations, image.format);
  const pipeline = parsePipeline(form.pipeline);
  if (pipeline !== null) checkPipelineFormats(pipeline, image.format);
  const steps = pipeline ?? stepsFromOperations(operations, operationParams);
  checkOutputSizes(steps, image, config.maxOutputPixels);
  return {
    bytes,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    originalName: form.file.name || 'image',
    image,
    operations,
    operationParams,
    pipeline,
    webhookUrl,
  };
}
