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
  /** `CRLF--boundary CRLF`: what opens a part's headers (the body is read as if a CRLF preceded it). */
  private readonly opener: Buffer;
  private static readonly CLOSER = Buffer.from('\r\n\r\n');
  private inHeaders = false;
  /** The last bytes passed on (a few), to find a delimiter cut in two by the chunking. */
  private context = Buffer.from('\r\n');
  /** Bytes passed on since the state last changed: a match may not reach back before that. */
  private sinceSwitch = 2;

  constructor(boundary: string) {
    this.opener = Buffer.from(`\r\n--${boundary}\r\n`);
  }

  /** The chunk's bytes, as slices of it (no copy) unless a header byte had to change. */
  push(chunk: Uint8Array): Buffer[] {
    const input = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const out: Buffer[] = [];
    let at = 0;
    while (at < input.length) {
      const pattern = this.inHeaders ? PartHeaderScrubber.CLOSER : this.opener;
      const end = this.find(input, at, pattern);
      const stop = end === -1 ? input.length : end;
      const slice = input.subarray(at, stop);
      out.push(this.inHeaders ? scrub(slice) : slice);
      this.sinceSwitch += slice.length;
      at = stop;
      if (end === -1) break;
      this.inHeaders = !this.inHeaders;
      this.sinceSwitch = 0;
    }
    this.remember(input);
    return out;
  }

  /** The end (in `input`) of the next `pattern` at or after `from`, also one that began in the previous chunk. */
  private find(input: Buffer, from: number, pattern: Buffer): number {
    if (from === 0) {
      const joint = Buffer.concat([this.context, input.subarray(0, pattern.length - 1)]);
      const reach = Math.min(this.context.length, this.sinceSwitch);
      for (let i = joint.indexOf(pattern); i !== -1; i = joint.indexOf(pattern, i + 1)) {
        const end = i + pattern.length - this.context.length;
        if (i >= this.context.length - reach && end > 0) return end;
      }
    }
    const found = input.indexOf(pattern, from);
    return found === -1 ? -1 : found + pattern.length;
  }

  private remember(input: Buffer): void {
    const keep = this.opener.length;
    this.context =
      input.length >= keep
        ? Buffer.from(input.subarray(input.length - keep))
        : Buffer.concat([this.context, input]).subarray(-keep);
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
