import path from 'node:path';

/** The download name the reference gave: `pixtools_<op>_<original base name>.<ext>`. */
export function outputFilename(op: string, originalName: string, ext: string): string {
  const base = path.parse(path.basename(originalName)).name || 'image';
  return `pixtools_${op}_${base}.${ext}`;
}
