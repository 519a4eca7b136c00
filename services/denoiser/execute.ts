import sharp from 'sharp';
import type { StepContext, StepResult } from '../../shared/bus/worker.ts';
import { DeterministicStepError } from '../../shared/bus/worker.ts';
import type { RunStep } from '../../shared/events/events.ts';
import { CONTENT_TYPES } from '../../shared/events/operations.ts';
import { resizeOptions } from '../../shared/plan/size.ts';
import { outputFilename } from '../../shared/storage/filename.ts';
import type { Storage } from '../../shared/storage/storage.ts';
import { denoiseImage } from './inference/denoise.ts';
import type { DenoiseSession } from './inference/session.ts';
import { DenoiseParams } from './params.ts';

export type Sessions = Readonly<{ blind: DenoiseSession; clip: DenoiseSession }>;

export type DenoiseDeps = Readonly<{
  storage: Storage;
  /** null when the model files could not be prepared: steps then fail with the reason. */
  sessions: Sessions | null;
  unavailableReason: string;
  tileSize: number;
  maxInputPixels: number;
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

async function encodePng(image: Decoded, denoised: Buffer, params: DenoiseParams) {
  const raw = { width: image.width, height: image.height };
  let out = sharp(denoised, { raw: { ...raw, channels: 3 } });
  if (image.alpha !== null) out = out.joinChannel(image.alpha, { raw: { ...raw, channels: 1 } });
  if (params.resize) {
    // resize needs a materialised image: the joined channels first, then the resize
    const joined = await out.png({ compressionLevel: 1 }).toBuffer();
    out = sharp(joined).resize(resizeOptions(params.resize));
  }
  return out.png({ compressionLevel: 6 }).toBuffer({ resolveWithObject: true });
}

/** Runs one `denoise` step: DnCNN, tiled, then a lossless PNG. */
export function executeDenoise(deps: DenoiseDeps) {
  return async (command: RunStep, context: StepContext): Promise<StepResult> => {
    if (command.op !== 'denoise')
      throw new DeterministicStepError(`the denoiser cannot run "${command.op}" steps`);
    const parsed = DenoiseParams.safeParse(command.params);
    if (!parsed.success)
      throw new DeterministicStepError(`invalid denoise parameters: ${parsed.error.message}`);
    if (deps.sessions === null) throw new DeterministicStepError(deps.unavailableReason);
    const input = command.inputs[0];
    if (input === undefined) throw new DeterministicStepError('step has no input');
    const image = await decode(await deps.storage.get(input.key), deps.maxInputPixels);
    context.heartbeat();
    let denoised: Buffer;
    try {
      const params = parsed.data;
      denoised = await denoiseImage(
        deps.sessions[params.model],
        { ...image, data: image.rgb },
        {
          model: params.model,
          sigma: params.sigma,
          tileSize: deps.tileSize,
        },
      );
    } catch (error) {
      throw new DeterministicStepError(`denoising failed: ${(error as Error).message}`);
    }
    context.heartbeat();
    const { data, info } = await encodePng(image, denoised, parsed.data);
    const filename = outputFilename('denoise', command.originalName, 'png');
    await deps.storage.put(command.outputKey, data, CONTENT_TYPES.png, filename);
    return {
      output: {
        key: command.outputKey,
        format: 'png',
        contentType: CONTENT_TYPES.png,
        bytes: data.length,
        width: info.width,
        height: info.height,
        filename,
      },
      metadata: null,
    };
  };
}
