/**
 * Obtains the official DnCNN colour weights into models/weights/ (git-ignored).
 *
 *   npm run models:fetch                          # download from github.com/cszn/DnCNN (model/)
 *   npm run models:fetch -- --from <dir|file>     # copy from a local folder or a single .mat file
 *   DNCNN_WEIGHTS_DIR=<dir> npm run models:fetch  # same as --from <dir>
 *   options: --dest <dir> (default models/weights), --force (replace files already present)
 *
 * Every file is checked against its SHA-256 before it is written (atomically).
 */
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { CATALOG, type CatalogEntry, DEFAULT_WEIGHTS_DIR, MODEL_KINDS, upstreamUrl } from './catalog.ts';
import { writeAtomically } from './files.ts';

export interface FetchOptions {
  /** A folder holding the .mat files, or one .mat file. Without it, the files are downloaded. */
  readonly from?: string;
  readonly dest: string;
  readonly force?: boolean;
  readonly log?: (line: string) => void;
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

async function download(entry: CatalogEntry): Promise<Uint8Array> {
  const url = upstreamUrl(entry);
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(120_000) });
    if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText}`);
    return verified(entry, new Uint8Array(await response.arrayBuffer()), url);
  } catch (error) {
    const reason = describeError(error);
    throw new Error(
      `could not download ${entry.matFile} from ${url}: ${reason}\n` +
        'Without internet access, copy the official .mat files to this machine and run\n' +
        '  npm run models:fetch -- --from <folder>   (or set DNCNN_WEIGHTS_DIR=<folder>)',
      { cause: error },
    );
  }
}

/** The local file to copy for this entry, or null when `from` is a single file of another model. */
function localSource(from: string, entry: CatalogEntry): string | null {
  const path = resolve(from);
  if (!existsSync(path)) throw new Error(`--from ${from}: no such file or folder`);
  if (!statSync(path).isDirectory()) return basename(path) === entry.matFile ? path : null;
  const file = join(path, entry.matFile);
  if (!existsSync(file)) throw new Error(`${file} is missing (expected the official ${entry.matFile})`);
  return file;
}

async function isCurrent(path: string, entry: CatalogEntry): Promise<boolean> {
  return existsSync(path) && sha256(await readFile(path)) === entry.sha256;
}

/** Fetches the weights; returns the paths written or already present. */
export async function fetchWeights(options: FetchOptions): Promise<string[]> {
  const log = options.log ?? (() => {});
  await mkdir(options.dest, { recursive: true });
  const written: string[] = [];
  for (const kind of MODEL_KINDS) {
    const entry = CATALOG[kind];
    const target = join(resolve(options.dest), entry.matFile);
    const source = options.from === undefined ? upstreamUrl(entry) : localSource(options.from, entry);
    if (source === null) continue;
    if (!options.force && (await isCurrent(target, entry))) {
      log(`${entry.matFile}: already present and verified`);
    } else {
      const bytes =
        options.from === undefined ? await download(entry) : verified(entry, await readFile(source), source);
      await writeAtomically(target, bytes);
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
  const from = values.from ?? process.env.DNCNN_WEIGHTS_DIR;
  await fetchWeights({ from, dest: values.dest, force: values.force, log: console.log });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
