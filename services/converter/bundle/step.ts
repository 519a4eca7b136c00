import { createRequire } from 'node:module';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import type { Archiver, ArchiverError, ZipOptions } from 'archiver';
import type { StepResult } from '../../../shared/bus/worker.ts';
import { DeterministicStepError } from '../../../shared/bus/worker.ts';
import type { RunStep } from '../../../shared/events/events.ts';
import { CONTENT_TYPES } from '../../../shared/events/operations.ts';
import { outputFilename } from '../../../shared/storage/filename.ts';
import type { Storage } from '../../../shared/storage/storage.ts';

type Input = RunStep['inputs'][number];

// archiver 7 is a CommonJS factory; the installed @types describe v8's classes, so only its types are used.
const archiver = createRequire(import.meta.url)('archiver') as (
  format: 'zip',
  options: ZipOptions,
) => Archiver;

/**
 * Streams a ZIP of the step's inputs into storage: each object is fetched only when archiver reaches
 * it and flows S3 → archiver → multipart upload, so neither the inputs nor the ZIP are held in memory.
 * Already-compressed images are stored, not deflated again; anything else (JSON) is deflated.
 */
export async function runBundle(storage: Storage, command: RunStep): Promise<StepResult> {
  if (command.inputs.length === 0) throw new DeterministicStepError('a bundle needs at least one input');
  const archive = archiver('zip', { zlib: { level: 6 } });
  const counter = new ByteCounter();
  archive.on('error', (error: ArchiverError) => counter.destroy(error));
  archive.on('warning', (error: ArchiverError) => counter.destroy(error));
  archive.pipe(counter);
  // archiver does not listen to its sources: a source that fails (a reset S3 connection) ends the ZIP
  // stream with that error, so the upload rejects and the step is retried, instead of an unhandled
  // 'error' event ending the process.
  const fail = (error: Error) => counter.destroy(error);
  for (const entry of entryNames(command.inputs)) {
    archive.append(
      lazy(() => storage.getStream(entry.key), fail),
      { name: entry.name, store: entry.store },
    );
  }
  const filename = outputFilename('bundle', command.originalName, 'zip');
  const upload = storage.putStream(command.outputKey, counter, CONTENT_TYPES.zip, filename);
  try {
    await Promise.all([archive.finalize(), upload]);
  } catch (error) {
    archive.abort();
    counter.destroy();
    throw error;
  }
  return {
    output: {
      key: command.outputKey,
      format: 'zip',
      contentType: CONTENT_TYPES.zip,
      bytes: counter.bytes,
      width: null,
      height: null,
      filename,
    },
    metadata: null,
  };
}

/** Entry names from the inputs' download names, made unique (`a.png`, `a-2.png`) and path-free. */
export function entryNames(
  inputs: readonly Input[],
): Array<Readonly<{ key: string; name: string; store: boolean }>> {
  const used = new Set<string>();
  return inputs.map((input) => {
    const clean = input.filename.replace(/[/\\]/g, '_').replace(/^\.+/, '') || 'file';
    const dot = clean.lastIndexOf('.');
    const [stem, ext] = dot > 0 ? [clean.slice(0, dot), clean.slice(dot)] : [clean, ''];
    let name = clean;
    for (let n = 2; used.has(name); n++) name = `${stem}-${n}${ext}`;
    used.add(name);
    return { key: input.key, name, store: !/\.(json|txt)$/i.test(name) };
  });
}

/** A stream that opens its source on first read (archiver reads entries one after the other). */
function lazy(open: () => Promise<Readable>, onError: (error: Error) => void): Readable {
  const stream = Readable.from(
    (async function* () {
      const source = await open();
      source.on('error', () => {}); // surfaces through the iteration below
      yield* source;
    })(),
    { objectMode: false },
  );
  stream.on('error', onError);
  return stream;
}

class ByteCounter extends Transform {
  bytes = 0;
  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    done(null, chunk);
  }
}
