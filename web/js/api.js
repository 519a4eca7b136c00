// Thin wrappers over the PixTools HTTP API. Errors carry the server's `detail`, turned into plain words.

export class ApiError extends Error {
  constructor(status, detail, retryAfter = null) {
    super(humanMessage(status, detail, retryAfter));
    this.status = status;
    this.detail = detail;
  }
}

/** The person-facing sentence for an API error: never raw JSON. */
export function humanMessage(status, detail, retryAfter) {
  const said = typeof detail === 'string' && detail.trim() ? detail.trim() : '';
  switch (status) {
    case 0:
      return 'We could not reach the PixTools server. Check your connection and try again.';
    case 400:
      return `That file is not an image we can process. ${said || 'Use JPEG, PNG, WebP or AVIF.'}`;
    case 401:
      return 'This PixTools server needs an API key, and none (or a wrong one) was sent.';
    case 404:
      return said || 'We could not find that job. It may have been removed.';
    case 413:
      return `That file is too big. ${said}`.trim();
    case 422:
      return said ? `Please check your choices: ${inWords(said)}.` : 'Please check your choices.';
    case 429:
      return `PixTools is busy right now. Please try again${retryAfter ? ` in ${retryAfter} seconds` : ' shortly'}.`;
    case 503:
      return `Part of PixTools is unavailable right now. ${said}`.trim();
    default:
      return `Something went wrong on our side (${status}). Please try again.`;
  }
}

const NAMES = { jpg: 'JPEG', png: 'PNG', webp: 'WebP', avif: 'AVIF', denoise: 'Denoise', metadata: 'EXIF' };

/** The API names its fields (`operation_params['webp'] quality …`); a person reads "WebP quality …". */
export function inWords(detail) {
  return detail
    .replace(/operation_params\['(\w+)'\]/g, (_, op) => NAMES[op] ?? op)
    .replace(/pipeline step "([\w-]+)"/g, 'chain step $1')
    .replace(/\bwebhook_url\b/g, 'the webhook URL')
    .replace(/\bresize (width|height)\b/g, '$1')
    .replace(/ must be 1\.\.(\d+)/g, ' must be from 1 to $1');
}

async function request(url, options) {
  let response;
  try {
    response = await fetch(url, options);
  } catch {
    throw new ApiError(0, '');
  }
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    const detail = body && typeof body.detail === 'string' ? body.detail : '';
    throw new ApiError(response.status, detail, response.headers.get('retry-after'));
  }
  return body;
}

export function submitJob(form, idempotencyKey) {
  return request('/api/process', {
    method: 'POST',
    body: form,
    headers: { 'Idempotency-Key': idempotencyKey },
  });
}

export function getJob(id) {
  return request(`/api/jobs/${encodeURIComponent(id)}`);
}
