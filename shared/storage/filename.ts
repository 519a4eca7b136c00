import contentDisposition from 'content-disposition';

const MAX_NAME_CHARS = 120;

/**
 * A declared file name made safe to keep and show: the last path segment only (`/` and `\`), Unicode
 * NFC, no control or format characters (NUL, newlines, bidi overrides) nor U+FFFD, no leading dots, at most
 * 120 characters (the extension kept). Never empty: `image` stands in.
 */
export function safeFilename(name: string): string {
  const base = name.normalize('NFC').split(/[/\\]/).pop() ?? '';
  const clean = base
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\ufffd]/gu, '')
    .replace(/^[.\s]+/, '')
    .trim();
  const chars = [...clean];
  if (chars.length <= MAX_NAME_CHARS) return clean || 'image';
  const dot = clean.lastIndexOf('.');
  const ext = dot > 0 && clean.length - dot <= 10 ? clean.slice(dot) : '';
  return `${chars.slice(0, MAX_NAME_CHARS - [...ext].length).join('')}${ext}`;
}

/** The download name of a step's output, as the reference gave it: `pixtools_<op>_<base name>.<ext>`. */
export function outputFilename(op: string, originalName: string, ext: string): string {
  const safe = safeFilename(originalName);
  const dot = safe.lastIndexOf('.');
  const base = (dot > 0 ? safe.slice(0, dot) : safe) || 'image';
  return `pixtools_${op}_${base}.${ext}`;
}

/** Printable ASCII only: accents dropped (é → e), anything else `_`; quotes and backslashes too. */
export function asciiFallback(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/[^\x20-\x7e]|["\\%]/g, '_');
}

/**
 * An RFC 6266 `attachment` header value: `filename="<ASCII fallback>"` and, when the name is not plain
 * ASCII, `filename*=UTF-8''<percent-encoded>`. The header itself is always ASCII, so any name is safe.
 */
export function attachment(filename: string): string {
  const safe = safeFilename(filename);
  return contentDisposition(safe, { type: 'attachment', fallback: asciiFallback(safe) });
}
