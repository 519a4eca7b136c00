import exifReader from 'exif-reader';
import type { Exif as SharpExif } from 'sharp';

type Parsed = ReturnType<typeof exifReader>;
type Tag = Parsed extends { Image?: Partial<infer T> } ? T[keyof T] : never;

/** Tags libvips writes itself (pointers, dimensions, orientation after `rotate()`), or that must go. */
const SKIPPED = new Set([
  'ExifTag',
  'GPSTag',
  'InteroperabilityTag',
  'Orientation',
  'PixelXDimension',
  'PixelYDimension',
  'JPEGInterchangeFormat',
  'JPEGInterchangeFormatLength',
  'StripOffsets',
  'StripByteCounts',
]);

/** Text tags stored as bytes that libvips rewrites from the string we hand it. */
const UCS2_TAGS = new Set(['XPTitle', 'XPComment', 'XPAuthor', 'XPKeywords', 'XPSubject']);

/**
 * What to write for a source's EXIF block: `keep` it whole (GPS allowed, or none in it), `drop` it (it
 * cannot be parsed, so GPS cannot be ruled out), or the tags to rewrite without the GPS directory.
 */
export function exifPlan(exif: Buffer, keepGps: boolean): 'keep' | 'drop' | SharpExif {
  if (keepGps) return 'keep';
  const parsed = readExif(exif);
  if (parsed === null) return 'drop';
  const gps = parsed.GPSInfo;
  if (gps === undefined || Object.keys(gps).length === 0) return 'keep';
  return exifWithoutGps(parsed);
}

/**
 * The source's EXIF without its GPS directory, as the key/value strings sharp's `withExif()` takes.
 * libvips rebuilds the block from the source's own EXIF and keeps only the tags named here, so every
 * other tag survives; binary (UNDEFINED) tags keep their original bytes whatever string names them.
 */
export function exifWithoutGps(parsed: Parsed): SharpExif {
  return { IFD0: toStrings(parsed.Image), IFD2: toStrings(parsed.Photo) };
}

function readExif(exif: Buffer): Parsed | null {
  try {
    return exifReader(exif);
  } catch {
    return null;
  }
}

function toStrings(tags: Readonly<Record<string, Tag | undefined>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(tags ?? {})) {
    if (SKIPPED.has(name)) continue;
    const text = tagString(name, value);
    if (text !== null && text !== '') out[name] = text;
  }
  return out;
}

/** One tag value in the textual form libvips parses back into the tag's own EXIF format. */
export function tagString(name: string, value: Tag | Date | undefined): string | null {
  if (value === undefined || value === null) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : exifDate(value);
  if (Buffer.isBuffer(value)) return name === 'UserComment' ? userComment(value) : 'binary';
  if (typeof value === 'string') return value.replace(/\0+$/, '');
  if (typeof value === 'number') return numberString(value);
  if (UCS2_TAGS.has(name)) return Buffer.from(value).toString('utf16le').replace(/\0+$/, '');
  return value.map(numberString).join(' ');
}

/** exif-reader reads EXIF's zone-less local times as if they were UTC; write them back the same way. */
function exifDate(date: Date): string {
  const iso = date.toISOString();
  return `${iso.slice(0, 10).replaceAll('-', ':')} ${iso.slice(11, 19)}`;
}

function userComment(value: Buffer): string | null {
  const charset = value.subarray(0, 8).toString('latin1').replace(/\0+$/, '');
  const body = value.subarray(8);
  const text = charset === 'UNICODE' ? body.toString('utf16le') : body.toString('utf8');
  return text.replace(/\0+$/, '').trim() || null;
}

/** Integers as such; other values as the closest small fraction (1/3 stays 1/3, not 333/1000). */
export function numberString(value: number): string {
  if (Number.isInteger(value)) return String(value);
  const [num, den] = toFraction(Math.abs(value));
  return `${value < 0 ? '-' : ''}${num}/${den}`;
}

function toFraction(value: number, maxDen = 1_000_000): [number, number] {
  let [h0, h1, k0, k1] = [0, 1, 1, 0];
  let x = value;
  for (let i = 0; i < 32; i++) {
    const a = Math.floor(x);
    const [h2, k2] = [a * h1 + h0, a * k1 + k0];
    if (k2 > maxDen) break;
    [h0, h1, k0, k1] = [h1, h2, k1, k2];
    if (Math.abs(value - h1 / k1) < 1e-9 || x === a) break;
    x = 1 / (x - a);
  }
  return [h1, k1];
}
