/**
 * First start: make sure the served models' weights are there (downloading missing ones from the
 * authors' repositories, checksum-verified and resumable, progress in the log), convert them to ONNX,
 * and open a narrow and a wide session per model (see threads.ts).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CATALOG } from '../../models/catalog.ts';
import { ensureModels, type ModelDirs, weightsDirOf } from '../../models/convert.ts';
import { fetchWeights } from '../../models/fetch.ts';
import type { Logger } from '../../shared/log.ts';
import type { ServedModel, Sessions } from './execute.ts';
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

async function fetchIfMissing(kind: ServedModel, setup: ModelSetup): Promise<void> {
  const dest = weightsDirOf(kind, setup.dirs);
  const { matFile } = CATALOG[kind];
  if (existsSync(join(dest, matFile))) return;
  if (!setup.fetchMissing)
    throw new Error(
      `${matFile} is missing in ${dest} and DENOISER_FETCH_WEIGHTS=false: run \`npm run models:fetch\``,
    );
  setup.log.info({ file: matFile, dest }, 'model weights missing: fetching them from the authors');
  await fetchWeights({ dest, kinds: [kind], log: (line) => setup.log.info(line) });
}

async function openPair(path: string, setup: ModelSetup): Promise<SessionPair> {
  const narrow = await createSession(path, { intraOpNumThreads: setup.threads });
  const wide =
    setup.maxThreads > setup.threads
      ? await createSession(path, { intraOpNumThreads: setup.maxThreads, spinning: false })
      : null;
  return { narrow, wide };
}

/**
 * Each model is prepared on its own: one that cannot be fetched or converted leaves the others serving.
 * The conversions run in one child process when they all succeed (first start), else one by one.
 */
export async function prepareModels(setup: ModelSetup): Promise<Sessions> {
  const result: Partial<Record<ServedModel, SessionPair | string>> = {};
  const fail = (kind: ServedModel, error: unknown) => {
    const reason = `the ${kind} model is not installed on this denoiser: ${(error as Error).message}`;
    setup.log.error(reason);
    result[kind] = reason;
  };
  const ready: ServedModel[] = [];
  for (const kind of SERVED) {
    await fetchIfMissing(kind, setup).then(
      () => ready.push(kind),
      (error: unknown) => fail(kind, error),
    );
  }
  const converted = await ensureModels(setup.dirs, { kinds: ready }).catch(() => null);
  for (const kind of ready) {
    try {
      const paths = converted ?? (await ensureModels(setup.dirs, { kinds: [kind] }));
      result[kind] = await openPair(paths[kind], setup);
    } catch (error) {
      fail(kind, error);
    }
  }
  return {
    blind: result.blind ?? 'not prepared',
    clip: result.clip ?? 'not prepared',
    fast: result.fast ?? 'not prepared',
  };
}
