import { readdirSync, readFileSync } from 'node:fs';

const TICK_MS = 1000 / 100; // USER_HZ

export type Proc = Readonly<{ pid: number; label: string }>;

/** The machine's shared servers and the S3 servers, found by command line. */
const INFRA: ReadonlyArray<[RegExp, string]> = [
  [/nats-server/, 'nats-server'],
  [/^postgres/, 'postgres (all processes)'],
  [/moto_server/, 'moto (S3)'],
  [/s3local\/main\.ts/, 'embedded S3'],
  [/redis-server/, 'redis'],
];

/** Every process whose command line `label` names (or leaves out with null), with its label. */
export function findProcesses(label: (cmd: string, pid: number) => string | null): Proc[] {
  const found: Proc[] = [];
  for (const entry of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      const name = label(cmd, Number(entry));
      if (name !== null) found.push({ pid: Number(entry), label: name });
    } catch {
      // the process ended meanwhile
    }
  }
  return found;
}

export const infraLabel = (cmd: string): string | null =>
  INFRA.find(([pattern]) => pattern.test(cmd))?.[1] ?? null;

/** A process's CPU time so far (user + system, from /proc), in ms; 0 once it has ended. */
function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return 0;
  }
}

/** CPU ms used by each label's processes since `before`. */
export function cpuSince(procs: readonly Proc[], before: ReadonlyMap<number, number>): Map<string, number> {
  const perLabel = new Map<string, number>();
  for (const proc of procs) {
    perLabel.set(proc.label, (perLabel.get(proc.label) ?? 0) + cpuMs(proc.pid) - (before.get(proc.pid) ?? 0));
  }
  return perLabel;
}

export const cpuNow = (procs: readonly Proc[]): Map<number, number> =>
  new Map(procs.map((proc) => [proc.pid, cpuMs(proc.pid)]));

/** Prints the per-job CPU table (largest first) with its total row; returns the total per job. */
export function printCpuTable(
  perLabel: ReadonlyMap<string, number>,
  jobs: number,
  totalLabel: string,
): number {
  let total = 0;
  console.log('| process | CPU ms per job |\n|---|---|');
  for (const [label, ms] of [...perLabel].sort((a, b) => b[1] - a[1])) {
    console.log(`| ${label} | ${(ms / jobs).toFixed(1)} |`);
    total += ms / jobs;
  }
  console.log(`| **${totalLabel}** | **${total.toFixed(1)}** |`);
  return total;
}

/**
 * Waits until `procs` together use less than `limitMsPerSecond` of CPU in each of two consecutive
 * seconds (at most `maxSeconds`), so a measurement does not count the end of their start-up.
 * Returns how long it waited and the last second's CPU.
 */
export async function waitUntilIdle(
  procs: readonly Proc[],
  limitMsPerSecond: number,
  maxSeconds: number,
): Promise<{ waitedSeconds: number; lastMsPerSecond: number }> {
  let quiet = 0;
  let last = Number.POSITIVE_INFINITY;
  for (let second = 1; second <= maxSeconds; second++) {
    const before = cpuNow(procs);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    last = [...cpuSince(procs, before).values()].reduce((sum, ms) => sum + ms, 0);
    quiet = last < limitMsPerSecond ? quiet + 1 : 0;
    if (quiet === 2) return { waitedSeconds: second, lastMsPerSecond: last };
  }
  return { waitedSeconds: maxSeconds, lastMsPerSecond: last };
}
