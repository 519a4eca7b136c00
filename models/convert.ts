/**
 * Converts the MatConvNet DnCNN and FFDNet weights (.mat, MATLAB v7.3) to ONNX.
 *
 *   npm run models:convert -- [--weights-dir models/weights] [--ffdnet-weights-dir <dir>]
 *                             [--onnx-dir models/onnx] [--force]
 *
 * `ensureModels` is the library entry point: the denoiser calls it at start-up and it converts only
 * the files that are missing (written atomically, so concurrent starts cannot see half a file).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { CATALOG, DEFAULT_ONNX_DIR, DEFAULT_WEIGHTS_DIR, MODEL_KINDS, type ModelKind } from './catalog.ts';
import { buildDnCNNGraph } from './dncnn-graph.ts';
import { buildFFDNetGraph } from './ffdnet-graph.ts';
import { writeAtomically } from './files.ts';
import { readSimpleNN } from './mat-reader.ts';
import { encodeModel } from './onnx-writer.ts';

export const OPSET = 13;

export interface ModelDirs {
  /** The DnCNN .mat files. */
  readonly weightsDir: string;
  /** The FFDNet .mat files; default `weightsDir` (both live in models/weights/ when fetched). */
  readonly ffdnetWeightsDir?: string;
  readonly onnxDir: string;
}

export function weightsDirOf(kind: ModelKind, dirs: ModelDirs): string {
  return CATALOG[kind].family === 'ffdnet' ? (dirs.ffdnetWeightsDir ?? dirs.weightsDir) : dirs.weightsDir;
}

export type ModelPaths = Readonly<Record<ModelKind, string>>;

/** Reads one .mat file and returns the bytes of the equivalent ONNX model. */
export async function convertMatToOnnx(matPath: string, kind: ModelKind): Promise<Uint8Array> {
  const entry = CATALOG[kind];
  const layers = await readSimpleNN(matPath);
  const graph =
    kind === 'blind' || kind === 'clip'
      ? buildDnCNNGraph(kind, layers)
      : buildFFDNetGraph(entry.onnxFile.replace('.onnx', ''), layers);
  const repo = entry.family === 'ffdnet' ? 'cszn/FFDNet' : 'cszn/DnCNN';
  const field = entry.family === 'ffdnet' ? '2x2-aligned, radius 25' : '41';
  return encodeModel(graph, {
    producer: 'pixtools-models-convert',
    opset: OPSET,
    doc: `${entry.description}. Converted from ${entry.matFile} (github.com/${repo}).`,
    metadata: { source: entry.matFile, source_sha256: entry.sha256, kind, receptive_field: field },
  });
}

/** Converts one model into `onnxDir`, returning the path of the ONNX file. */
export async function convertModel(kind: ModelKind, dirs: ModelDirs): Promise<string> {
  const entry = CATALOG[kind];
  const matPath = join(resolve(weightsDirOf(kind, dirs)), entry.matFile);
  if (!existsSync(matPath)) {
    throw new Error(`${matPath} is missing: run \`npm run models:fetch\` (see models/README.md)`);
  }
  const onnxPath = join(resolve(dirs.onnxDir), entry.onnxFile);
  await mkdir(dirs.onnxDir, { recursive: true });
  await writeAtomically(onnxPath, await convertMatToOnnx(matPath, kind));
  return onnxPath;
}

export interface EnsureOptions {
  /**
   * Convert in a child process (default true). Reading .mat files loads h5wasm, which adds ~600 MB
   * of RSS that a process never gets back; the denoiser must not carry that for its lifetime.
   */
  readonly isolate?: boolean;
  /** Which models to make sure of (default all). */
  readonly kinds?: readonly ModelKind[];
}

const LOADER_FLAGS = new Set(['--require', '-r', '--import', '--loader', '--experimental-loader']);

/** The flags that make this process understand TypeScript (tsx), without --eval, --test etc. */
export function loaderArgs(execArgv: readonly string[]): string[] {
  return execArgv.flatMap((arg, i) => {
    const previous = execArgv[i - 1];
    if (LOADER_FLAGS.has(arg)) return [];
    if (previous !== undefined && LOADER_FLAGS.has(previous)) return [previous, arg];
    const [flag] = arg.split('=');
    return flag && LOADER_FLAGS.has(flag) ? [arg] : arg === '--enable-source-maps' ? [arg] : [];
  });
}

async function convertInChildProcess(dirs: ModelDirs, kinds: readonly ModelKind[]): Promise<void> {
  const script = fileURLToPath(import.meta.url);
  const args = [
    ...loaderArgs(process.execArgv),
    script,
    '--weights-dir',
    dirs.weightsDir,
    '--ffdnet-weights-dir',
    dirs.ffdnetWeightsDir ?? dirs.weightsDir,
    '--onnx-dir',
    dirs.onnxDir,
    '--kinds',
    kinds.join(','),
  ];
  try {
    await promisify(execFile)(process.execPath, args, { timeout: 300_000 });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(
      `model conversion failed: ${stderr || (error instanceof Error ? error.message : error)}`,
      {
        cause: error,
      },
    );
  }
}

export function onnxPaths(onnxDir: string): ModelPaths {
  const path = (kind: ModelKind) => join(resolve(onnxDir), CATALOG[kind].onnxFile);
  return { blind: path('blind'), clip: path('clip'), fast: path('fast'), 'fast-float': path('fast-float') };
}

/** Makes sure every ONNX model exists, converting only the missing ones. Returns their paths. */
export async function ensureModels(dirs: ModelDirs, options: EnsureOptions = {}): Promise<ModelPaths> {
  const paths = onnxPaths(dirs.onnxDir);
  const kinds = options.kinds ?? MODEL_KINDS;
  const missing = kinds.filter((kind) => !existsSync(paths[kind]));
  if (missing.length > 0 && (options.isolate ?? true)) await convertInChildProcess(dirs, missing);
  else for (const kind of missing) await convertModel(kind, dirs);
  for (const kind of kinds) if (!existsSync(paths[kind])) throw new Error(`${paths[kind]} was not created`);
  return paths;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'weights-dir': { type: 'string', default: DEFAULT_WEIGHTS_DIR },
      'ffdnet-weights-dir': { type: 'string' },
      'onnx-dir': { type: 'string', default: DEFAULT_ONNX_DIR },
      kinds: { type: 'string', default: MODEL_KINDS.join(',') },
      force: { type: 'boolean', default: false },
    },
  });
  const kinds = values.kinds.split(',').map((name) => {
    const kind = MODEL_KINDS.find((k) => k === name);
    if (kind === undefined) throw new Error(`--kinds: unknown model "${name}" (one of ${MODEL_KINDS})`);
    return kind;
  });
  const dirs = {
    weightsDir: values['weights-dir'],
    ffdnetWeightsDir: values['ffdnet-weights-dir'],
    onnxDir: values['onnx-dir'],
  };
  for (const kind of kinds) {
    const target = join(resolve(dirs.onnxDir), CATALOG[kind].onnxFile);
    if (!values.force && existsSync(target)) {
      console.log(`${kind}: ${target} exists (use --force to rebuild)`);
      continue;
    }
    console.log(`${kind}: wrote ${await convertModel(kind, dirs)}`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
