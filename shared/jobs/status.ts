import type { EventOf, JobEvent, JobEventType } from '../events/events.ts';

/**
 * A job's public status, defined once: intake (replies, the job body built from the log), the
 * notifier (webhook payloads) and the projection (the `jobs.status` column) all use this module.
 */
export const JOB_STATUSES = [
  'PENDING',
  'PROCESSING',
  'COMPLETED',
  'FAILED',
  'COMPLETED_WEBHOOK_FAILED',
] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/** The events that end a job's processing; a webhook and the retention sweeper act on them. */
export const TERMINAL_EVENTS = ['JobCompleted', 'JobFailed'] as const satisfies readonly JobEventType[];
export type TerminalEvent = EventOf<(typeof TERMINAL_EVENTS)[number]>;

export function isTerminalEvent(event: JobEvent): event is TerminalEvent {
  return event.type === 'JobCompleted' || event.type === 'JobFailed';
}

/** Statuses in which a job's outputs are final: the body must carry its links. */
export const SETTLED_STATUSES: readonly JobStatus[] = ['COMPLETED', 'FAILED', 'COMPLETED_WEBHOOK_FAILED'];

export type StatusMove = Readonly<{ from: readonly JobStatus[]; to: JobStatus }>;

/**
 * Every status change: the event that causes it, the statuses it applies in, the status it leads to.
 * Statuses only move forward; an event outside `from` leaves the status alone (late or duplicate).
 */
export const STATUS_MOVES: Readonly<Partial<Record<JobEventType, StatusMove>>> = {
  StepStarted: { from: ['PENDING'], to: 'PROCESSING' },
  JobCompleted: { from: ['PENDING', 'PROCESSING'], to: 'COMPLETED' },
  JobFailed: { from: ['PENDING', 'PROCESSING'], to: 'FAILED' },
  // A completed job whose webhook failed for good; a later successful redelivery puts it back.
  WebhookFailed: { from: ['COMPLETED'], to: 'COMPLETED_WEBHOOK_FAILED' },
  WebhookDelivered: { from: ['COMPLETED_WEBHOOK_FAILED'], to: 'COMPLETED' },
};

export function nextStatus(status: JobStatus, event: JobEvent): JobStatus {
  const move = STATUS_MOVES[event.type];
  return move?.from.includes(status) ? move.to : status;
}

export function statusOf(events: readonly JobEvent[]): JobStatus {
  return events.reduce(nextStatus, 'PENDING' as JobStatus);
}

/** The status a terminal event reports to a webhook receiver. */
export function terminalStatus(event: TerminalEvent): 'COMPLETED' | 'FAILED' {
  return event.type === 'JobCompleted' ? 'COMPLETED' : 'FAILED';
}
