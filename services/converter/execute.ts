import type { StepContext, StepResult } from '../../shared/bus/worker.ts';
import { DeterministicStepError } from '../../shared/bus/worker.ts';
import type { RunStep } from '../../shared/events/events.ts';
import { ImageFormat } from '../../shared/events/operations.ts';
import { outputFilename } from '../../shared/storage/filename.ts';
import type { Storage } from '../../shared/storage/storage.ts';
import { runBundle } from './bundle/step.ts';
import { type ConvertLimits, type ConvertRequest, convertImage } from './convert/convert.ts';
import { runMetadata } from './metadata/step.ts';

export type ExecuteDeps = Readonly<{
  storage: Storage;
  maxInputPixels: number;
  /** Default 100 megapixels (`MAX_OUTPUT_PIXELS`). */
  maxOutputPixels?: number;
  /** Default false: GPS is stripped from converted outputs (`KEEP_GPS`). */
  keepGps?: boolean;
}>;

const DEFAULT_MAX_OUTPUT_PIXELS = 100_000_000;
/**
 * Conversions of images this large report their phases (`StepProgressed`, unit `phase`: encode, upload,
 * done), a few seconds of work; smaller ones finish before a report would be drawn, and would only add
 * events to every job.
 */
export const PROGRESS_MIN_PIXELS = 8_000_000;
const PHASES = 3;

/** Runs one I/O step: conversions (jpg/png/webp/avif), resize, metadata and bundle. */
export function executeConvert(deps: ExecuteDeps) {
  const { storage } = deps;
  const limits: ConvertLimits = {
    maxInputPixels: deps.maxInputPixels,
    maxOutputPixels: deps.maxOutputPixels ?? DEFAULT_MAX_OUTPUT_PIXELS,
    keepGps: deps.keepGps ?? false,
  };
  // Parameters arrive parsed and typed: `parseRunStep` checked them against the shared schemas.
  return async (command: RunStep, context?: Pick<StepContext, 'progress'>): Promise<StepResult> => {
    switch (command.op) {
      case 'jpg':
      case 'png':
      case 'webp':
      case 'avif': {
        const { resize } = command.params;
        const quality = 'quality' in command.params ? command.params.quality : undefined;
        const request = { format: command.op, mode: 'convert' as const, quality, resize };
        return runImage(storage, command, request, limits, context);
      }
      case 'resize': {
        const resize = command.params;
        const format = ImageFormat.safeParse(firstInput(command).format);
        if (!format.success)
          throw new DeterministicStepError(`cannot resize a ${firstInput(command).format}`);
        return runImage(storage, command, { format: format.data, mode: 'resize', resize }, limits, context);
      }
      case 'metadata':
        return runMetadata(storage, command, firstInput(command).key, limits.maxInputPixels);
      case 'bundle':
        return runBundle(storage, command);
      case 'denoise':
        throw new DeterministicStepError(`the converter cannot run "${command.op}" steps`);
      default: {
        const never: never = command;
        throw new DeterministicStepError(`unknown step operation ${JSON.stringify(never)}`);
      }
    }
  };
}

function firstInput(command: RunStep): RunStep['inputs'][number] {
  const input = command.inputs[0];
  if (input === undefined) throw new DeterministicStepError('step has no input');
  return input;
}

async function runImage(
  storage: Storage,
  command: RunStep,
  request: ConvertRequest,
  limits: ConvertLimits,
  context?: Pick<StepContext, 'progress'>,
): Promise<StepResult> {
  let large = false;
  const phase = (done: number, name: string) => {
    if (large) context?.progress(done, PHASES, 'phase', name);
  };
  const source = await storage.get(firstInput(command).key);
  const converted = await convertImage(source, request, limits, ({ width, height }) => {
    large = width * height >= PROGRESS_MIN_PIXELS;
    phase(1, 'encode');
  });
  phase(2, 'upload');
  const filename = outputFilename(command.op, command.originalName, converted.format);
  await storage.put(command.outputKey, converted.data, converted.contentType, filename);
  phase(PHASES, 'done');
  return {
    output: {
      key: command.outputKey,
      format: converted.format,
      contentType: converted.contentType,
      bytes: converted.data.length,
      width: converted.width,
      height: converted.height,
      filename,
    },
    metadata: null,
  };
}
