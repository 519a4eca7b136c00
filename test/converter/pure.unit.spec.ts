import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { entryNames } from '../../services/converter/bundle/step.ts';
import { encoderSettings } from '../../services/converter/convert/encode.ts';
import { numberString, tagString } from '../../services/converter/convert/exif-strip.ts';
import { InvalidMessageError, parseRunStep } from '../../shared/events/events.ts';
import { LossyParams, ResizeBox } from '../../shared/events/operations.ts';
import { resizedSize } from '../../shared/plan/size.ts';
import { outputFilename } from '../../shared/storage/filename.ts';

describe('converter pure parts', () => {
  it('names downloads as the reference did', () => {
    assert.equal(outputFilename('webp', 'holiday/IMG 1.JPG', 'webp'), 'pixtools_webp_IMG 1.webp');
    assert.equal(outputFilename('metadata', 'a.b.png', 'json'), 'pixtools_metadata_a.b.json');
    assert.equal(outputFilename('bundle', '', 'zip'), 'pixtools_bundle_image.zip');
  });

  it('chooses encoders for throughput; quality applies to jpg and webp only', () => {
    assert.deepEqual(encoderSettings('jpg', 'convert').options, { quality: 85, mozjpeg: false });
    assert.deepEqual(encoderSettings('jpg', 'convert', 60).options, { quality: 60, mozjpeg: false });
    assert.deepEqual(encoderSettings('jpg', 'resize').options, { quality: 90, mozjpeg: false });
    assert.deepEqual(encoderSettings('webp', 'convert', 70).options, { quality: 70, effort: 4 });
    assert.deepEqual(encoderSettings('avif', 'convert', 90).options, { quality: 50, effort: 3 });
    assert.deepEqual(encoderSettings('avif', 'resize').options, { quality: 70, effort: 3 });
    assert.equal(encoderSettings('png', 'resize').id, 'png');
  });

  it('receives step parameters checked by the shared schemas: bad ones are invalid messages', () => {
    assert.deepEqual(LossyParams.parse({ quality: 50, extra: 1 }), { quality: 50 });
    assert.deepEqual(ResizeBox.parse({ width: 50 }), { width: 50 });
    const command = (op: string, params: unknown) =>
      new TextEncoder().encode(
        JSON.stringify({
          jobId: '7b0c4b9e-3f7e-4b61-9a43-5c1d1b2d9f10',
          stepId: 's',
          op,
          params,
          inputs: [],
          outputKey: 'k',
          originalName: 'a.png',
          correlationId: 'c',
          dispatchEventId: 'd',
        }),
      );
    assert.equal(parseRunStep(command('webp', { quality: 50 })).op, 'webp');
    for (const [op, params] of [
      ['webp', { quality: 0 }],
      ['webp', { resize: {} }],
      ['avif', { quality: 50 }],
      ['resize', { width: -1 }],
      ['resize', {}],
    ] as const) {
      assert.throws(() => parseRunStep(command(op, params)), InvalidMessageError);
    }
  });

  it('computes the size a resize produces: fill by default, inside on request', () => {
    const source = { width: 64, height: 48 };
    assert.deepEqual(resizedSize(source, { width: 32 }), { width: 32, height: 24 });
    assert.deepEqual(resizedSize(source, { height: 96 }), { width: 128, height: 96 });
    assert.deepEqual(resizedSize(source, { width: 100, height: 30 }), { width: 100, height: 30 });
    assert.deepEqual(resizedSize(source, { width: 100, height: 30, fit: 'inside' }), {
      width: 40,
      height: 30,
    });
  });

  it('writes EXIF values back in the textual forms libvips parses', () => {
    assert.equal(numberString(1 / 3), '1/3');
    assert.equal(numberString(0.004), '1/250');
    assert.equal(numberString(-1 / 3), '-1/3');
    assert.equal(numberString(400), '400');
    assert.equal(tagString('DateTime', new Date('2024-05-01T12:34:56Z')), '2024:05:01 12:34:56');
    assert.equal(tagString('XPComment', [104, 0, 105, 0, 0, 0]), 'hi');
    assert.equal(tagString('UserComment', Buffer.from('ASCII\0\0\0hello')), 'hello');
    assert.equal(tagString('Make', 'Canon\0'), 'Canon');
  });

  it('names ZIP entries after the downloads, unique and without paths', () => {
    const input = (filename: string) => ({ from: 's', key: `k/${filename}`, format: 'x', filename });
    const names = entryNames([input('a.png'), input('a.png'), input('../m.json'), input('b')]);
    assert.deepEqual(
      names.map((entry) => [entry.name, entry.store]),
      [
        ['a.png', true],
        ['a-2.png', true],
        ['_m.json', false],
        ['b', true],
      ],
    );
  });
});
