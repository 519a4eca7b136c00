import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';

/**
 * Lowers the CPU priority of every thread of this process. On Linux nice is per thread and a new
 * thread inherits its creator's, so renicing only the main thread would leave libuv's pool (where
 * onnxruntime-node runs inferences) at 0. Call after start-up threads exist; later threads inherit.
 * Elsewhere (no /proc) only the process priority is set.
 */
export function lowerPriority(nice: number): number {
  setPriority(0, nice);
  let threads = 1;
  try {
    for (const tid of readdirSync('/proc/self/task')) {
      setPriority(Number(tid), nice);
      threads++;
    }
  } catch {
    // not Linux: the process priority is all there is
  }
  return threads;
}
