import sharp from 'sharp';
import { DeterministicStepError, type StepResult } from '../../shared/bus/worker.ts';
import type { RunStep } from '../../shared/events/events.ts';
import { CONTENT_TYPES } from '../../shared/events/operations.ts';
import { outputFilename } from '../../shared/storage/filename.ts';
import type { Storage } from '../../shared/storage/storage.ts';

/**
 * TEST STAND-IN for the denoiser: consumes `denoise` steps from the ML work queue and copies the image
 * through sharp into a PNG (what the real denoiser outputs), without any network. It lets DAG tests run
 * `denoise` steps in-process; the real denoiser is `services/denoiser`.
 */
export function standInDenoise(storage: Storage) {
  return async (command: RunStep): Promise<StepResult> => {
    const input = command.inputs[0];
    if (command.op !== 'denoise' || input === undefined) {
      throw new DeterministicStepError(`the stand-in denoiser cannot run "${command.op}" steps`);
    }
    const { data, info } = await sharp(await storage.get(input.key))
      .rotate()
      .png()
      .toBuffer({ resolveWithObject: true });
    const filename = outputFilename(command.stepId, command.originalName, 'png');
    await storage.put(command.outputKey, data, CONTENT_TYPES.png, filename);
    const { width, height } = info;
    const output = { key: command.outputKey, format: 'png', contentType: CONTENT_TYPES.png, width, height };
    return { output: { ...output, bytes: data.length, filename }, metadata: null };
  };
}
