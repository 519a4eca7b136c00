/**
 * onnxruntime-node sessions for the converted DnCNN models (see models/convert.ts).
 */
import * as ort from 'onnxruntime-node';

export type DenoiseModel = 'blind' | 'clip';

export interface SessionOptions {
  /** Threads one inference may use. Default 1: scale with processes/concurrency instead. */
  readonly intraOpNumThreads?: number;
  /** Keep onnxruntime's memory arena (faster repeated runs, RSS stays at the peak). Default true. */
  readonly enableCpuMemArena?: boolean;
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
  });
}

/** Which model a session holds, from its inputs: the clip model takes a `sigma` input. */
export function sessionModel(session: DenoiseSession): DenoiseModel {
  return session.inputNames.includes('sigma') ? 'clip' : 'blind';
}
