import type { Bus } from '../../shared/bus/connect.ts';
import { ApiError } from './errors.ts';

/**
 * Overload answers 429 with Retry-After instead of timing out: when the bounded work stream holds as
 * many steps as it may (`max_msgs`, discard new), new submissions are refused until it drains.
 * The stream's state is read at most every `cacheMs`.
 */
export function workQueueGuard(bus: Bus, retryAfterSeconds: number, cacheMs = 500) {
  let checkedAt = 0;
  let full = false;
  return async (): Promise<void> => {
    if (Date.now() - checkedAt > cacheMs) {
      const info = await bus.jsm.streams.info(bus.names.workStream);
      const limit = info.config.max_msgs;
      full = limit > 0 && info.state.messages >= limit;
      checkedAt = Date.now();
    }
    if (full) {
      throw new ApiError(429, 'Too many jobs are waiting; try again shortly', {
        'Retry-After': String(retryAfterSeconds),
      });
    }
  };
}
