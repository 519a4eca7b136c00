import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import {
  aperture,
  capturedAt,
  degrees,
  EMPTY_SUMMARY,
  exposure,
  summarizeExif,
} from '../../services/converter/metadata/exif-summary.ts';
import { sampleJpeg } from '../support/images.ts';
import { CAMERA_SUMMARY, cameraJpeg } from './support/images.ts';

describe('EXIF summary', () => {
  it('reads all eight fields from IFD0, the Exif IFD and the GPS IFD of a camera JPEG', async () => {
    const { exif } = await sharp(await cameraJpeg()).metadata();
    assert.deepEqual(summarizeExif(exif), CAMERA_SUMMARY);
  });

  it('gives nulls, not errors, for an image without EXIF or with a broken block', async () => {
    const { exif } = await sharp(await sampleJpeg()).metadata();
    assert.deepEqual(summarizeExif(exif), EMPTY_SUMMARY);
    assert.deepEqual(summarizeExif(Buffer.from('Exif\0\0garbage that is not TIFF')), EMPTY_SUMMARY);
    assert.deepEqual(summarizeExif(undefined), EMPTY_SUMMARY);
  });

  it('writes exposure times as photographers do', () => {
    assert.equal(exposure(1 / 250), '1/250');
    assert.equal(exposure(1 / 3), '1/3');
    assert.equal(exposure(2), '2');
    assert.equal(exposure(2.5), '2.5');
    assert.equal(exposure(0), null);
    assert.equal(exposure(null), null);
  });

  it('takes the f-number, or derives it from the APEX aperture value', () => {
    assert.equal(aperture(2.8, null), 2.8);
    assert.equal(aperture(null, 5), 5.7);
    assert.equal(aperture(null, null), null);
  });

  it('turns degrees/minutes/seconds and a hemisphere into signed decimal degrees', () => {
    assert.equal(degrees([33, 51, 54], 'S', 'S'), -33.865);
    assert.equal(degrees([151, 12, 36], 'E', 'W'), 151.21);
    assert.equal(degrees([0, 30, 0], 'W', 'W'), -0.5);
    assert.equal(degrees(undefined, 'N', 'S'), null);
  });

  it('keeps the capture time local, with the offset when the camera recorded one', () => {
    const date = new Date('2024-05-01T12:34:56Z');
    assert.equal(capturedAt(date, null), '2024-05-01T12:34:56');
    assert.equal(capturedAt(date, '-05:00'), '2024-05-01T12:34:56-05:00');
    assert.equal(capturedAt('2024:05:01 12:34:56', null), '2024-05-01T12:34:56');
    assert.equal(capturedAt('0000:00:00 00:00:00', null), null);
    assert.equal(capturedAt(undefined, null), null);
  });
});
