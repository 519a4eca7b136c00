import { spawn } from 'node:child_process';

export type CliRun = Readonly<{ code: number | null; stdout: string; stderr: string }>;

const BIN = new URL('../../cli/bin.js', import.meta.url).pathname;

/** Runs `pixtools …` as a user would (its own process, no TTY), with PIXTOOLS_* from `env`. */
export function runCli(
  args: readonly string[],
  env: Record<string, string> = {},
  timeoutMs = 120_000,
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, PIXTOOLS_URL: '', PIXTOOLS_API_KEY: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`pixtools ${args.join(' ')} timed out\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
