import path from 'node:path';
import type { StepResult } from '../../shared/bus/worker.ts';
import { DeterministicStepError } from '../../shared/bus/worker.ts';
import type { RunStep } from '../../shared/events/events.ts';
import { ImageFormat } from '../../shared/events/operations.ts';
import type { Storage } from '../../shared/storage/storage.ts';
import { type ConvertParams, convertImage } from './convert/convert.ts';

export type ExecuteDeps = Readonly<{ storage: Storage; maxInputPixels: number }>;

/** The download name the reference gave: `pixtools_<op>_<original base name>.<ext>`. */
export function outputFilename(op: string, originalName: string, ext: string): string {
  const base = path.parse(path.basename(originalName)).name || 'image';
  return `pixtools_${op}_${base}.${ext}`;
}

/** Runs one I/O step: the format conversions (resize and quality are their parameters). */
export function executeConvert({ storage, maxInputPixels }: ExecuteDeps) {
  return async (command: RunStep): Promise<StepResult> => {
    const format = ImageFormat.safeParse(command.op);
    if (!format.success) throw new DeterministicStepError(`the converter cannot run "${command.op}" steps`);
    const input = command.inputs[0];
    if (input === undefined) throw new DeterministicStepError('step has no input');
    const source = await storage.get(input.key);
    const converted = await convertImage(
      source,
      format.data,
      command.params as ConvertParams,
      maxInputPixels,
    );
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
  };
}
