/**
 * Thread policy: one denoise uses both cores while the io queue is idle, and drops to one core as soon
 * as conversions are waiting or running, so they never queue behind a denoise (invariant 4).
 *
 * Each model has two onnxruntime sessions over the same weights: one with 1 intra-op thread and one
 * with `maxThreads` (2 on this machine). Before every tile the chooser asks the converter's durable
 * consumer on the work stream how much io work is pending or in flight (cached for `cacheMs`), and
 * runs the tile on the wide session only when that is zero. A tile is the unit of switching, so a
 * conversion arriving mid-tile shares the cores for at most one tile (~0.5–1 s at 768 px); the
 * denoiser process also runs at a lower CPU priority (nice, see main.ts), so the kernel gives the
 * conversion the core first. Measured in docs/BENCHMARKS.md ("Denoise thread policy").
 */
import type { Bus } from '../../shared/bus/connect.ts';
import type { DenoiseSession } from './inference/session.ts';

export type SessionPair = Readonly<{ narrow: DenoiseSession; wide: DenoiseSession | null }>;

/** Resolves to true when no io work is waiting or running. */
export type IoIdleProbe = () => Promise<boolean>;

/** Reads the converter consumer's backlog (pending + unacknowledged) on the shared work stream. */
export function ioQueueProbe(bus: Bus): IoIdleProbe {
  return async () => {
    const info = await bus.jsm.consumers.info(bus.names.workStream, bus.names.durable.converter);
    return info.num_pending + info.num_ack_pending === 0;
  };
}

export type ThreadStats = { wide: number; narrow: number };

/**
 * A per-tile session chooser for one step. A failing probe counts as "busy" (one thread): when in
 * doubt, leave the second core to conversions.
 */
export function chooseSession(
  pair: SessionPair,
  probe: IoIdleProbe,
  options: { cacheMs?: number; now?: () => number; stats?: ThreadStats } = {},
): () => Promise<DenoiseSession> {
  const cacheMs = options.cacheMs ?? 250;
  const now = options.now ?? (() => performance.now());
  let checkedAt = Number.NEGATIVE_INFINITY;
  let idle = false;
  return async () => {
    const { wide, narrow } = pair;
    if (wide === null) return narrow;
    if (now() - checkedAt >= cacheMs) {
      idle = await probe().catch(() => false);
      checkedAt = now();
    }
    if (options.stats) options.stats[idle ? 'wide' : 'narrow']++;
    return idle ? wide : narrow;
  };
}
