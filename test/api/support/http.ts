import assert from 'node:assert/strict';

type App = { request: (path: string, init?: RequestInit) => Response | Promise<Response> };
export type Upload = Readonly<{ bytes: Buffer; name: string; type?: string }>;

/** POSTs a multipart form as the reference clients do; `file: null` leaves the file out. */
export function post(
  app: App,
  file: Upload | null,
  fields: Record<string, string>,
  headers: Record<string, string> = {},
) {
  const form = new FormData();
  if (file !== null) {
    form.set('file', new File([new Uint8Array(file.bytes)], file.name, { type: file.type ?? '' }));
  }
  for (const [key, value] of Object.entries(fields)) form.set(key, value);
  return app.request('/api/process', { method: 'POST', body: form, headers });
}

/** Asserts the status and the exact `detail` (a string) or a pattern it must match. */
export async function expectError(
  response: Response | Promise<Response>,
  status: number,
  detail: string | RegExp,
) {
  const answer = await response;
  const body = (await answer.json()) as { detail?: unknown };
  assert.equal(answer.status, status, `expected ${status}, got ${answer.status}: ${JSON.stringify(body)}`);
  assert.equal(typeof body.detail, 'string', JSON.stringify(body));
  if (typeof detail === 'string') assert.equal(body.detail, detail);
  else assert.match(String(body.detail), detail);
  return answer;
}

export async function expectAccepted(response: Response | Promise<Response>): Promise<string> {
  const answer = await response;
  const body = (await answer.json()) as { job_id?: string; status?: string; detail?: string };
  assert.equal(answer.status, 202, JSON.stringify(body));
  assert.equal(body.status, 'PENDING');
  return body.job_id ?? '';
}
