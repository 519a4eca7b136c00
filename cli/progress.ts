import cliProgress from 'cli-progress';
import type { JobStreamEvent } from './events.ts';

/** Shows a job's events as they come: live bars on a terminal, one line per event otherwise. */
export type Reporter = Readonly<{ event: (event: JobStreamEvent) => void; stop: () => void }>;
export type ProgressMode = 'auto' | 'bars' | 'lines' | 'none';

type StepState = { label: string; status: string; value: number };

export function createReporter(mode: ProgressMode, stream: NodeJS.WriteStream = process.stderr): Reporter {
  const chosen = mode === 'auto' ? (stream.isTTY ? 'bars' : 'lines') : mode;
  switch (chosen) {
    case 'bars':
      return barReporter(stream);
    case 'lines':
      return lineReporter(stream);
    case 'none':
      return { event: () => {}, stop: () => {} };
    default:
      return assertNever(chosen);
  }
}

/** What an event does to its step: the new status text and bar value (0..100), or null to ignore. */
export function stepUpdate(event: JobStreamEvent): { status: string; value: number | null } | null {
  switch (event.type) {
    case 'StepDispatched':
      return { status: 'queued', value: 0 };
    case 'StepStarted':
      return {
        status: (event.attempt ?? 1) > 1 ? `running (attempt ${event.attempt})` : 'running',
        value: 0,
      };
    case 'StepProgressed':
      return typeof event.fraction === 'number'
        ? { status: `running ${Math.round(event.fraction * 100)}%`, value: Math.round(event.fraction * 100) }
        : null;
    case 'StepRetrying':
      return { status: `retrying: ${event.error ?? ''}`.trim(), value: 0 };
    case 'StepSucceeded':
      return { status: `done ${describeOutput(event)}`.trim(), value: 100 };
    case 'StepFailed':
      return { status: `failed: ${event.error ?? 'unknown error'}`, value: null };
    default:
      return null;
  }
}

function describeOutput(event: JobStreamEvent): string {
  const parts: string[] = [];
  if (typeof event.durationMs === 'number') parts.push(`in ${formatMs(event.durationMs)}`);
  const output = event.output;
  if (output) {
    parts.push(`${output.format} ${formatBytes(output.bytes)}`);
    if (output.width !== null && output.height !== null) parts.push(`${output.width}×${output.height}`);
  }
  return parts.join(', ');
}

function labelOf(step: { id: string; op: string }): string {
  return step.id === step.op ? step.id : `${step.id} (${step.op})`;
}

function barReporter(stream: NodeJS.WriteStream): Reporter {
  const multibar = new cliProgress.MultiBar(
    {
      stream,
      format: ' {label} |{bar}| {percentage}% {status}',
      hideCursor: true,
      clearOnComplete: false,
      noTTYOutput: !stream.isTTY,
      notTTYSchedule: 250,
      autopadding: true,
    },
    cliProgress.Presets.shades_classic,
  );
  const bars = new Map<string, { bar: cliProgress.SingleBar; state: StepState }>();
  return {
    event(event) {
      if (event.type === 'JobPlanned') {
        const width = Math.max(...(event.steps ?? []).map((step) => labelOf(step).length), 4);
        for (const step of event.steps ?? []) {
          const state = { label: labelOf(step).padEnd(width), status: 'waiting', value: 0 };
          bars.set(step.id, { bar: multibar.create(100, 0, state), state });
        }
        return;
      }
      const entry = event.stepId === undefined ? undefined : bars.get(event.stepId);
      const update = stepUpdate(event);
      if (entry === undefined || update === null) return;
      entry.state.status = update.status;
      if (update.value !== null) entry.state.value = update.value;
      entry.bar.update(entry.state.value, entry.state);
    },
    stop: () => multibar.stop(),
  };
}

function lineReporter(stream: NodeJS.WriteStream): Reporter {
  const labels = new Map<string, string>();
  const write = (text: string) => stream.write(`${new Date().toISOString().slice(11, 19)} ${text}\n`);
  return {
    event(event) {
      if (event.type === 'JobPlanned') {
        for (const step of event.steps ?? []) labels.set(step.id, labelOf(step));
        write(`planned ${labels.size} step(s): ${[...labels.values()].join(', ')}`);
        return;
      }
      if (event.stepId !== undefined) {
        const update = stepUpdate(event);
        if (update !== null) write(`${labels.get(event.stepId) ?? event.stepId}: ${update.status}`);
        return;
      }
      if (event.type === 'JobCompleted') write('job completed');
      else if (event.type === 'JobFailed') write(`job failed: ${event.error ?? ''}`);
      else if (event.type === 'JobExpired') write('job expired');
    },
    stop: () => {},
  };
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} kB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function assertNever(value: never): never {
  throw new Error(`unexpected progress mode ${String(value)}`);
}
