import type { z } from 'zod';
import { STEP_PARAMS, type StepOp } from '../../../shared/events/operations.ts';
import { ApiError } from '../errors.ts';

/** The reference checks quality (rule 7) before resize (rule 8) before the rest; issues keep that order. */
const RANK: Readonly<Record<string, number>> = { quality: 0, resize: 1 };
const rankOf = (issue: z.core.$ZodIssue) => RANK[String(issue.path[0] ?? 'resize')] ?? 2;

export type ParamsProblem = Readonly<{ rank: number; message: string }>;

/**
 * The one place where the shared parameter schemas' issues become `detail` messages: the label, the
 * parameter's path, then the schema's own wording (`operation_params['webp'] quality must be 1..100`).
 * Returns the parsed params, or the first problem in rule order.
 */
export function checkParams<O extends StepOp>(
  op: O,
  label: string,
  params: unknown,
): { ok: true; params: z.infer<(typeof STEP_PARAMS)[O]> } | { ok: false; problem: ParamsProblem } {
  const result = STEP_PARAMS[op].safeParse(params);
  if (result.success) return { ok: true, params: result.data as z.infer<(typeof STEP_PARAMS)[O]> };
  const issue = [...result.error.issues].sort((a, b) => rankOf(a) - rankOf(b))[0];
  const path = (issue?.path ?? []).map(String).join(' ');
  const message = [label, path, issue?.message ?? 'is invalid'].filter((part) => part !== '').join(' ');
  return { ok: false, problem: { rank: issue ? rankOf(issue) : 2, message } };
}

/** Throws the earliest problem (by rule, then by position) as a 422. */
export function firstProblem(problems: readonly ParamsProblem[]): void {
  const first = [...problems].sort((a, b) => a.rank - b.rank)[0];
  if (first !== undefined) throw new ApiError(422, first.message);
}
