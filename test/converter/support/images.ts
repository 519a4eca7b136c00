import sharp from 'sharp';
import { samplePng } from '../../support/images.ts';

/** The eight summary fields as a camera would write them, and what the summary must read back. */
export const CAMERA_EXIF = {
  IFD0: { Make: 'Canon', Model: 'Canon EOS R5', Software: 'PixTools test', Copyright: 'Jane Doe' },
  IFD2: {
    LensModel: 'RF24-70mm F2.8 L IS USM',
    DateTimeOriginal: '2024:05:01 12:34:56',
    OffsetTimeOriginal: '+02:00',
    ExposureTime: '1/250',
    FNumber: '28/10',
    ISOSpeedRatings: '400',
  },
  IFD3: {
    GPSLatitudeRef: 'S',
    GPSLatitude: '33/1 51/1 5400/100',
    GPSLongitudeRef: 'E',
    GPSLongitude: '151/1 12/1 3600/100',
    GPSAltitudeRef: '0',
    GPSAltitude: '585/10',
  },
} as const;

export const CAMERA_SUMMARY = {
  camera_make: 'Canon',
  camera_model: 'Canon EOS R5',
  lens_model: 'RF24-70mm F2.8 L IS USM',
  captured_at: '2024-05-01T12:34:56+02:00',
  exposure_time: '1/250',
  aperture: 2.8,
  iso: 400,
  gps: { latitude: -33.865, longitude: 151.21, altitude: 58.5 },
} as const;

/** A JPEG carrying every summary field, GPS included (sharp writes IFD3 = the GPS directory). */
export async function cameraJpeg(width = 64, height = 48): Promise<Buffer> {
  return sharp(await samplePng(width, height))
    .withExif(structuredClone(CAMERA_EXIF) as never)
    .jpeg()
    .toBuffer();
}

/** A landscape JPEG whose EXIF says "rotate 90° clockwise to display" (orientation 6). */
export async function orientedJpeg(width = 64, height = 48): Promise<Buffer> {
  return sharp(await samplePng(width, height))
    .withMetadata({ orientation: 6 })
    .jpeg()
    .toBuffer();
}

/** A PNG whose left half is fully transparent. */
export async function halfTransparentPng(): Promise<Buffer> {
  const pixels = Buffer.alloc(20 * 10 * 4);
  for (let i = 0; i < 20 * 10; i++) pixels.set(i % 20 < 10 ? [0, 0, 0, 0] : [0, 0, 255, 255], i * 4);
  return sharp(pixels, { raw: { width: 20, height: 10, channels: 4 } })
    .png()
    .toBuffer();
}

/** A three-frame animated WebP (red, green, blue), 10x10 each. */
export async function animatedWebp(): Promise<Buffer> {
  const pixels = Buffer.alloc(10 * 30 * 3);
  for (let i = 0; i < 10 * 30; i++) pixels[i * 3 + Math.floor(i / 100)] = 255;
  return sharp(pixels, { raw: { width: 10, height: 30, channels: 3, pageHeight: 10 } })
    .webp({ loop: 0, delay: [100, 100, 100], lossless: true })
    .toBuffer();
}

/** The first bytes of a real PNG with garbage after them. */
export async function corruptPng(): Promise<Buffer> {
  const good = await samplePng(64, 48);
  const bad = Buffer.from(good);
  bad.fill(0x5a, 60);
  return bad;
}
