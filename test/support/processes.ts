import { type ChildProcess, spawn } from 'node:child_process';

export type ServiceProcess = Readonly<{
  child: ChildProcess;
  output: () => string;
  /** Resolves when the service printed `text` (its readiness line). */
  waitFor: (text: string, timeoutMs?: number) => Promise<void>;
  kill: (signal?: NodeJS.Signals) => Promise<number | null>;
}>;

/** Everything a child prints on stdout and stderr, as one growing text. */
export function collectOutput(child: ChildProcess): () => string {
  let output = '';
  const append = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  return () => output;
}

export type SpawnOptions = Readonly<{
  /** Node flags before the entry (`--initial-old-space-size=64` …). */
  nodeFlags?: readonly string[];
  /** false: plain `node entry`, for compiled JavaScript (default: through the tsx loader, as `npm start`). */
  loader?: boolean;
  /** Working directory (default: this process's). */
  cwd?: string;
}>;

/** Runs a service as its own process, exactly as `npm start` does, with the test's environment. */
export function spawnService(
  entry: string,
  env: Record<string, string>,
  { nodeFlags = [], loader = true, cwd }: SpawnOptions = {},
): ServiceProcess {
  const args = [...nodeFlags, ...(loader ? ['--import', 'tsx'] : []), entry];
  const child = spawn(process.execPath, args, {
    cwd,
    env: {
      ...process.env,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...env,
      LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = collectOutput(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output,
    async waitFor(text, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (!output().includes(text)) {
        if (child.exitCode !== null) throw new Error(`${entry} exited early:\n${output()}`);
        if (Date.now() > deadline) throw new Error(`${entry} did not print "${text}":\n${output()}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
