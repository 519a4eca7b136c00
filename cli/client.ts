/**
 * The PixTools HTTP API as the CLI sees it: plain `fetch`, errors carry the API's `detail`.
 * The CLI talks HTTP only; it imports nothing from the services.
 */
export type ClientOptions = Readonly<{ url: string; apiKey: string | null }>;

export type JobStep = Readonly<{
  id: string;
  operation: string;
  status: string;
  duration_ms: number | null;
  error: string | null;
  output: { format: string; bytes: number; width: number | null; height: number | null } | null;
}>;

export type JobBody = Readonly<{
  job_id: string;
  status: 'PENDING' | 'PROCESSING' | 'COMPLETED' | 'FAILED' | 'COMPLETED_WEBHOOK_FAILED';
  operations: string[];
  result_urls: Record<string, string>;
  archive_url: string | null;
  error_message: string | null;
  expired: boolean;
  steps: JobStep[];
}>;

export const TERMINAL_STATUSES: ReadonlySet<string> = new Set([
  'COMPLETED',
  'FAILED',
  'COMPLETED_WEBHOOK_FAILED',
]);

/** Why a command stops: `refused` (4xx), `unavailable` (network, 5xx), `failed` (the job failed). */
export class CliError extends Error {
  constructor(
    readonly kind: 'refused' | 'unavailable' | 'failed' | 'usage',
    message: string,
    readonly status: number | null = null,
    /** The JSON body was already printed (`--json`): only the message goes to stderr. */
    readonly reported = false,
  ) {
    super(message);
  }
}

export const EXIT_CODES: Readonly<Record<CliError['kind'], number>> = {
  failed: 1,
  usage: 2,
  refused: 3,
  unavailable: 4,
};

export function createClient({ url, apiKey }: ClientOptions) {
  const base = url.replace(/\/+$/, '');
  const headers = (extra: Record<string, string> = {}) => ({
    ...(apiKey === null ? {} : { 'X-API-Key': apiKey }),
    ...extra,
  });
  const request = async (path: string, init: RequestInit = {}): Promise<Response> => {
    try {
      return await fetch(`${base}${path}`, {
        ...init,
        headers: headers(init.headers as Record<string, string>),
      });
    } catch (error) {
      throw new CliError('unavailable', `Cannot reach ${base}: ${causeOf(error)}`);
    }
  };
  return {
    base,
    request,
    headers,
    async job(jobId: string): Promise<JobBody> {
      const response = await request(`/api/jobs/${encodeURIComponent(jobId)}`);
      if (!response.ok) throw await errorOf(response);
      return (await response.json()) as JobBody;
    },
  };
}
export type Client = ReturnType<typeof createClient>;

/** The API's `{"detail": ...}` as a CliError (refused for 4xx, unavailable for 5xx). */
export async function errorOf(response: Response): Promise<CliError> {
  const text = await response.text().catch(() => '');
  let detail = text || response.statusText;
  try {
    const body = JSON.parse(text) as { detail?: unknown };
    if (typeof body.detail === 'string') detail = body.detail;
  } catch {
    // not JSON: the raw text is the best detail there is
  }
  const kind = response.status >= 500 || response.status === 429 ? 'unavailable' : 'refused';
  return new CliError(kind, `${response.status}: ${detail}`, response.status);
}

function causeOf(error: unknown): string {
  if (error instanceof Error) {
    const cause = error.cause instanceof Error ? error.cause.message : null;
    return cause ?? error.message;
  }
  return String(error);
}
