import { type Env, int, optionalStr, str } from '../../shared/config/env.ts';
import { type InfraConfig, readInfraConfig } from '../../shared/config/infra.ts';
import { readAllowedHosts } from '../../shared/net/ssrf.ts';
import { MAX_STEPS, MAX_STEPS_CEILING } from '../../shared/plan/dag.ts';
import type { AdmissionConfig } from './admission.ts';

export type IntakeConfig = Readonly<{
  infra: InfraConfig;
  port: number;
  host: string;
  /** Largest accepted upload; exactly this many bytes is accepted. */
  maxUploadBytes: number;
  /** Decompression-bomb guard: images with more pixels are refused from their header, before decoding. */
  maxInputPixels: number;
  /** Largest output (width × height) a resize may ask for. */
  maxOutputPixels: number;
  /** When set, every /api route but the health checks needs `X-API-Key`. Never logged. */
  apiKey: string | null;
  /** Webhook targets let through the SSRF guard (`host`, `host:port`, address or CIDR). */
  webhookAllowedHosts: readonly string[];
  /** Steps a pipeline may have. */
  maxPipelineSteps: number;
  /** Compute budget of one job: estimated CPU-seconds, pixels × per-operation cost over the DAG. */
  maxJobCostSeconds: number;
  /** Uploads being received at once; more are answered 429 before their body is read. */
  maxConcurrentUploads: number;
  /** Time a request body may take to arrive in full (slow bodies are answered 408). */
  bodyTimeoutMs: number;
  /** Open event streams (SSE), in total and per client address; more are answered 429. */
  sseMaxStreams: number;
  sseMaxStreamsPerClient: number;
  /** Largest `JobSubmitted` appended (also bounded by the NATS server's max_payload). */
  maxEventBytes: number;
  idempotencyTtlSeconds: number;
  /** Admission: the expected queue wait a new job may face, per queue (see `admission.ts`). */
  admission: AdmissionConfig;
  webDir: string;
}>;

export function readConfig(env: Env): IntakeConfig {
  return Object.freeze({
    infra: readInfraConfig(env),
    port: int(env, 'PORT', 8000, 1, 65535),
    host: str(env, 'HOST', '0.0.0.0'),
    maxUploadBytes: int(env, 'MAX_UPLOAD_BYTES', 10 * 1024 * 1024, 1),
    maxInputPixels: int(env, 'MAX_INPUT_PIXELS', 100_000_000, 1),
    maxOutputPixels: int(env, 'MAX_OUTPUT_PIXELS', 100_000_000, 1),
    apiKey: optionalStr(env, 'API_KEY'),
    webhookAllowedHosts: readAllowedHosts(env),
    maxPipelineSteps: int(env, 'MAX_PIPELINE_STEPS', MAX_STEPS, 1, MAX_STEPS_CEILING),
    maxJobCostSeconds: int(env, 'MAX_JOB_COST_SECONDS', 1800, 1),
    maxConcurrentUploads: int(env, 'MAX_CONCURRENT_UPLOADS', 4, 1, 10_000),
    bodyTimeoutMs: int(env, 'UPLOAD_BODY_TIMEOUT_MS', 60_000, 100),
    sseMaxStreams: int(env, 'SSE_MAX_STREAMS', 1000, 1),
    sseMaxStreamsPerClient: int(env, 'SSE_MAX_STREAMS_PER_CLIENT', 20, 1),
    maxEventBytes: int(env, 'MAX_EVENT_BYTES', 1024 * 1024, 4096, 64 * 1024 * 1024),
    idempotencyTtlSeconds: int(env, 'IDEMPOTENCY_TTL_SECONDS', 24 * 3600, 1),
    admission: Object.freeze({
      maxWaitMs: {
        io: int(env, 'ADMISSION_IO_MAX_WAIT_MS', 600, 0),
        ml: int(env, 'ADMISSION_ML_MAX_WAIT_MS', 300_000, 0),
      },
      defaultServiceMs: {
        io: int(env, 'ADMISSION_IO_SERVICE_MS', 200, 1),
        ml: int(env, 'ADMISSION_ML_SERVICE_MS', 30_000, 1),
      },
      cacheMs: int(env, 'ADMISSION_CACHE_MS', 200, 0, 10_000),
      readTimeoutMs: int(env, 'ADMISSION_READ_TIMEOUT_MS', 500, 10, 30_000),
      transitMs: int(env, 'ADMISSION_TRANSIT_MS', 300, 0, 60_000),
    }),
    webDir: str(env, 'WEB_DIR', 'web'),
  });
}
