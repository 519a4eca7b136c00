import {
  OPERATIONS,
  type Operation,
  type OperationParams,
  OperationParams as OperationParamsSchema,
} from '../../../shared/events/operations.ts';
import { ApiError } from '../errors.ts';
import { checkParams, firstProblem, type ParamsProblem } from './params.ts';
import { clip, quote } from './quote.ts';

const invalid = (message: string) => new ApiError(422, message);
export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** `JSON.parse` whose error names the field and quotes at most a little of the input. */
export function parseJson(raw: string, what: string): unknown {
  try {
    return JSON.parse(raw);
  } catch (error) {
    throw invalid(`${what}: ${clip((error as Error).message)}`);
  }
}

/** Rule 5: a JSON array of known operation names, not empty. Duplicates collapse to one. */
export function parseOperations(raw: string): Operation[] {
  const json = parseJson(raw, 'Invalid operations: not JSON');
  if (!Array.isArray(json)) throw invalid(`Invalid operations: expected a JSON array, got ${quote(raw)}`);
  const unknown = json.filter((name) => !(OPERATIONS as readonly unknown[]).includes(name));
  if (unknown.length > 0) {
    const named = unknown.slice(0, 3).map(quote).join(', ');
    throw invalid(
      `Invalid operations: unknown ${named}${unknown.length > 3 ? ` and ${unknown.length - 3} more` : ''}; ` +
        `expected any of ${OPERATIONS.join(', ')}`,
    );
  }
  if (json.length === 0) throw invalid('At least one operation is required');
  return [...new Set(json as Operation[])];
}

/**
 * Rules 6, 7 and 8: a JSON object of objects; entries for operations that were not requested are
 * dropped; each requested operation's entry is checked by its shared schema (quality before resize).
 */
export function parseOperationParams(raw: string | null, operations: readonly Operation[]): OperationParams {
  if (raw === null || raw.trim() === '') return {};
  const json = parseJson(raw, 'Invalid operation_params JSON');
  if (!isObject(json)) throw invalid('operation_params must be a JSON object');
  const parsed: Record<string, unknown> = {};
  const problems: ParamsProblem[] = [];
  for (const op of operations) {
    const value = json[op];
    if (value === undefined) continue;
    const label = `operation_params['${op}']`;
    if (!isObject(value)) throw invalid(`${label} must be an object`);
    const checked = checkParams(op, label, value);
    if (checked.ok) parsed[op] = checked.params;
    else problems.push(checked.problem);
  }
  firstProblem(problems);
  return OperationParamsSchema.parse(parsed);
}
