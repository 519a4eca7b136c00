import sharp from 'sharp';
import { samplePng } from '../../support/images.ts';

/** What `photoWithExif` writes, as the API reports it. */
export const EXPECTED_EXIF = {
  camera_make: 'Canon',
  camera_model: 'Canon EOS R5',
  lens_model: 'RF24-70mm F2.8 L IS USM',
  captured_at: '2024-05-01T12:34:56',
  exposure_time: '1/250',
  aperture: 2.8,
  iso: 400,
  gps: { latitude: 52.516389, longitude: -13.41, altitude: 35 },
} as const;

/**
 * A JPEG carrying every field the metadata operation reads, each in the directory a camera writes it
 * to: make/model in IFD0, exposure, aperture, ISO, lens and capture time in the Exif IFD, position in
 * the GPS IFD. Optionally with an EXIF orientation (6 = the camera was turned clockwise).
 */
export async function photoWithExif(
  options: { width?: number; height?: number; orientation?: number } = {},
): Promise<Buffer> {
  const image = sharp(await samplePng(options.width ?? 64, options.height ?? 48)).withExif({
    IFD0: { Make: 'Canon', Model: 'Canon EOS R5' },
    IFD2: {
      ExposureTime: '1/250',
      FNumber: '28/10',
      ISOSpeedRatings: '400',
      DateTimeOriginal: '2024:05:01 12:34:56',
      LensModel: 'RF24-70mm F2.8 L IS USM',
    },
    IFD3: {
      GPSLatitudeRef: 'N',
      GPSLatitude: '52/1 30/1 59/1',
      GPSLongitudeRef: 'W',
      GPSLongitude: '13/1 24/1 36/1',
      GPSAltitudeRef: '0',
      GPSAltitude: '35/1',
    },
  });
  const oriented = options.orientation ? image.withMetadata({ orientation: options.orientation }) : image;
  return oriented.jpeg({ quality: 90 }).toBuffer();
}

/** A two-frame animated WebP: a red frame, then a blue one. */
export async function animatedWebp(): Promise<Buffer> {
  const frame = (background: string) =>
    sharp({ create: { width: 20, height: 10, channels: 3, background } })
      .png()
      .toBuffer();
  return sharp([await frame('#ff0000'), await frame('#0000ff')], { join: { animated: true } })
    .webp({ lossless: true })
    .toBuffer();
}

/** A PNG whose header claims `width`×`height` pixels but carries almost no data: a decompression bomb. */
export async function pngClaiming(width: number, height: number): Promise<Buffer> {
  const { crc32 } = await import('node:zlib');
  const png = Buffer.from(await samplePng(8, 8));
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)) >>> 0, 29);
  return png;
}

/** A PNG cut in half: its header reads fine, its pixels do not. */
export async function truncatedPng(): Promise<Buffer> {
  const png = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#8a3' } })
    .png({ compressionLevel: 0 })
    .toBuffer();
  return png.subarray(0, Math.floor(png.length / 2));
}
