import {
  type CircuitBreakerPolicy,
  CircuitState,
  ConsecutiveBreaker,
  circuitBreaker,
  handleWhen,
} from 'cockatiel';
import type { Logger } from '../../../shared/log.ts';
import { WebhookUrlForbiddenError } from '../../../shared/net/ssrf.ts';

export type BreakerOptions = Readonly<{ threshold: number; halfOpenAfterMs: number; log: Logger }>;

const MAX_HOSTS = 10_000;

/**
 * One cockatiel circuit breaker per destination host (`host:port`): after `threshold` consecutive
 * failures a host's deliveries are refused at once (and go to their retry queue) until a half-open
 * trial succeeds. Other hosts never notice. A refused target (SSRF) is not the host's fault.
 */
export class HostBreakers {
  private readonly byHost = new Map<string, CircuitBreakerPolicy>();

  constructor(private readonly options: BreakerOptions) {}

  for(url: string): CircuitBreakerPolicy {
    const host = hostOf(url);
    const existing = this.byHost.get(host);
    if (existing !== undefined) return existing;
    if (this.byHost.size >= MAX_HOSTS) this.evictClosed();
    const policy = circuitBreaker(
      handleWhen((error) => !(error instanceof WebhookUrlForbiddenError)),
      {
        halfOpenAfter: this.options.halfOpenAfterMs,
        breaker: new ConsecutiveBreaker(this.options.threshold),
      },
    );
    const { log } = this.options;
    policy.onBreak(() => log.warn({ host }, 'webhook circuit opened for host'));
    policy.onReset(() => log.info({ host }, 'webhook circuit closed for host'));
    this.byHost.set(host, policy);
    return policy;
  }

  stateOf(url: string): CircuitState {
    return this.byHost.get(hostOf(url))?.state ?? CircuitState.Closed;
  }

  private evictClosed(): void {
    for (const [host, policy] of this.byHost) {
      if (policy.state === CircuitState.Closed) this.byHost.delete(host);
    }
  }
}

export function hostOf(url: string): string {
  try {
    return new URL(url).host.toLowerCase();
  } catch {
    return url;
  }
}
