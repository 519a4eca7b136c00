import { bool, type Env, int, str } from '../../shared/config/env.ts';
import { type InfraConfig, readInfraConfig } from '../../shared/config/infra.ts';

export type DenoiserConfig = Readonly<{
  infra: InfraConfig;
  /** Inferences at a time in this process (each holds one work message). */
  concurrency: number;
  /** onnxruntime intra-op threads per inference while conversions are waiting or running. */
  threads: number;
  /** Threads per inference while the io queue is idle (1 turns the wide sessions off). */
  maxThreads: number;
  /** CPU priority of the denoiser process (nice, 0–19): conversions get the cores first. */
  nice: number;
  /** Tile edge in pixels including the margins. */
  tileSize: number;
  maxInputPixels: number;
  /** The authors' .mat files; fetched on first start when missing, converted to ONNX. */
  weightsDir: string;
  ffdnetWeightsDir: string;
  /** Download missing weights from the authors' repositories at start-up. */
  fetchWeights: boolean;
  onnxDir: string;
}>;

export function readConfig(env: Env): DenoiserConfig {
  return Object.freeze({
    infra: readInfraConfig(env),
    concurrency: int(env, 'DENOISER_CONCURRENCY', 1, 1, 16),
    threads: int(env, 'DENOISER_THREADS', 1, 1, 64),
    maxThreads: int(env, 'DENOISER_MAX_THREADS', 2, 1, 64),
    nice: int(env, 'DENOISER_NICE', 15, 0, 19),
    tileSize: int(env, 'DENOISER_TILE_SIZE', 768, 64, 4096),
    maxInputPixels: int(env, 'MAX_INPUT_PIXELS', 100_000_000, 1),
    weightsDir: str(env, 'DNCNN_WEIGHTS_DIR', 'models/weights'),
    ffdnetWeightsDir: str(env, 'FFDNET_WEIGHTS_DIR', 'models/weights'),
    fetchWeights: bool(env, 'DENOISER_FETCH_WEIGHTS', true),
    onnxDir: str(env, 'DNCNN_ONNX_DIR', 'models/onnx'),
  });
}
