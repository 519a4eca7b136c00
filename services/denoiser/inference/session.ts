/**
 * onnxruntime-node sessions for the converted DnCNN and FFDNet models (see models/convert.ts).
 */
import { CATALOG, GEOMETRY, type ModelKind } from '../../../models/catalog.ts';
import { ort } from '../../../models/ort.ts';
import type { Geometry } from './tiled.ts';

/** `fast` is FFDNet-Clip; `fast-float` (unclipped training) is for the paper-protocol benchmark. */
export type DenoiseModel = ModelKind;

/** Every model but the blind DnCNN takes a noise level. */
export function needsSigma(model: DenoiseModel): boolean {
  return model !== 'blind';
}

export function geometryOf(model: DenoiseModel): Geometry {
  return GEOMETRY[CATALOG[model].family];
}

export interface SessionOptions {
  /** Threads one inference may use. Default 1: scale with processes/concurrency instead. */
  readonly intraOpNumThreads?: number;
  /** Keep onnxruntime's memory arena (faster repeated runs, RSS stays at the peak). Default true. */
  readonly enableCpuMemArena?: boolean;
  /**
   * Let idle intra-op threads spin (onnxruntime's default). Off for sessions that share cores with
   * other work: a spinning thread takes CPU a conversion needs.
   */
  readonly spinning?: boolean;
}

export type DenoiseSession = ort.InferenceSession;

export async function createSession(
  modelPath: string,
  options: SessionOptions = {},
): Promise<DenoiseSession> {
  const intraOpNumThreads = options.intraOpNumThreads ?? 1;
  if (!Number.isInteger(intraOpNumThreads) || intraOpNumThreads < 1) {
    throw new RangeError(`intraOpNumThreads must be a positive integer, got ${intraOpNumThreads}`);
  }
  return ort.InferenceSession.create(modelPath, {
    intraOpNumThreads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    enableCpuMemArena: options.enableCpuMemArena ?? true,
    extra: { session: { intra_op: { allow_spinning: (options.spinning ?? true) ? '1' : '0' } } },
  });
}

/** Whether a session's model takes a noise level (every model but the blind DnCNN does). */
export function takesSigma(session: DenoiseSession): boolean {
  return session.inputNames.includes('sigma');
}
