import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { boundaryOf, PartHeaderScrubber } from './part-headers.ts';

const B = 'xyz';
const body = Buffer.concat([
  Buffer.from(
    `--${B}\r\nContent-Disposition: form-data; name="file"; filename="\u00fc\u0007\u001b.png"\r\n\r\n`,
  ),
  Buffer.from([0x00, 0x07, 0x1b, 0x0d, 0x0a, 0x7f]), // file data keeps its control bytes
  Buffer.from(
    `\r\n--${B}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n["webp"]\r\n--${B}--\r\n`,
  ),
]);
const expected = Buffer.from(
  body
    .toString('latin1')
    .replace('\u0007\u001b.png', '\ufffd\ufffd.png'.replace(/\ufffd/g, '\u00ef\u00bf\u00bd')),
  'latin1',
);

describe('part header scrubber', () => {
  it('replaces control bytes in part headers only, however the body is cut into chunks', () => {
    for (let cut = 0; cut <= body.length; cut++) {
      for (const size of [1, 3, 7, body.length]) {
        const scrubber = new PartHeaderScrubber(B);
        const out: Buffer[] = [...scrubber.push(body.subarray(0, cut))];
        for (let at = cut; at < body.length; at += size)
          out.push(...scrubber.push(body.subarray(at, at + size)));
        assert.deepEqual(Buffer.concat(out), expected, `cut ${cut}, chunks of ${size}`);
      }
    }
  });

  it('reads the boundary parameter, quoted or not', () => {
    assert.equal(boundaryOf('multipart/form-data; boundary=abc'), 'abc');
    assert.equal(boundaryOf('multipart/form-data; boundary="a b"; charset=utf-8'), 'a b');
    assert.equal(boundaryOf('multipart/form-data'), null);
  });
});
