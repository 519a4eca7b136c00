import sharp, { type Metadata, type Sharp } from 'sharp';
import { DeterministicStepError } from '../../../shared/bus/worker.ts';
import { CONTENT_TYPES, type ImageFormat, type ResizeBox } from '../../../shared/events/operations.ts';
import { resizedSize, resizeOptions } from '../../../shared/plan/size.ts';
import { type EncodeMode, encode, encoderSettings } from './encode.ts';
import { exifPlan } from './exif-strip.ts';

export type ConvertLimits = Readonly<{ maxInputPixels: number; maxOutputPixels: number; keepGps: boolean }>;
export type ConvertRequest = Readonly<{
  format: ImageFormat;
  mode: EncodeMode;
  quality?: number;
  resize?: ResizeBox;
}>;

export type Converted = Readonly<{
  data: Buffer;
  format: ImageFormat;
  contentType: string;
  width: number;
  height: number;
}>;

/** Opens an image for decoding: first frame only, pixel limit enforced, corrupt data is an error. */
export function openImage(input: Buffer, maxInputPixels: number): Sharp {
  return sharp(input, { limitInputPixels: maxInputPixels, failOn: 'error', pages: 1 });
}

/** Runs a sharp call; anything it throws is about the image itself, so it is deterministic. */
export async function decoding<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw new DeterministicStepError(`cannot decode image: ${(error as Error).message}`);
  }
}

/**
 * Orientation first, then the optional resize (the box's fit, `fill` by default: exactly the size
 * asked for, as the reference does), then the encoder.
 * Animated input yields its first frame. ICC and EXIF follow `keepMetadata`'s policy.
 */
export async function convertImage(
  input: Buffer,
  request: ConvertRequest,
  limits: ConvertLimits,
  /** Called once the header is read and the sizes are allowed, before decoding and encoding. */
  onEncode?: (size: Readonly<{ width: number; height: number }>) => void,
): Promise<Converted> {
  const image = openImage(input, limits.maxInputPixels);
  const meta = await decoding(() => image.metadata());
  checkSizes(meta, request.resize, limits);
  onEncode?.({ width: meta.width, height: meta.height });
  let pipeline = keepMetadata(image.rotate(), meta, limits.keepGps);
  if (request.resize) pipeline = pipeline.resize(resizeOptions(request.resize));
  const settings = encoderSettings(request.format, request.mode, request.quality);
  const { data, info } = await decoding(() =>
    encode(pipeline, settings).toBuffer({ resolveWithObject: true }),
  );
  const format = request.format;
  return { data, format, contentType: CONTENT_TYPES[format], width: info.width, height: info.height };
}

/** The input's pixel limit is sharp's own (`limitInputPixels`, checked on the header); this is the output's. */
function checkSizes(meta: Metadata, resize: ResizeBox | undefined, limits: ConvertLimits): void {
  const oriented = { width: meta.autoOrient.width, height: meta.autoOrient.height };
  const { width, height } = resize === undefined ? oriented : resizedSize(oriented, resize);
  if (width * height > limits.maxOutputPixels) {
    throw new DeterministicStepError(
      `output of ${width}x${height} exceeds the limit of ${limits.maxOutputPixels} pixels`,
    );
  }
}

/**
 * ICC: an RGB or grey profile is kept as is (pixels untouched, wide gamut survives); CMYK, which the web
 * formats cannot carry, is converted to sRGB with an sRGB profile attached. EXIF: kept, minus the GPS
 * directory unless `keepGps`; EXIF that cannot be parsed (so GPS cannot be ruled out) is dropped.
 */
export function keepMetadata(image: Sharp, meta: Metadata, keepGps: boolean): Sharp {
  let out = image;
  if (meta.icc) out = meta.space === 'cmyk' ? out.withIccProfile('srgb') : out.keepIccProfile();
  if (!meta.exif) return out;
  const plan = exifPlan(meta.exif, keepGps);
  if (plan === 'drop') return out;
  return plan === 'keep' ? out.keepExif() : out.withExif(plan);
}
