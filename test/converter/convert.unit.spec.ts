import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import exifReader from 'exif-reader';
import sharp from 'sharp';
import { type ConvertLimits, convertImage } from '../../services/converter/convert/convert.ts';
import { DeterministicStepError } from '../../shared/bus/worker.ts';
import type { ResizeBox } from '../../shared/events/operations.ts';
import { samplePng } from '../support/images.ts';
import { animatedWebp, cameraJpeg, corruptPng, halfTransparentPng, orientedJpeg } from './support/images.ts';

const limits: ConvertLimits = { maxInputPixels: 100_000_000, maxOutputPixels: 100_000_000, keepGps: false };
const exifOf = async (image: Buffer) => {
  const { exif } = await sharp(image).metadata();
  assert.ok(exif, 'the output carries EXIF');
  return exifReader(exif);
};

describe('convertImage', () => {
  it('applies EXIF orientation first: a landscape JPEG tagged 6 comes out portrait, tag reset', async () => {
    const out = await convertImage(await orientedJpeg(64, 48), { format: 'png', mode: 'convert' }, limits);
    assert.deepEqual([out.width, out.height], [48, 64]);
    const meta = await sharp(out.data).metadata();
    assert.deepEqual([meta.format, meta.width, meta.height], ['png', 48, 64]);
    assert.ok((meta.orientation ?? 1) === 1, 'no orientation left to apply twice');
  });

  it('keeps EXIF but strips the GPS directory by default', async () => {
    const out = await convertImage(await cameraJpeg(), { format: 'webp', mode: 'convert' }, limits);
    const exif = await exifOf(out.data);
    assert.equal(exif.GPSInfo, undefined);
    assert.equal(exif.Image?.GPSTag, undefined);
    assert.equal(exif.Image?.Make, 'Canon');
    assert.equal(exif.Image?.Copyright, 'Jane Doe');
    assert.equal(exif.Photo?.LensModel, 'RF24-70mm F2.8 L IS USM');
    assert.equal(exif.Photo?.ExposureTime, 1 / 250);
    assert.equal(exif.Photo?.FNumber, 2.8);
    assert.equal(exif.Photo?.ISOSpeedRatings, 400);
    assert.equal(exif.Photo?.DateTimeOriginal?.toISOString(), '2024-05-01T12:34:56.000Z');
    assert.ok(!out.data.includes(Buffer.from('GPS')), 'no GPS bytes anywhere in the file');
  });

  it('keeps GPS when configured to', async () => {
    const out = await convertImage(
      await cameraJpeg(),
      { format: 'jpg', mode: 'convert' },
      { ...limits, keepGps: true },
    );
    const exif = await exifOf(out.data);
    assert.deepEqual(exif.GPSInfo?.GPSLatitude, [33, 51, 54]);
  });

  it('keeps an RGB ICC profile as is and converts CMYK to sRGB', async () => {
    const base = sharp({ create: { width: 16, height: 8, channels: 3, background: '#3080c0' } });
    const p3 = await base.clone().withIccProfile('p3').png().toBuffer();
    const p3Out = await convertImage(p3, { format: 'avif', mode: 'convert' }, limits);
    const source = await sharp(p3).metadata();
    assert.ok(source.icc && (await sharp(p3Out.data).metadata()).icc?.equals(source.icc), 'same profile');
    const cmyk = await base.clone().withIccProfile('cmyk').jpeg().toBuffer();
    assert.equal((await sharp(cmyk).metadata()).space, 'cmyk');
    const cmykOut = await convertImage(cmyk, { format: 'webp', mode: 'convert' }, limits);
    const out = await sharp(cmykOut.data).metadata();
    assert.deepEqual([out.space, out.channels, out.hasProfile], ['srgb', 3, true]);
  });

  it('flattens alpha onto white for JPEG', async () => {
    const out = await convertImage(await halfTransparentPng(), { format: 'jpg', mode: 'convert' }, limits);
    const { data } = await sharp(out.data).raw().toBuffer({ resolveWithObject: true });
    assert.ok(
      [data[0], data[1], data[2]].every((v) => (v ?? 0) > 245),
      `white, got ${data.subarray(0, 3)}`,
    );
  });

  it('takes the first frame of an animated image', async () => {
    const out = await convertImage(await animatedWebp(), { format: 'png', mode: 'convert' }, limits);
    assert.deepEqual([out.width, out.height], [10, 10]);
    const { channels } = await sharp(out.data).stats();
    assert.ok((channels[0]?.mean ?? 0) > 200 && (channels[1]?.mean ?? 255) < 50, 'red: the first frame');
  });

  it('resizes to exactly the box by default, inside or outside it on request, one side keeping the ratio', async () => {
    const png = await samplePng(64, 48);
    const sizeOf = async (resize: ResizeBox) => {
      const out = await convertImage(png, { format: 'png', mode: 'resize', resize }, limits);
      const meta = await sharp(out.data).metadata();
      assert.deepEqual([meta.width, meta.height], [out.width, out.height]);
      return [out.width, out.height];
    };
    assert.deepEqual(await sizeOf({ width: 32 }), [32, 24]);
    assert.deepEqual(await sizeOf({ width: 32, fit: 'fill' }), [32, 24]);
    assert.deepEqual(await sizeOf({ width: 100, height: 30 }), [100, 30]);
    assert.deepEqual(await sizeOf({ width: 100, height: 30, fit: 'inside' }), [40, 30]);
    assert.deepEqual(await sizeOf({ width: 100, height: 30, fit: 'outside' }), [100, 75]);
    assert.deepEqual(
      await sizeOf({ width: 100, height: 30, fit: 'cover', position: 'attention' }),
      [100, 30],
    );
    assert.deepEqual(await sizeOf({ width: 100, height: 30, fit: 'contain' }), [100, 30]);
  });

  it('refuses corrupt and truncated images deterministically, with a message', async () => {
    const cases = [await corruptPng(), (await cameraJpeg(400, 300)).subarray(0, 2000), Buffer.from('hello')];
    for (const input of cases) {
      await assert.rejects(
        convertImage(input, { format: 'webp', mode: 'convert' }, limits),
        (error) => error instanceof DeterministicStepError && /^cannot decode image: /.test(error.message),
      );
    }
  });

  it('refuses images above the pixel limit before decoding, and outputs above the output limit', async () => {
    const png = await samplePng(64, 48);
    await assert.rejects(
      convertImage(png, { format: 'webp', mode: 'convert' }, { ...limits, maxInputPixels: 1000 }),
      (error) =>
        error instanceof DeterministicStepError &&
        /^cannot decode image: Input image exceeds pixel limit/.test(error.message),
    );
    await assert.rejects(
      convertImage(png, { format: 'webp', mode: 'convert', resize: { width: 20_000 } }, limits),
      (error) =>
        error instanceof DeterministicStepError &&
        error.message === 'output of 20000x15000 exceeds the limit of 100000000 pixels',
    );
  });
});
