/**
 * Step progress as events: a reporter the step worker hands to `execute`. It publishes at most one
 * `StepProgressed` per `intervalMs` (the first report and the last, done = total, always go out), with
 * an ETA from the rate measured since the first report. Message ids are deterministic per
 * (job, step, attempt, done), so a duplicate publish is dropped by JetStream. Publishing never blocks
 * or fails the step: reports are chained in the background and `flush` awaits them before the outcome.
 */
import type { EventOf, NewEvent } from '../events/events.ts';
import type { Logger } from '../log.ts';

export type ProgressData = EventOf<'StepProgressed'>['data'];
export type ProgressUnit = ProgressData['unit'];

export type ProgressReport = (done: number, total: number, unit: ProgressUnit, phase?: string) => void;

export type ProgressSink = (event: NewEvent, msgId: string) => Promise<unknown>;

export type ProgressReporter = Readonly<{ report: ProgressReport; flush: () => Promise<void> }>;

export function progressReporter(options: {
  jobId: string;
  stepId: string;
  attempt: number;
  publish: ProgressSink;
  log: Logger;
  intervalMs?: number;
  now?: () => number;
}): ProgressReporter {
  const { jobId, stepId, attempt, publish, log } = options;
  const intervalMs = options.intervalMs ?? 1_000;
  const now = options.now ?? (() => performance.now());
  const started = now();
  let lastSent = Number.NEGATIVE_INFINITY;
  let lastDone = -1;
  let chain: Promise<void> = Promise.resolve();
  const report: ProgressReport = (done, total, unit, phase) => {
    const at = now();
    const final = done >= total;
    if (done === lastDone || (!final && at - lastSent < intervalMs)) return;
    lastSent = at;
    lastDone = done;
    const etaMs =
      done > 0 && !final ? Math.round(((at - started) / done) * (total - done)) : final ? 0 : null;
    const data: ProgressData = { stepId, attempt, done, total, unit, etaMs, phase: phase ?? null };
    const msgId = `${jobId}:StepProgressed:${stepId}:${attempt}:${done}`;
    chain = chain
      .then(() => publish({ type: 'StepProgressed', data }, msgId))
      .then(
        () => undefined,
        (error: unknown) => log.warn({ err: error, jobId, stepId, done }, 'progress not published'),
      );
  };
  return { report, flush: () => chain };
}
