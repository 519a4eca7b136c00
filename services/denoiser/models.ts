/**
 * First start: make sure the served models' weights are there (downloading missing ones from the
 * authors' repositories, checksum-verified and resumable, progress in the log), convert them to ONNX,
 * and open a narrow and a wide session per model (see threads.ts).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CATALOG, type ModelKind } from '../../models/catalog.ts';
import { ensureModels, type ModelDirs, weightsDirOf } from '../../models/convert.ts';
import { fetchWeights } from '../../models/fetch.ts';
import type { Logger } from '../../shared/log.ts';
import type { Sessions, ServedModel } from './execute.ts';
import { createSession } from './inference/session.ts';
import type { SessionPair } from './threads.ts';

const SERVED: readonly ServedModel[] = ['blind', 'clip', 'fast'];

export type ModelSetup = Readonly<{
  dirs: ModelDirs;
  fetchMissing: boolean;
  threads: number;
  maxThreads: number;
  log: Logger;
}>;

async function fetchMissing(setup: ModelSetup): Promise<void> {
  const missing = SERVED.filter(
    (kind) => !existsSync(join(weightsDirOf(kind, setup.dirs), CATALOG[kind].matFile)),
  );
  if (missing.length === 0) return;
  const names = missing.map((kind) => CATALOG[kind].matFile).join(', ');
  if (!setup.fetchMissing)
    throw new Error(`${names} missing and DENOISER_FETCH_WEIGHTS=false: run \`npm run models:fetch\``);
  setup.log.info({ missing: names }, 'model weights missing: fetching them from the authors');
  for (const kind of missing) {
    const dest = weightsDirOf(kind, setup.dirs);
    await fetchWeights({ dest, kinds: [kind], log: (line) => setup.log.info(line) });
  }
}

async function openPair(path: string, setup: ModelSetup): Promise<SessionPair> {
  const narrow = await createSession(path, { intraOpNumThreads: setup.threads });
  const wide =
    setup.maxThreads > setup.threads
      ? await createSession(path, { intraOpNumThreads: setup.maxThreads, spinning: false })
      : null;
  return { narrow, wide };
}

export async function prepareModels(setup: ModelSetup): Promise<Sessions> {
  await fetchMissing(setup);
  const paths = await ensureModels(setup.dirs, { kinds: SERVED as readonly ModelKind[] });
  return {
    blind: await openPair(paths.blind, setup),
    clip: await openPair(paths.clip, setup),
    fast: await openPair(paths.fast, setup),
  };
}
