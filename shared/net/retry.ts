import { ExponentialBackoff, handleWhen, retry } from 'cockatiel';
import type { Logger } from '../log.ts';

/**
 * Runs `action` until it succeeds: a dependency that is down at start is waited for (back-off from
 * 250 ms to 5 s, each failure logged) instead of ending the process. cockatiel's retry policy does the
 * counting and the back-off.
 */
export async function untilDone<T>(
  what: string,
  log: Logger | undefined,
  action: () => Promise<T>,
  signal?: AbortSignal,
  /** Errors waiting cannot cure (a configuration the server refuses): thrown at once. */
  fatal: (error: Error) => boolean = () => false,
): Promise<T> {
  const policy = retry(
    handleWhen((error) => !fatal(error)),
    {
      maxAttempts: Number.MAX_SAFE_INTEGER,
      backoff: new ExponentialBackoff({ initialDelay: 250, maxDelay: 5000 }),
    },
  );
  const listener = policy.onRetry((reason) => {
    const err = 'error' in reason ? (reason.error as Error).message : 'unexpected value';
    log?.warn(
      { err, attempt: reason.attempt, retryInMs: Math.round(reason.delay) },
      `${what} not ready yet; retrying`,
    );
  });
  try {
    return await policy.execute(() => action(), signal);
  } finally {
    listener.dispose();
  }
}
