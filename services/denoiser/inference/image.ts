/** An 8-bit RGB image: interleaved, 3 bytes per pixel, row-major (what sharp's raw() returns). */
export interface Rgb8Image {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
}
