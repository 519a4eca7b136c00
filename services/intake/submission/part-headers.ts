/** What a control character in a part header becomes: U+FFFD, which `safeFilename` drops. */
const REPLACEMENT = Buffer.from('\ufffd');
const isControl = (byte: number) =>
  (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) || byte === 0x7f;

/**
 * Browsers and HTTP libraries send a file's name as it is, control characters included
 * (`filename="ü\u0007.png"`), and busboy refuses such a part header. This rewrites, in the part headers
 * only (from a `--boundary` line to the blank line), every control byte to U+FFFD, so the name arrives
 * and is sanitised like any other; file data passes through untouched. Fed chunk by chunk.
 */
export class PartHeaderScrubber {
  private readonly delimiter: Buffer;
  private inHeaders = false;
  private tail = Buffer.alloc(0);
  private emitted = 0;

  constructor(boundary: string) {
    this.delimiter = Buffer.from(`--${boundary}`);
  }

  /** Returns the bytes that are safe to pass on now; a few are held back until the next chunk. */
  push(chunk: Uint8Array): Buffer {
    return this.scan(this.tail.length === 0 ? Buffer.from(chunk) : Buffer.concat([this.tail, chunk]), false);
  }

  end(): Buffer {
    return this.scan(this.tail, true);
  }

  private scan(input: Buffer, final: boolean): Buffer {
    const out: Buffer[] = [];
    let at = 0;
    for (;;) {
      if (this.inHeaders) {
        const end = input.indexOf('\r\n\r\n', at);
        const stop = end === -1 ? (final ? input.length : Math.max(at, input.length - 3)) : end + 4;
        out.push(scrub(input.subarray(at, stop)));
        at = stop;
        if (end === -1) break;
        this.inHeaders = false;
        continue;
      }
      const found = this.nextDelimiter(input, at);
      if (found === -1) {
        const keep = final ? 0 : this.delimiter.length + 4;
        const stop = Math.max(at, input.length - keep);
        out.push(input.subarray(at, stop));
        at = stop;
        break;
      }
      const lineEnd = found + this.delimiter.length;
      if (input.length < lineEnd + 2 && !final) {
        out.push(input.subarray(at, found));
        at = found;
        break;
      }
      out.push(input.subarray(at, lineEnd));
      at = lineEnd;
      // `--boundary\r\n` opens a part's headers; `--boundary--` closes the body
      this.inHeaders = input[lineEnd] === 0x0d && input[lineEnd + 1] === 0x0a;
    }
    this.tail = Buffer.from(input.subarray(at));
    const passed = Buffer.concat(out);
    this.emitted += passed.length;
    return passed;
  }

  /** A delimiter at the very start of the body or after CRLF (where multipart puts them). */
  private nextDelimiter(input: Buffer, from: number): number {
    for (
      let at = input.indexOf(this.delimiter, from);
      at !== -1;
      at = input.indexOf(this.delimiter, at + 1)
    ) {
      if ((at === 0 && this.emitted === 0) || (at >= 2 && input[at - 2] === 0x0d && input[at - 1] === 0x0a))
        return at;
    }
    return -1;
  }
}

function scrub(headers: Buffer): Buffer {
  if (!headers.some(isControl)) return headers;
  const parts: Buffer[] = [];
  let from = 0;
  headers.forEach((byte, index) => {
    if (!isControl(byte)) return;
    parts.push(headers.subarray(from, index), REPLACEMENT);
    from = index + 1;
  });
  parts.push(headers.subarray(from));
  return Buffer.concat(parts);
}

/** The boundary parameter of a multipart Content-Type, or null. */
export function boundaryOf(contentType: string): string | null {
  const match = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return match?.[1] ?? match?.[2] ?? null;
}
