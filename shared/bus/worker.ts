import { hostname } from 'node:os';
import type { JsMsg } from '@nats-io/jetstream';
import type { ExifSummary, RunStep, StepOutput } from '../events/events.ts';
import { InvalidMessageError, parseRunStep, salvageJobRef } from '../events/events.ts';
import type { Logger } from '../log.ts';
import { reportCapacity } from './capacity.ts';
import type { Bus } from './connect.ts';
import { ACK, backoffMs, consumeLoop, type Disposition } from './consume.ts';
import { type ProgressReport, progressReporter } from './progress.ts';

/** A failure that would happen again on every attempt (corrupt image, unsupported input): never retried. */
export class DeterministicStepError extends Error {
  readonly code = 'STEP_DETERMINISTIC_FAILURE';
}

export type StepResult = Readonly<{ output: StepOutput | null; metadata: ExifSummary | null }>;

export type StepContext = Readonly<{
  attempt: number;
  heartbeat: () => void;
  signal: AbortSignal;
  /** Reports how far the step is; published as `StepProgressed` about once a second (shared/bus/progress.ts). */
  progress: ProgressReport;
}>;

export type WorkerDeps = Readonly<{
  bus: Bus;
  log: Logger;
  now: () => Date;
  worker: string;
  maxDeliver: number;
  /** Transient failures are retried (with back-off) for this long after the first one (default 10 min). */
  retryBudgetMs?: number;
  execute: (command: RunStep, context: StepContext) => Promise<StepResult>;
}>;

export const DEFAULT_RETRY_BUDGET_MS = 600_000;
/** Longest pause between two attempts of a step, so a dependency that is back is used soon. */
const MAX_RETRY_DELAY_MS = 30_000;

/**
 * The shape every step worker shares: validate the command, record the start, run, record the outcome.
 * Deterministic failures become `StepFailed` at once; anything else is recorded as `StepRetrying`
 * and redelivered with back-off until max deliveries, when the planner turns the advisory into a failure.
 */
export function stepWorker(deps: WorkerDeps) {
  const { bus, log, now } = deps;
  return async (msg: JsMsg): Promise<Disposition> => {
    let command: RunStep;
    try {
      command = parseRunStep(msg.data);
    } catch (error) {
      if (!(error instanceof InvalidMessageError)) throw error;
      return reject(deps, msg, error.message);
    }
    const attempt = msg.info.deliveryCount;
    const context = {
      jobId: command.jobId,
      correlationId: command.correlationId,
      causationId: command.dispatchEventId,
    };
    const stamp = () => ({ ...context, time: now().toISOString() });
    await bus.log.append(
      stamp(),
      [{ type: 'StepStarted', data: { stepId: command.stepId, attempt, worker: deps.worker } }],
      (event) => `${command.jobId}:${event.type}:${command.stepId}:${attempt}`,
    );
    const started = performance.now();
    const progress = progressReporter({
      jobId: command.jobId,
      stepId: command.stepId,
      attempt,
      log,
      publish: (event, msgId) => bus.log.append(stamp(), [event], () => msgId),
    });
    try {
      const result = await deps.execute(command, {
        attempt,
        heartbeat: () => msg.working(),
        signal: AbortSignal.timeout(24 * 3_600_000),
        progress: progress.report,
      });
      await progress.flush();
      const durationMs = Math.round(performance.now() - started);
      await bus.log.append(stamp(), [
        { type: 'StepSucceeded', data: { stepId: command.stepId, ...result, durationMs } },
      ]);
      return ACK;
    } catch (error) {
      await progress.flush();
      const message = (error as Error).message ?? String(error);
      if (error instanceof DeterministicStepError) {
        await bus.log.append(stamp(), [
          { type: 'StepFailed', data: { stepId: command.stepId, error: message, attempts: attempt } },
        ]);
        return ACK;
      }
      const budgetMs = deps.retryBudgetMs ?? DEFAULT_RETRY_BUDGET_MS;
      const failingForMs = now().getTime() - (await firstFailureAt(bus, command, now()));
      if (failingForMs >= budgetMs) {
        const error = `gave up after ${Math.round(failingForMs / 1000)} s of transient failures: ${message}`;
        log.error({ jobId: command.jobId, stepId: command.stepId, attempt }, error);
        await bus.log.append(stamp(), [
          { type: 'StepFailed', data: { stepId: command.stepId, error, attempts: attempt } },
        ]);
        return ACK;
      }
      const retryInMs = Math.max(
        100,
        Math.min(backoffMs(attempt), MAX_RETRY_DELAY_MS, budgetMs - failingForMs),
      );
      log.warn(
        { err: error, jobId: command.jobId, stepId: command.stepId, attempt, failingForMs, retryInMs },
        'step failed; will retry',
      );
      await bus.log.append(
        stamp(),
        [{ type: 'StepRetrying', data: { stepId: command.stepId, attempt, error: message, retryInMs } }],
        (event) => `${command.jobId}:${event.type}:${command.stepId}:${attempt}`,
      );
      return { kind: 'nak', delayMs: retryInMs };
    }
  };
}

/** When this step's current run of transient failures began: its first `StepRetrying`, else now. */
async function firstFailureAt(bus: Bus, command: RunStep, now: Date): Promise<number> {
  const history = await bus.log.history(command.jobId).catch(() => null);
  for (const { event } of history?.events ?? []) {
    if (event.type === 'StepRetrying' && event.data.stepId === command.stepId)
      return Date.parse(event.metadata.time);
  }
  return now.getTime();
}

/** A command that cannot be read is terminated; its job (if it can be told) gets a failure with the reason. */
async function reject(deps: WorkerDeps, msg: JsMsg, reason: string): Promise<Disposition> {
  const ref = salvageJobRef(msg.data);
  deps.log.error({ seq: msg.seq, subject: msg.subject, reason, jobId: ref?.jobId }, 'malformed work message');
  if (ref !== null && ref.stepId !== null) {
    await deps.bus.log.append(
      { jobId: ref.jobId, correlationId: ref.jobId, causationId: null, time: deps.now().toISOString() },
      [
        {
          type: 'StepFailed',
          data: { stepId: ref.stepId, error: `malformed work message: ${reason}`, attempts: 1 },
        },
      ],
    );
  }
  return { kind: 'term', reason };
}

export type RunWorkerOptions = Readonly<{
  bus: Bus;
  log: Logger;
  /** The durable consumer, which is also the worker's name in `StepStarted`. */
  durable: 'converter' | 'denoiser';
  concurrency: number;
  ackWaitMs: number;
  maxDeliver: number;
  retryBudgetMs?: number;
  execute: WorkerDeps['execute'];
  signal: AbortSignal;
}>;

/** A step worker's consume loop: heartbeats at a third of the ack wait, until `signal` aborts. */
export async function runStepWorker(options: RunWorkerOptions): Promise<void> {
  const { bus, log, durable } = options;
  const worker = `${durable}@${hostname()}:${process.pid}`;
  // Intake's admission reads these reports: queued work × observed service time ÷ capacity.
  const capacity = reportCapacity(bus.nc, bus.names, {
    worker,
    queue: durable === 'denoiser' ? 'ml' : 'io',
    concurrency: options.concurrency,
  });
  const handle = stepWorker({
    bus,
    log,
    now: () => new Date(),
    worker,
    maxDeliver: options.maxDeliver,
    retryBudgetMs: options.retryBudgetMs,
    execute: async (command, context) => {
      const started = performance.now();
      try {
        return await options.execute(command, context);
      } finally {
        capacity.observe(performance.now() - started);
      }
    },
  });
  await consumeLoop({
    js: bus.js,
    stream: bus.names.workStream,
    durable: bus.names.durable[durable],
    concurrency: options.concurrency,
    heartbeatMs: Math.floor(options.ackWaitMs / 3),
    handle,
    log,
    signal: options.signal,
  }).finally(() => capacity.stop());
}

export type StepWorker = Readonly<{ done: Promise<void>; stop: () => Promise<void> }>;

/** Starts a step worker's loop (what each worker's `main.ts` and the tests run); `stop` drains it. */
export function startStepWorker(options: Omit<RunWorkerOptions, 'signal'>): StepWorker {
  const stop = new AbortController();
  const done = runStepWorker({ ...options, signal: stop.signal });
  return {
    done,
    async stop() {
      stop.abort();
      await done;
    },
  };
}
