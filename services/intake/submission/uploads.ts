import { ApiError } from '../errors.ts';

/** An upload slot frees in seconds: what a 429 for uploads tells clients to wait. */
const RETRY_AFTER_SECONDS = 2;

/**
 * At most `limit` uploads are received and validated at once (each holds its file in memory until it is
 * stored); one more is answered 429 with Retry-After before a byte of its body is read.
 */
export class UploadSlots {
  private inFlight = 0;

  constructor(private readonly limit: number) {}

  /** Takes a slot; the returned function gives it back (once, however often it is called). */
  acquire(): () => void {
    if (this.inFlight >= this.limit) {
      throw new ApiError(429, `Too many uploads in progress (at most ${this.limit}); try again shortly`, {
        'Retry-After': String(RETRY_AFTER_SECONDS),
      });
    }
    this.inFlight++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight--;
    };
  }

  get active(): number {
    return this.inFlight;
  }
}
