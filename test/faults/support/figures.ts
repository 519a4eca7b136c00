import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Submission } from './load.ts';
import type { Verdict } from './verify.ts';

export type FaultFigure = Readonly<{ fault: string; durationMs: number; recoveryMs: number | null }>;

/** Prints the run's figures as a table and writes them as JSON beside the system's temp files. */
export function report(
  name: string,
  submissions: readonly Submission[],
  verdict: Verdict,
  faults: FaultFigure[],
) {
  const count = (test: (s: Submission) => boolean) => submissions.filter(test).length;
  const summary = {
    submitted: submissions.length,
    accepted: verdict.jobs,
    lost: verdict.lost.length,
    duplicateOutputs: verdict.duplicateOutputs.length,
    badOutputs: verdict.badOutputs.length,
    webhooksMissing: verdict.webhooksMissing.length,
    webhookDuplicatesSameId: verdict.webhookDuplicates,
    webhookConflicts: verdict.webhookConflicts.length,
    http500: count((s) => s.status >= 500 && s.status !== 503),
    http503: count((s) => s.status === 503),
    http429: count((s) => s.status === 429),
    noAnswer: count((s) => s.status === 0),
  };
  const lines = [
    `== ${name}`,
    ...Object.entries(summary).map(([key, value]) => `${key.padEnd(26)} ${value}`),
    '',
    `${'fault'.padEnd(26)} ${'lasted'.padStart(8)} ${'recovered in'.padStart(13)}`,
    ...faults.map(
      (f) =>
        `${f.fault.padEnd(26)} ${`${(f.durationMs / 1000).toFixed(1)} s`.padStart(8)} ${
          f.recoveryMs === null ? 'never'.padStart(13) : `${(f.recoveryMs / 1000).toFixed(1)} s`.padStart(13)
        }`,
    ),
  ];
  console.log(lines.join('\n'));
  const file = join(tmpdir(), `pixtools-${name.replace(/\W+/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ summary, faults, verdict }, null, 2));
  console.log(`figures written to ${file}`);
  return summary;
}
