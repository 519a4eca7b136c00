import sharp, { type Sharp } from 'sharp';
import { DeterministicStepError } from '../../../shared/bus/worker.ts';
import { CONTENT_TYPES, type ImageFormat } from '../../../shared/events/operations.ts';

export type ConvertParams = Readonly<{
  quality?: number;
  resize?: Readonly<{ width?: number; height?: number }>;
}>;

export type Converted = Readonly<{
  data: Buffer;
  format: ImageFormat;
  contentType: string;
  width: number;
  height: number;
}>;

/** Encoder settings per format: chosen for throughput at a sensible size. */
function encode(image: Sharp, format: ImageFormat, quality: number | undefined): Sharp {
  switch (format) {
    case 'jpg':
      return image.flatten({ background: '#ffffff' }).jpeg({ quality: quality ?? 85, mozjpeg: false });
    case 'png':
      return image.png({ compressionLevel: 6 });
    case 'webp':
      return image.webp({ quality: quality ?? 80, effort: 4 });
    case 'avif':
      return image.avif({ quality: 50, effort: 2 });
    default: {
      const never: never = format;
      throw new Error(`unknown format ${String(never)}`);
    }
  }
}

/** Decodes (first frame, orientation applied), optionally resizes, and encodes to `format`. */
export async function convertImage(
  input: Buffer,
  format: ImageFormat,
  params: ConvertParams,
  limitInputPixels: number,
): Promise<Converted> {
  let image = sharp(input, { limitInputPixels, failOn: 'error', pages: 1 }).rotate();
  if (params.resize && (params.resize.width || params.resize.height)) {
    image = image.resize({ width: params.resize.width, height: params.resize.height, fit: 'inside' });
  }
  try {
    const { data, info } = await encode(image, format, params.quality).toBuffer({ resolveWithObject: true });
    return { data, format, contentType: CONTENT_TYPES[format], width: info.width, height: info.height };
  } catch (error) {
    throw new DeterministicStepError(`cannot process image: ${(error as Error).message}`);
  }
}
