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

  const allowed = methodsByRoute(app.routes);
  app.notFound((c) => {
    // A route that exists under other methods is a 405 with Allow, as the reference (FastAPI) answers.
    const methods = allowed(c.req.path);
    if (methods === null) return c.json({ detail: 'Not Found' }, 404);
    c.header('Allow', methods);
    return c.json({ detail: 'Method Not Allowed' }, 405);
  });
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

/**
 * The methods each registered route answers (GET implies HEAD), as a lookup by request path: `null` for a
 * path no route has. Built once from the app's own routes, so it cannot drift from them; middleware
 * (`ALL`) does not count.
 */
function methodsByRoute(routes: readonly { method: string; path: string }[]) {
  const table = new Map<string, { pattern: RegExp; methods: Set<string> }>();
  for (const { method, path } of routes) {
    if (method === 'ALL' || path.includes('*')) continue;
    const pattern = new RegExp(`^${path.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/:\w+/g, '[^/]+')}/?$`);
    const entry = table.get(path) ?? { pattern, methods: new Set<string>() };
    entry.methods.add(method);
    if (method === 'GET') entry.methods.add('HEAD');
    table.set(path, entry);
  }
  return (path: string): string | null => {
    const methods = new Set<string>();
    for (const entry of table.values()) {
      if (entry.pattern.test(path)) for (const method of entry.methods) methods.add(method);
    }
    return methods.size === 0 ? null : [...methods].join(', ');
  };
}
