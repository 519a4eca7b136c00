import { availableParallelism } from 'node:os';
import { bool, type Env, int } from '../../shared/config/env.ts';
import { type InfraConfig, readInfraConfig } from '../../shared/config/infra.ts';

export type ConverterConfig = Readonly<{
  infra: InfraConfig;
  concurrency: number;
  /**
   * CPU priority of the converter process (nice, 0–19): intake, the bus and the S3 server answer first,
   * so a refusal (429) or a poll is quick while conversions use every cycle left; the denoiser (10) is lower still.
   */
  nice: number;
  /** Decompression-bomb guard: images with more pixels are refused before decoding. */
  maxInputPixels: number;
  /** Outputs (after resize) with more pixels are refused. */
  maxOutputPixels: number;
  /** Keep the GPS directory of the source's EXIF in converted outputs (stripped by default). */
  keepGps: boolean;
}>;

export function readConfig(env: Env): ConverterConfig {
  return Object.freeze({
    infra: readInfraConfig(env),
    concurrency: int(env, 'CONVERTER_CONCURRENCY', availableParallelism(), 1, 64),
    nice: int(env, 'CONVERTER_NICE', 5, 0, 19),
    maxInputPixels: int(env, 'MAX_INPUT_PIXELS', 100_000_000, 1),
    maxOutputPixels: int(env, 'MAX_OUTPUT_PIXELS', 100_000_000, 1),
    keepGps: bool(env, 'KEEP_GPS', false),
  });
}
