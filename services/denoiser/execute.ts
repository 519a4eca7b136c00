import sharp, { type Sharp } from 'sharp';
import type { StepContext, StepResult } from '../../shared/bus/worker.ts';
import { DeterministicStepError } from '../../shared/bus/worker.ts';
import type { RunStep } from '../../shared/events/events.ts';
import { CONTENT_TYPES } from '../../shared/events/operations.ts';
import { resizeOptions } from '../../shared/plan/size.ts';
import { outputFilename } from '../../shared/storage/filename.ts';
import type { Storage } from '../../shared/storage/storage.ts';
import { denoiseImage } from './inference/denoise.ts';
import { DenoiseParams } from './params.ts';
import { chooseSession, type IoIdleProbe, type SessionPair } from './threads.ts';

export type ServedModel = DenoiseParams['model'];
/** Per model: its sessions, or why it is unavailable (the step then fails with that reason). */
export type Sessions = Readonly<Record<ServedModel, SessionPair | string>>;

export type DenoiseDeps = Readonly<{
  storage: Storage;
  sessions: Sessions;
  tileSize: number;
  maxInputPixels: number;
  /** Whether the io queue is idle (the thread policy, see threads.ts). */
  ioIdle: IoIdleProbe;
}>;

type Decoded = Readonly<{ rgb: Buffer; alpha: Buffer | null; width: number; height: number }>;

/** Decodes with orientation applied, in sRGB; an alpha channel is kept aside, untouched by the network. */
async function decode(input: Buffer, limitInputPixels: number): Promise<Decoded> {
  const base = () =>
    sharp(input, { limitInputPixels, failOn: 'error', pages: 1 }).rotate().toColourspace('srgb');
  try {
    const { data, info } = await base().removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const meta = await sharp(input, { limitInputPixels }).metadata();
    const alpha = meta.hasAlpha ? await base().extractChannel('alpha').raw().toBuffer() : null;
    return { rgb: data, alpha, width: info.width, height: info.height };
  } catch (error) {
    throw new DeterministicStepError(`cannot decode image: ${(error as Error).message}`);
  }
}

type Format = DenoiseParams['format'];

/** PNG (compression 6), lossless WebP/AVIF, or JPEG at quality 95. */
function encodeAs(image: Sharp, format: Format): Sharp {
  switch (format) {
    case 'png':
      return image.png({ compressionLevel: 6 });
    case 'webp':
      return image.webp({ lossless: true, effort: 4 });
    case 'avif':
      return image.avif({ lossless: true, effort: 4 });
    case 'jpg':
      return image.jpeg({ quality: 95, mozjpeg: true });
    default: {
      const never: never = format;
      throw new Error(`unknown format ${String(never)}`);
    }
  }
}

async function encodeOutput(image: Decoded, denoised: Buffer, params: DenoiseParams) {
  const raw = { width: image.width, height: image.height };
  let out = sharp(denoised, { raw: { ...raw, channels: 3 } });
  if (image.alpha !== null) out = out.joinChannel(image.alpha, { raw: { ...raw, channels: 1 } });
  if (params.resize) {
    // resize needs a materialised image: the joined channels first, then the resize
    const joined = await out.png({ compressionLevel: 1 }).toBuffer();
    out = sharp(joined).resize(resizeOptions(params.resize));
  }
  return encodeAs(out, params.format).toBuffer({ resolveWithObject: true });
}

/** Runs one `denoise` step: DnCNN or FFDNet, tiled, then PNG (or the chosen `format`). */
export function executeDenoise(deps: DenoiseDeps) {
  return async (command: RunStep, context: StepContext): Promise<StepResult> => {
    if (command.op !== 'denoise')
      throw new DeterministicStepError(`the denoiser cannot run "${command.op}" steps`);
    const parsed = DenoiseParams.safeParse(command.params);
    if (!parsed.success)
      throw new DeterministicStepError(`invalid denoise parameters: ${parsed.error.message}`);
    const pair = deps.sessions[parsed.data.model];
    if (typeof pair === 'string') throw new DeterministicStepError(pair);
    const input = command.inputs[0];
    if (input === undefined) throw new DeterministicStepError('step has no input');
    const image = await decode(await deps.storage.get(input.key), deps.maxInputPixels);
    context.heartbeat();
    let denoised: Buffer;
    const params = parsed.data;
    try {
      denoised = await denoiseImage(
        chooseSession(pair, deps.ioIdle),
        { ...image, data: image.rgb },
        {
          model: params.model,
          sigma: params.sigma,
          tileSize: deps.tileSize,
          onProgress: (done, total) => {
            context.heartbeat();
            context.progress(done, total, 'tile');
          },
        },
      );
    } catch (error) {
      throw new DeterministicStepError(`denoising failed: ${(error as Error).message}`);
    }
    context.heartbeat();
    const { data, info } = await encodeOutput(image, denoised, params);
    const filename = outputFilename('denoise', command.originalName, params.format);
    const contentType = CONTENT_TYPES[params.format];
    await deps.storage.put(command.outputKey, data, contentType, filename);
    return {
      output: {
        key: command.outputKey,
        format: params.format,
        contentType,
        bytes: data.length,
        width: info.width,
        height: info.height,
        filename,
      },
      metadata: null,
    };
  };
}
