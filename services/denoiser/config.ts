import { type Env, int, str } from '../../shared/config/env.ts';
import { type InfraConfig, readInfraConfig } from '../../shared/config/infra.ts';

export type DenoiserConfig = Readonly<{
  infra: InfraConfig;
  /** Inferences at a time in this process (each holds one work message). */
  concurrency: number;
  /** onnxruntime intra-op threads per inference. */
  threads: number;
  /** Tile edge in pixels including the 20-pixel margins. */
  tileSize: number;
  maxInputPixels: number;
  /** The authors' .mat files (fetched by `npm run models:fetch`); converted to ONNX on first start. */
  weightsDir: string;
  onnxDir: string;
}>;

export function readConfig(env: Env): DenoiserConfig {
  return Object.freeze({
    infra: readInfraConfig(env),
    concurrency: int(env, 'DENOISER_CONCURRENCY', 1, 1, 16),
    threads: int(env, 'DENOISER_THREADS', 1, 1, 64),
    tileSize: int(env, 'DENOISER_TILE_SIZE', 768, 64, 4096),
    maxInputPixels: int(env, 'MAX_INPUT_PIXELS', 100_000_000, 1),
    weightsDir: str(env, 'DNCNN_WEIGHTS_DIR', 'models/weights'),
    onnxDir: str(env, 'DNCNN_ONNX_DIR', 'models/onnx'),
  });
}
