import { Counter } from 'prom-client';

/**
 * Submissions refused with 429 by admission control, per work queue. Module-level so the admission
 * code calls `recordAdmissionRefusal(queue)` without threading the registry; every app's registry
 * registers this one counter.
 */
export const admissionRefusals = new Counter({
  name: 'pixtools_admission_refusals_total',
  help: 'Submissions refused (429) because the expected wait of a work queue exceeded its budget',
  labelNames: ['queue'] as const,
  registers: [],
});

export function recordAdmissionRefusal(queue: string): void {
  admissionRefusals.inc({ queue });
}
