import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export type Service = Readonly<{ name: string; command: string }>;

export type SuperviseOptions = Readonly<{
  env: NodeJS.ProcessEnv;
  /** First restart delay; doubles per crash in a row up to `maxDelayMs`, reset after `stableMs` up. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  stableMs?: number;
  write?: (line: string) => void;
}>;

const COLOURS = [36, 33, 35, 32, 34, 31, 96, 93];

/**
 * A small process supervisor for `npm start`: every service its own process with its output prefixed
 * by name; a service that exits unasked is restarted with back-off (1 s doubling to 30 s) and the
 * supervisor says so loudly, while the others keep serving. SIGINT/SIGTERM/SIGHUP are forwarded to
 * every service; the supervisor exits when all have stopped.
 */
export function supervise(services: readonly Service[], options: SuperviseOptions) {
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`));
  const initialDelayMs = options.initialDelayMs ?? 1000;
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  const stableMs = options.stableMs ?? 60_000;
  const width = Math.max(...services.map((service) => service.name.length));
  const running = new Map<string, ChildProcess>();
  let stopping = false;
  let finish: () => void = () => {};
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });

  const label = (name: string, index: number) =>
    `\x1b[${COLOURS[index % COLOURS.length]}m[${name.padEnd(width)}]\x1b[0m`;
  const loud = (text: string) => write(`\x1b[41;97m[supervisor]\x1b[0m ${text}`);

  const start = (service: Service, index: number, crashes: number) => {
    const child = spawn(service.command, {
      shell: true,
      env: options.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const startedAt = Date.now();
    running.set(service.name, child);
    for (const stream of [child.stdout, child.stderr]) {
      if (stream === null) continue;
      createInterface({ input: stream }).on('line', (line) => write(`${label(service.name, index)} ${line}`));
    }
    child.on('error', (error) => loud(`${service.name} could not be started: ${error.message}`));
    child.on('exit', (code, signal) => {
      running.delete(service.name);
      if (stopping) {
        if (running.size === 0) finish();
        return;
      }
      const inARow = Date.now() - startedAt >= stableMs ? 0 : crashes + 1;
      const delayMs = Math.min(maxDelayMs, initialDelayMs * 2 ** Math.max(0, inARow - 1));
      loud(
        `${service.name} (pid ${child.pid}) exited with ${signal ?? `code ${code}`}: ` +
          `restarting in ${delayMs / 1000} s (crash ${inARow} in a row); the other services keep running`,
      );
      setTimeout(() => {
        if (stopping) return;
        start(service, index, inARow);
        loud(`${service.name} restarted (pid ${running.get(service.name)?.pid})`);
      }, delayMs).unref();
    });
  };

  for (const [index, service] of services.entries()) start(service, index, 0);
  return {
    running,
    finished,
    stop(signal: NodeJS.Signals = 'SIGTERM') {
      stopping = true;
      if (running.size === 0) finish();
      for (const child of running.values()) child.kill(signal);
    },
  };
}
