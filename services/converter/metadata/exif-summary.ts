import exifReader from 'exif-reader';
import type { ExifSummary } from '../../../shared/events/events.ts';

type Parsed = ReturnType<typeof exifReader>;
type Value = number | number[] | string | Buffer | Date | undefined;

export const EMPTY_SUMMARY: ExifSummary = Object.freeze({
  camera_make: null,
  camera_model: null,
  lens_model: null,
  captured_at: null,
  exposure_time: null,
  aperture: null,
  iso: null,
  gps: null,
});

/**
 * The eight fields clients read, each from the directory the EXIF standard puts it in: IFD0 (`Image`)
 * for make and model, the Exif IFD (`Photo`) for lens, capture time and exposure, the GPS IFD for the
 * position. Absent or unreadable fields are null; an unparseable block yields all nulls.
 */
export function summarizeExif(exif: Buffer | undefined): ExifSummary {
  if (exif === undefined || exif.length === 0) return EMPTY_SUMMARY;
  let parsed: Parsed;
  try {
    parsed = exifReader(exif);
  } catch {
    return EMPTY_SUMMARY;
  }
  const image = (parsed.Image ?? {}) as Record<string, Value>;
  const photo = (parsed.Photo ?? {}) as Record<string, Value>;
  return {
    camera_make: text(image.Make),
    camera_model: text(image.Model),
    lens_model: text(photo.LensModel),
    captured_at: capturedAt(
      photo.DateTimeOriginal ?? photo.DateTimeDigitized,
      text(photo.OffsetTimeOriginal),
    ),
    exposure_time: exposure(first(photo.ExposureTime)),
    aperture: aperture(first(photo.FNumber), first(photo.ApertureValue)),
    iso: positive(first(photo.ISOSpeedRatings) ?? first(photo.PhotographicSensitivity)),
    gps: gps((parsed.GPSInfo ?? {}) as Record<string, Value>),
  };
}

function text(value: Value): string | null {
  if (typeof value !== 'string') return null;
  const trimmed = value.replace(/\0/g, '').trim();
  return trimmed === '' ? null : trimmed;
}

function first(value: Value): number | null {
  const number = Array.isArray(value) ? value[0] : value;
  return typeof number === 'number' && Number.isFinite(number) ? number : null;
}

function positive(value: number | null): number | null {
  return value !== null && value > 0 ? value : null;
}

/** EXIF times carry no zone (exif-reader reads them as UTC); the offset tag, when present, supplies it. */
export function capturedAt(value: Value, offset: string | null): string | null {
  let date: Date | null = null;
  if (value instanceof Date) date = value;
  if (typeof value === 'string') {
    const match = /^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})/.exec(value);
    if (match) date = new Date(`${match[1]}-${match[2]}-${match[3]}T${match[4]}:${match[5]}:${match[6]}Z`);
  }
  if (date === null || Number.isNaN(date.getTime())) return null;
  const local = date.toISOString().slice(0, 19);
  return offset !== null && /^[+-]\d{2}:\d{2}$/.test(offset) ? `${local}${offset}` : local;
}

/** Exposure as photographers write it: "1/250" below a second, "2" or "2.5" above. */
export function exposure(seconds: number | null): string | null {
  if (seconds === null || seconds <= 0) return null;
  if (seconds >= 1) return String(Math.round(seconds * 10) / 10);
  return `1/${Math.round(1 / seconds)}`;
}

/** The f-number, or derived from the APEX aperture value (f = 2^(Av/2)); one decimal, as lenses say. */
export function aperture(fNumber: number | null, apex: number | null): number | null {
  const f = positive(fNumber) ?? (apex === null ? null : 2 ** (apex / 2));
  return f === null ? null : Math.round(f * 10) / 10;
}

function gps(info: Record<string, Value>): ExifSummary['gps'] {
  const latitude = degrees(info.GPSLatitude, text(info.GPSLatitudeRef), 'S');
  const longitude = degrees(info.GPSLongitude, text(info.GPSLongitudeRef), 'W');
  if (latitude === null || longitude === null) return null;
  const height = first(info.GPSAltitude);
  const below = first(info.GPSAltitudeRef) === 1;
  const altitude = height === null ? null : round(below ? -height : height, 2);
  return { latitude, longitude, altitude };
}

/** Degrees, minutes, seconds and a hemisphere reference to signed decimal degrees (6 places, ~0.1 m). */
export function degrees(dms: Value, ref: string | null, negativeRef: 'S' | 'W'): number | null {
  if (!Array.isArray(dms) || dms.length === 0) return null;
  const [d = 0, m = 0, s = 0] = dms;
  const value = d + m / 60 + s / 3600;
  if (!Number.isFinite(value)) return null;
  return round(ref?.toUpperCase() === negativeRef ? -value : value, 6);
}

function round(value: number, places: number): number {
  const factor = 10 ** places;
  return Math.round(value * factor) / factor;
}
