import { createHash } from 'node:crypto';
import type { Operation, OperationParams, StepOp, StepSpec } from '../../../shared/events/operations.ts';
import type { Logger } from '../../../shared/log.ts';
import { stepsFromOperations, withBundle } from '../../../shared/plan/dag.ts';
import { safeFilename } from '../../../shared/storage/filename.ts';
import type { IntakeConfig } from '../config.ts';
import { ApiError } from '../errors.ts';
import { type RawForm, readForm } from './form.ts';
import { inspectImage, type UploadedImage } from './image.ts';
import { checkComputeBudget, checkOutputSizes } from './limits.ts';
import { parseOperationParams, parseOperations } from './operations.ts';
import { checkPipelineFormats, parsePipeline } from './pipeline.ts';
import { checkWebhookUrl } from './webhook.ts';

/** A request that passed every rule: what `JobSubmitted` will carry, before storage and ids. */
export type Submission = Readonly<{
  bytes: Buffer;
  sha256: string;
  /** The declared name, sanitised: no path, no control characters, bounded length. */
  originalName: string;
  image: UploadedImage;
  operations: Operation[];
  operationParams: OperationParams;
  pipeline: StepSpec[] | null;
  webhookUrl: string | null;
  /** The steps that will run: the pipeline, or one step per operation (before the planner's ZIP step). */
  steps: StepSpec[];
}>;

/** Rule 10: a conversion to the source's own format (`jpeg` is `jpg`); denoise and metadata are exempt. */
function checkSameFormat(operations: readonly Operation[], format: string): void {
  if (operations.includes(format as Operation)) {
    throw new ApiError(422, `Cannot convert ${format} to ${format} - source and target formats are the same`);
  }
}

/** Every step operation a job with these steps runs, the planner's ZIP step included. */
export const jobOps = (steps: readonly StepSpec[]): StepOp[] => withBundle(steps).map((step) => step.op);

/**
 * The step operations the form's text fields ask for (with the planner's ZIP step), or null while any
 * of them is invalid: the full validation then answers with the rule that fails, in the contract's
 * order. Read before the upload is hashed and decoded, so admission can refuse an overloaded queue
 * for the price of the multipart parse alone.
 */
export function requestedOps(raw: RawForm, config: IntakeConfig): StepOp[] | null {
  try {
    const form = readForm(raw, config.maxUploadBytes);
    const operations = parseOperations(form.operations);
    const operationParams = parseOperationParams(form.operationParams, operations);
    const pipeline = parsePipeline(form.pipeline, config.maxPipelineSteps);
    return jobOps(pipeline ?? stepsFromOperations(operations, operationParams));
  } catch (error) {
    if (error instanceof ApiError) return null;
    throw error;
  }
}

/**
 * The contract's rules 2–10, in order, first failure wins (rule 1, the API key, is middleware).
 * Then the additive checks: the pipeline DAG, the output size limit and the compute budget.
 */
export async function validateSubmission(
  raw: RawForm,
  config: IntakeConfig,
  log: Logger,
): Promise<Submission> {
  const form = readForm(raw, config.maxUploadBytes);
  const { bytes } = form.file;
  const image = await inspectImage(bytes, form.file.declaredType, config.maxInputPixels);
  const operations = parseOperations(form.operations);
  const operationParams = parseOperationParams(form.operationParams, operations);
  const webhookUrl = await checkWebhookUrl(form.webhookUrl, config.webhookAllowedHosts, log);
  // With a pipeline, the pipeline is what runs; `operations` is kept for reference clients.
  if (form.pipeline === null) checkSameFormat(operations, image.format);
  const pipeline = parsePipeline(form.pipeline, config.maxPipelineSteps);
  if (pipeline !== null) checkPipelineFormats(pipeline, image.format);
  const steps = pipeline ?? stepsFromOperations(operations, operationParams);
  checkOutputSizes(steps, image, config.maxOutputPixels);
  checkComputeBudget(steps, image, config.maxJobCostSeconds);
  return {
    bytes,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    originalName: safeFilename(form.file.name),
    image,
    operations,
    operationParams,
    pipeline,
    webhookUrl,
    steps,
  };
}
