import { randomUUID } from 'node:crypto';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { apiKeyAuth } from './auth.ts';
import type { IntakeDeps } from './deps.ts';
import { docsApi } from './docs.api.ts';
import { ApiError } from './errors.ts';
import { eventsApi } from './events.api.ts';
import { healthApi } from './health.api.ts';
import { jobsApi } from './jobs.api.ts';
import { createMetrics } from './metrics.ts';
import { processApi } from './process.api.ts';

export function createApp(deps: IntakeDeps) {
  const app = new Hono();
  const metrics = createMetrics({ db: deps.db, bus: deps.bus });
  app.use('*', async (c, next) => {
    const incoming = c.req.header('x-request-id');
    const requestId = incoming && /^[\w.:-]{1,128}$/.test(incoming) ? incoming : randomUUID();
    c.set('requestId' as never, requestId as never);
    c.header('X-Request-ID', requestId);
    await next();
  });
  app.use('*', metrics.middleware);
  app.use('/api/*', apiKeyAuth(deps.config.apiKey));
  app.route('/api', healthApi(deps));
  app.route('/api', processApi(deps));
  app.route('/api', jobsApi(deps));
  app.route('/api', eventsApi(deps));
  app.get('/metrics', async (c) =>
    c.body(await metrics.registry.metrics(), 200, { 'Content-Type': metrics.registry.contentType }),
  );
  app.route('/docs', docsApi());
  app.use('/*', serveStatic({ root: deps.config.webDir }));

  app.notFound((c) => c.json({ detail: 'Not Found' }, 404));
  app.onError((error, c) => {
    if (error instanceof ApiError) {
      for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
      return c.json({ detail: error.message }, error.status);
    }
    if (error instanceof HTTPException) return c.json({ detail: error.message }, error.status);
    deps.log.error({ err: error, path: c.req.path }, 'unhandled error');
    return c.json({ detail: 'Internal server error' }, 500);
  });
  return app;
}
