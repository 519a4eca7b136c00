import { fileTypeFromBuffer } from 'file-type';
import type { ImageFormat } from '../../shared/events/operations.ts';

const BY_MIME: Readonly<Record<string, ImageFormat>> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/avif': 'avif',
};

/**
 * The image format decided by the bytes themselves, or a description of what was found instead.
 * Never throws: file-type reads deeper into some containers (ZIP, EBML, PNG chunks) and throws on a
 * truncated one; such a file is "truncated or corrupt", not a server error.
 */
export async function sniffImage(bytes: Uint8Array): Promise<{ format: ImageFormat } | { found: string }> {
  let type: Awaited<ReturnType<typeof fileTypeFromBuffer>>;
  try {
    type = await fileTypeFromBuffer(bytes);
  } catch {
    return { found: 'truncated or corrupt content' };
  }
  if (type === undefined) return { found: 'unknown' };
  const format = BY_MIME[type.mime];
  return format === undefined ? { found: type.mime } : { format };
}
