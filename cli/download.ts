import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CliError, type JobBody } from './client.ts';

export type Downloaded = Readonly<{ result: string; file: string; bytes: number }>;

const EXTENSIONS: Readonly<Record<string, string>> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/webp': 'webp',
  'image/avif': 'avif',
  'application/zip': 'zip',
  'application/json': 'json',
};

/**
 * Saves every result (and the ZIP when asked) into `dir` under the name the server gives it
 * (`Content-Disposition`), or `<result>.<ext>`; two results with one name get the result key added.
 */
export async function downloadResults(job: JobBody, dir: string, withArchive = false): Promise<Downloaded[]> {
  if (job.expired) throw new CliError('refused', `Job ${job.job_id} has expired; its outputs are deleted`);
  await mkdir(dir, { recursive: true });
  const targets = Object.entries(job.result_urls);
  if (withArchive && job.archive_url !== null) targets.push(['archive', job.archive_url]);
  const taken = new Set<string>();
  const saved: Downloaded[] = [];
  for (const [result, url] of targets) {
    const response = await fetch(url).catch((error: unknown) => {
      throw new CliError('unavailable', `Cannot download ${result}: ${(error as Error).message}`);
    });
    if (!response.ok || response.body === null) {
      throw new CliError('unavailable', `Cannot download ${result}: HTTP ${response.status}`);
    }
    const name = uniqueName(fileNameOf(response, result), result, taken);
    const file = path.join(dir, name);
    let bytes = 0;
    const body = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>);
    body.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    await pipeline(body, createWriteStream(file));
    saved.push({ result, file, bytes });
  }
  return saved;
}

function fileNameOf(response: Response, result: string): string {
  const disposition = response.headers.get('content-disposition') ?? '';
  const star = /filename\*=UTF-8''([^;]+)/i.exec(disposition);
  const plain = /filename="?([^";]+)"?/i.exec(disposition);
  const raw = star?.[1] ? decodeURIComponent(star[1]) : plain?.[1];
  const safe = raw === undefined ? '' : path.basename(raw).replace(/[^\w.\- ]/g, '_');
  if (safe !== '' && safe !== '.' && safe !== '..') return safe;
  const type = (response.headers.get('content-type') ?? '').split(';')[0]?.trim() ?? '';
  return `${result}.${EXTENSIONS[type] ?? 'bin'}`;
}

function uniqueName(name: string, result: string, taken: Set<string>): string {
  let candidate = name;
  if (taken.has(candidate)) {
    const ext = path.extname(name);
    candidate = `${path.basename(name, ext)}_${result}${ext}`;
  }
  for (let n = 2; taken.has(candidate); n++)
    candidate = `${path.basename(name, path.extname(name))}_${n}${path.extname(name)}`;
  taken.add(candidate);
  return candidate;
}
