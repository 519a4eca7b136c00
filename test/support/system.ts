import { createServer } from 'node:net';
import { ensureDatabase } from '../../db/migrator.ts';
import { createDb } from '../../projections/database.ts';
import { connectBus } from '../../shared/bus/connect.ts';
import { readInfraConfig } from '../../shared/config/infra.ts';
import { Storage } from '../../shared/storage/storage.ts';
import { freshEnv } from './env.ts';
import { cleanup } from './harness.ts';
import { ensureS3Server } from './moto.ts';
import { type ServiceProcess, type SpawnOptions, spawnService } from './processes.ts';
import { ffdnetWeightsDir, weightsDir } from './shared-data.ts';

/** Each service's entry point and the line it prints once it is ready. */
const SERVICES = {
  projections: ['projections/main.ts', 'projections consuming'],
  planner: ['services/planner/main.ts', 'planner consuming'],
  converter: ['services/converter/main.ts', 'converter consuming'],
  denoiser: ['services/denoiser/main.ts', 'denoiser consuming'],
  intake: ['services/intake/main.ts', 'intake listening'],
  notifier: ['services/notifier/main.ts', 'notifier consuming'],
  expiry: ['services/expiry/main.ts', 'expiry sweeping'],
} as const;
export type ServiceName = keyof typeof SERVICES;

export type System = Awaited<ReturnType<typeof startSystem>>;

/**
 * A port for intake to listen on, chosen below Linux's ephemeral range (32768–60999), where the kernel
 * also picks the local ports of outgoing connections: a random port up to 40000 once collided with one
 * under the fault suite (EADDRINUSE). It is checked free before it is handed out.
 */
async function freeListenPort(): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

/**
 * How a service is launched, when not as `npm start` does (the TypeScript entry through tsx): for
 * example the compiled entry of the container image, with its own node flags and working directory.
 */
export type Launch = (name: ServiceName) => Readonly<{ entry: string } & SpawnOptions>;

/** The real system: every service its own process, fresh namespace, database and bucket. */
export async function startSystem(
  overrides: Record<string, string> = {},
  names: readonly ServiceName[] = ['projections', 'planner', 'converter', 'denoiser', 'intake'],
  launch: Launch = (name) => ({ entry: SERVICES[name][0] }),
) {
  await ensureS3Server();
  const port = String(await freeListenPort());
  const env = freshEnv({
    PORT: port,
    HOST: '127.0.0.1',
    DNCNN_WEIGHTS_DIR: weightsDir(),
    FFDNET_WEIGHTS_DIR: ffdnetWeightsDir(),
    DENOISER_THREADS: '1',
    ...overrides,
  });
  const infra = readInfraConfig(env);
  await ensureDatabase(infra.databaseUrl);
  const processes = new Map<string, ServiceProcess>();
  const start = async (name: ServiceName, extra: Record<string, string> = {}, label: string = name) => {
    const { entry, ...options } = launch(name);
    const service = spawnService(entry, { ...env, ...extra }, options);
    const ready = SERVICES[name][1];
    processes.set(label, service);
    await service.waitFor(ready, 90_000);
    return service;
  };
  // projections first (it migrates the database), the rest in parallel
  try {
    if (names.includes('projections')) await start('projections');
    await Promise.all(names.filter((name) => name !== 'projections').map((name) => start(name)));
  } catch (error) {
    for (const service of processes.values()) await service.kill('SIGKILL'); // none left behind
    throw error;
  }
  return {
    env,
    url: `http://127.0.0.1:${port}`,
    processes,
    start,
    async stop() {
      for (const service of processes.values()) await service.kill('SIGTERM');
      const bus = await connectBus({ ...infra, url: infra.natsUrl, name: 'cleanup' });
      await cleanup(bus, new Storage(infra.s3), createDb(infra.databaseUrl), infra.databaseUrl);
    },
  };
}
