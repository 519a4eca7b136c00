import type { MiddlewareHandler } from 'hono';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import { admissionRefusals } from './metrics/admission.ts';
import { type MetricSources, registerSystemMetrics } from './metrics/collectors.ts';

export { recordAdmissionRefusal } from './metrics/admission.ts';

export type Metrics = Readonly<{ registry: Registry; middleware: MiddlewareHandler }>;

/**
 * Prometheus metrics for `GET /metrics`: process defaults, request counts and latencies by route
 * pattern (never by raw path, so job ids do not explode the label set), admission refusals, and —
 * given `sources` — the system's figures read at scrape time (jobs, steps, queues, consumer lag,
 * webhooks, projection lag; see docs/OPERATIONS.md). One registry per app.
 */
export function createMetrics(sources?: MetricSources): Metrics {
  const registry = new Registry();
  // Event-loop delay is sampled every 10 ms (prom-client's default). Every 100 ms would spare an idle intake
  // about 6 ms of CPU a second, but the histogram's figures include the sampling interval, so every
  // `..._eventloop_lag_*` gauge would read 0.1 s on an idle process (measured): not worth a false alarm.
  collectDefaultMetrics({ register: registry, prefix: 'pixtools_intake_' });
  registry.registerMetric(admissionRefusals);
  if (sources) registerSystemMetrics(registry, sources);
  const requests = new Counter({
    name: 'pixtools_http_requests_total',
    help: 'HTTP requests by method, route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'pixtools_http_request_duration_seconds',
    help: 'HTTP request latency by method and route',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const middleware: MiddlewareHandler = async (c, next) => {
    const started = performance.now();
    await next();
    const route = c.req.routePath || 'unmatched';
    duration.observe({ method: c.req.method, route }, (performance.now() - started) / 1000);
    requests.inc({ method: c.req.method, route, status: String(c.res.status) });
  };
  return { registry, middleware };
}
