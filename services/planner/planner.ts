import type { Bus } from '../../shared/bus/connect.ts';
import { consumeLoop } from '../../shared/bus/consume.ts';
import type { Logger } from '../../shared/log.ts';
import { onDispatch, onEvent, onMaxDeliveries } from './handlers.ts';
import { JobStates } from './states.ts';

export type PlannerOptions = Readonly<{ bus: Bus; log: Logger; now: () => Date; concurrency: number }>;
export type Planner = ReturnType<typeof startPlanner>;

/**
 * The planner's three loops, wired: job events → decisions, `StepDispatched` → work stream, and
 * max-deliveries advisories → `StepFailed`. `main.ts` and the tests run exactly this.
 */
export function startPlanner({ bus, log, now, concurrency }: PlannerOptions) {
  const stop = new AbortController();
  const deps = { bus, log, now };
  const states = new JobStates(bus.log);
  const common = { js: bus.js, heartbeatMs: null, log, signal: stop.signal };
  const loops = Promise.all([
    consumeLoop({
      ...common,
      stream: bus.names.eventsStream,
      durable: bus.names.durable.planner,
      concurrency,
      handle: onEvent(deps, states),
    }),
    consumeLoop({
      ...common,
      stream: bus.names.eventsStream,
      durable: bus.names.durable.dispatcher,
      concurrency,
      handle: onDispatch(deps),
    }),
    consumeLoop({
      ...common,
      stream: bus.names.advisoryStream,
      durable: bus.names.durable.advisories,
      concurrency: 1,
      handle: onMaxDeliveries(deps),
    }),
  ]);
  return {
    states,
    /** Stops pulling, lets in-flight decisions finish. */
    async stop(): Promise<void> {
      stop.abort();
      await loops;
    },
  };
}
