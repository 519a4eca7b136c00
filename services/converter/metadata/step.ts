import type { StepResult } from '../../../shared/bus/worker.ts';
import type { RunStep } from '../../../shared/events/events.ts';
import { CONTENT_TYPES } from '../../../shared/events/operations.ts';
import { outputFilename } from '../../../shared/storage/filename.ts';
import type { Storage } from '../../../shared/storage/storage.ts';
import { decoding, openImage } from '../convert/convert.ts';
import { summarizeExif } from './exif-summary.ts';

/** Reads the input's EXIF (headers only, no pixel decoding) and stores the summary as a JSON download. */
export async function runMetadata(
  storage: Storage,
  command: RunStep,
  key: string,
  maxInputPixels: number,
): Promise<StepResult> {
  const source = await storage.get(key);
  const meta = await decoding(() => openImage(source, maxInputPixels).metadata());
  const summary = summarizeExif(meta.exif);
  const body = Buffer.from(`${JSON.stringify(summary, null, 2)}\n`);
  const filename = outputFilename('metadata', command.originalName, 'json');
  await storage.put(command.outputKey, body, CONTENT_TYPES.json, filename);
  return {
    output: {
      key: command.outputKey,
      format: 'json',
      contentType: CONTENT_TYPES.json,
      bytes: body.length,
      width: null,
      height: null,
      filename,
    },
    metadata: summary,
  };
}
