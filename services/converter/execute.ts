import type { StepResult } from '../../shared/bus/worker.ts';
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

/** Runs one I/O step: conversions (jpg/png/webp/avif), resize, metadata and bundle. */
export function executeConvert(deps: ExecuteDeps) {
  const { storage } = deps;
  const limits: ConvertLimits = {
    maxInputPixels: deps.maxInputPixels,
    maxOutputPixels: deps.maxOutputPixels ?? DEFAULT_MAX_OUTPUT_PIXELS,
    keepGps: deps.keepGps ?? false,
  };
  // Parameters arrive parsed and typed: `parseRunStep` checked them against the shared schemas.
  return async (command: RunStep): Promise<StepResult> => {
    switch (command.op) {
      case 'jpg':
      case 'png':
      case 'webp':
      case 'avif': {
        const { resize } = command.params;
        const quality = 'quality' in command.params ? command.params.quality : undefined;
        return runImage(storage, command, { format: command.op, mode: 'convert', quality, resize }, limits);
      }
      case 'resize': {
        const resize = command.params;
        const format = ImageFormat.safeParse(firstInput(command).format);
        if (!format.success)
          throw new DeterministicStepError(`cannot resize a ${firstInput(command).format}`);
        return runImage(storage, command, { format: format.data, mode: 'resize', resize }, limits);
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
): Promise<StepResult> {
  const source = await storage.get(firstInput(command).key);
  const converted = await convertImage(source, request, limits);
  const filename = outputFilename(command.op, command.originalName, converted.format);
  await storage.put(command.outputKey, converted.data, converted.contentType, filename);
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
