import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** A client-facing failure: mapped once, in `app.onError`, to `{"detail": message}` with its status. */
export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}
