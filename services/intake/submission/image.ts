import sharp from 'sharp';
import type { ImageFormat } from '../../../shared/events/operations.ts';
import { ApiError } from '../errors.ts';
import { sniffImage } from '../sniff.ts';
import { clip } from './quote.ts';

export type UploadedImage = Readonly<{ format: ImageFormat; width: number; height: number }>;

const ACCEPTED = 'accepted are JPEG, PNG, WebP and AVIF';

/**
 * Rule 4: the type is decided by sniffing the bytes, never by the declared type; the header must be
 * readable. Then the decompression-bomb guard: the pixel count comes from the header alone, so an
 * oversized image is refused before a single pixel is decoded.
 */
export async function inspectImage(
  bytes: Buffer,
  declared: string,
  maxInputPixels: number,
): Promise<UploadedImage> {
  const sniffed = await sniffImage(bytes);
  if (!('format' in sniffed)) {
    const found =
      sniffed.found === 'unknown'
        ? `unrecognised content (sent as ${clip(declared || 'no type', 60)})`
        : sniffed.found;
    throw new ApiError(400, `Unsupported file type: ${found}; ${ACCEPTED}`);
  }
  const header = await sharp(bytes, { limitInputPixels: false })
    .metadata()
    .catch((error: Error) => {
      throw new ApiError(
        400,
        `Unsupported file type: unreadable ${sniffed.format} header (${clip(error.message)})`,
      );
    });
  const width = header.width ?? 0;
  const height = header.height ?? 0;
  if (width * height > maxInputPixels) {
    const limit = `${Number((maxInputPixels / 1e6).toFixed(2))} megapixel`;
    throw new ApiError(413, `Image exceeds the ${limit} limit (${width}x${height})`);
  }
  const swap = (header.orientation ?? 1) >= 5;
  return { format: sniffed.format, width: swap ? height : width, height: swap ? width : height };
}
