import type { AvifOptions, JpegOptions, PngOptions, Sharp, WebpOptions } from 'sharp';
import type { ImageFormat } from '../../../shared/events/operations.ts';

/** `convert`: a jpg/png/webp/avif step (size matters); `resize`: keep the input's format, near-losslessly. */
export type EncodeMode = 'convert' | 'resize';

export type EncoderSettings =
  | Readonly<{ format: 'jpg'; id: 'jpeg'; options: JpegOptions }>
  | Readonly<{ format: 'png'; id: 'png'; options: PngOptions }>
  | Readonly<{ format: 'webp'; id: 'webp'; options: WebpOptions }>
  | Readonly<{ format: 'avif'; id: 'avif'; options: AvifOptions }>;

/**
 * Encoder settings per format, chosen for throughput at a sensible size (docs/CONVERSIONS.md has the
 * measurements): libjpeg-turbo without mozjpeg's trellis passes, zlib level 6 without adaptive
 * filtering, WebP effort 4 (libwebp's default), AVIF effort 3: on this machine it encodes ~5x faster than
 * the default 4 for files ~15-20 % larger, and beats effort 2 on both size and PSNR.
 * `quality` is honoured for jpg and webp only.
 */
export function encoderSettings(format: ImageFormat, mode: EncodeMode, quality?: number): EncoderSettings {
  const resize = mode === 'resize';
  switch (format) {
    case 'jpg':
      return { format, id: 'jpeg', options: { quality: quality ?? (resize ? 90 : 85), mozjpeg: false } };
    case 'png':
      return { format, id: 'png', options: { compressionLevel: 6, adaptiveFiltering: false } };
    case 'webp':
      return { format, id: 'webp', options: { quality: quality ?? (resize ? 90 : 80), effort: 4 } };
    case 'avif':
      return { format, id: 'avif', options: { quality: resize ? 70 : 50, effort: 3 } };
    default: {
      const never: never = format;
      throw new Error(`unknown format ${String(never)}`);
    }
  }
}

/** Applies the settings; JPEG has no alpha channel, so transparency is flattened onto white first. */
export function encode(image: Sharp, settings: EncoderSettings): Sharp {
  const flattened = settings.format === 'jpg' ? image.flatten({ background: '#ffffff' }) : image;
  return flattened.toFormat(settings.id, settings.options);
}
