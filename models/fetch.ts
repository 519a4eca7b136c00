/**
 * Obtains the official DnCNN and FFDNet colour weights into models/weights/ (git-ignored).
 *
 *   npm run models:fetch                          # download from cszn/DnCNN (model/) and cszn/FFDNet (models/)
 *   npm run models:fetch -- --from <dir|file>     # copy from a local folder or a single .mat file
 *   DNCNN_WEIGHTS_DIR=<dir> FFDNET_WEIGHTS_DIR=<dir> npm run models:fetch   # copy each family from its folder
 *   options: --dest <dir> (default models/weights), --force (replace files already present)
 *
 * Every file is checked against its SHA-256 before it is written (atomically). Downloads go to
 * `<file>.part` and resume from where they stopped (HTTP Range), logging progress about every 2 s.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, statSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import {
  CATALOG,
  type CatalogEntry,
  DEFAULT_WEIGHTS_DIR,
  MODEL_KINDS,
  type ModelKind,
  upstreamUrl,
} from './catalog.ts';
import { writeAtomically } from './files.ts';

export interface FetchOptions {
  /** A folder holding the .mat files, or one .mat file. Without it, the files are downloaded. */
  readonly from?: string;
  readonly dest: string;
  readonly force?: boolean;
  readonly log?: (line: string) => void;
  /** Which models (default all). */
  readonly kinds?: readonly ModelKind[];
  /** Download from here instead of the authors' repositories (`<base>/<file>`): for tests and mirrors. */
  readonly baseUrl?: string;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

function verified(entry: CatalogEntry, bytes: Uint8Array, origin: string): Uint8Array {
  const actual = sha256(bytes);
  if (actual !== entry.sha256) {
    throw new Error(
      `${origin}: SHA-256 ${actual} does not match the official ${entry.matFile} (${entry.sha256})`,
    );
  }
  return bytes;
}

/** "fetch failed" alone says little: include the underlying cause (DNS, refused, timeout…). */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
  return `${error.message}${cause}`;
}

const MiB = 1024 * 1024;

/** Appends the response body to `part`, logging progress about every 2 s. Returns the bytes written. */
async function appendBody(response: Response, part: string, offset: number, log: (line: string) => void) {
  const length = Number(response.headers.get('content-length') ?? Number.NaN);
  const total = offset + length;
  const out = createWriteStream(part, { flags: offset > 0 ? 'a' : 'w' });
  let received = offset;
  let logged = performance.now();
  try {
    if (response.body === null) throw new Error('empty response');
    const reader = response.body.getReader();
    for (let next = await reader.read(); !next.done; next = await reader.read()) {
      const chunk = next.value;
      if (!out.write(chunk)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      received += chunk.length;
      if (performance.now() - logged > 2_000) {
        logged = performance.now();
        const of = Number.isFinite(total) ? ` of ${(total / MiB).toFixed(1)} MiB` : ' MiB';
        log(`${basename(part, '.part')}: ${(received / MiB).toFixed(1)}${of}`);
      }
    }
  } finally {
    await new Promise<void>((resolve) => out.end(() => resolve()));
  }
}

/**
 * Downloads one file to `<target>.part`, resuming a previous partial download with a Range request,
 * then verifies it. A server that ignores the range (200) restarts the file from the beginning.
 */
async function download(entry: CatalogEntry, target: string, options: FetchOptions): Promise<Uint8Array> {
  const url = options.baseUrl === undefined ? upstreamUrl(entry) : `${options.baseUrl}/${entry.matFile}`;
  const log = options.log ?? (() => {});
  const part = `${target}.part`;
  try {
    const offset = existsSync(part) ? statSync(part).size : 0;
    const headers: Record<string, string> = offset > 0 ? { range: `bytes=${offset}-` } : {};
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(120_000) });
    if (response.status === 416) await rm(part, { force: true });
    if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
    const resumed = response.status === 206 ? offset : 0;
    log(`${entry.matFile}: ${resumed > 0 ? `resuming at ${resumed} bytes` : 'downloading'} from ${url}`);
    await appendBody(response, part, resumed, log);
    const bytes = new Uint8Array(await readFile(part));
    if (sha256(bytes) !== entry.sha256) await rm(part, { force: true });
    return verified(entry, bytes, url);
  } catch (error) {
    const reason = describeError(error);
    throw new Error(
      `could not download ${entry.matFile} from ${url}: ${reason}\n` +
        'Without internet access, copy the official .mat files to this machine and run\n' +
        '  npm run models:fetch -- --from <folder>\n' +
        '(or point DNCNN_WEIGHTS_DIR / FFDNET_WEIGHTS_DIR at the folders that hold them)',
      { cause: error },
    );
  }
}

/** The local file to copy for this entry, or null when `from` is a single file of another model. */
function localSource(from: string, entry: CatalogEntry, strict: boolean): string | null {
  const path = resolve(from);
  if (!existsSync(path)) throw new Error(`--from ${from}: no such file or folder`);
  if (!statSync(path).isDirectory()) return basename(path) === entry.matFile ? path : null;
  const file = join(path, entry.matFile);
  if (existsSync(file)) return file;
  if (!strict) return null;
  throw new Error(`${file} is missing (expected the official ${entry.matFile})`);
}

async function isCurrent(path: string, entry: CatalogEntry): Promise<boolean> {
  return existsSync(path) && sha256(await readFile(path)) === entry.sha256;
}

/** Fetches the weights; returns the paths written or already present. */
export async function fetchWeights(options: FetchOptions): Promise<string[]> {
  const log = options.log ?? (() => {});
  await mkdir(options.dest, { recursive: true });
  const written: string[] = [];
  for (const kind of options.kinds ?? MODEL_KINDS) {
    const entry = CATALOG[kind];
    const target = join(resolve(options.dest), entry.matFile);
    const source =
      options.from === undefined
        ? upstreamUrl(entry)
        : localSource(options.from, entry, options.kinds !== undefined);
    if (source === null) continue;
    if (!options.force && (await isCurrent(target, entry))) {
      log(`${entry.matFile}: already present and verified`);
    } else {
      const bytes =
        options.from === undefined
          ? await download(entry, target, options)
          : verified(entry, await readFile(source), source);
      await writeAtomically(target, bytes);
      await rm(`${target}.part`, { force: true });
      log(`${entry.matFile}: ${source} → ${target} (sha256 ok)`);
    }
    written.push(target);
  }
  if (written.length === 0)
    throw new Error(`--from ${options.from}: not one of ${MODEL_KINDS.map((k) => CATALOG[k].matFile)}`);
  return written;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      from: { type: 'string' },
      dest: { type: 'string', default: DEFAULT_WEIGHTS_DIR },
      force: { type: 'boolean', default: false },
    },
  });
  const options = { dest: values.dest, force: values.force, log: console.log };
  if (values.from !== undefined) {
    await fetchWeights({ ...options, from: values.from });
    return;
  }
  const families = [
    { kinds: MODEL_KINDS.filter((k) => CATALOG[k].family === 'dncnn'), from: process.env.DNCNN_WEIGHTS_DIR },
    {
      kinds: MODEL_KINDS.filter((k) => CATALOG[k].family === 'ffdnet'),
      from: process.env.FFDNET_WEIGHTS_DIR,
    },
  ];
  for (const { kinds, from } of families) await fetchWeights({ ...options, kinds, from });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
