import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createDb } from '../../projections/database.ts';
import { createApp } from '../../services/intake/app.ts';
import { createRedis } from '../../services/intake/redis.ts';
import { type Harness, startHarness } from '../support/harness.ts';
import { samplePng } from '../support/images.ts';
import { expectAccepted, expectError, post } from './support/http.ts';

describe('running the API: health, degraded dependencies, overload, docs and metrics', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
  });
  after(() => h.close());

  it('reports every dependency on /api/health, what submissions need on /api/readyz; livez is just alive', async () => {
    const health = await h.app.request('/api/health');
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), {
      status: 'healthy',
      dependencies: { database: 'ok', redis: 'ok', nats: 'ok', storage: 'ok' },
    });
    const ready = await h.app.request('/api/readyz');
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), {
      status: 'healthy',
      dependencies: { redis: 'ok', nats: 'ok', storage: 'ok' },
    });
    assert.deepEqual(await (await h.app.request('/api/livez')).json(), { status: 'alive' });
  });

  it('with Postgres and Redis down: 503 naming them, jobs read from the log, submissions accepted', async () => {
    const db = createDb('postgres://root@127.0.0.1:1/nowhere', 1);
    const redis = createRedis('redis://127.0.0.1:1');
    redis.on('error', () => undefined);
    const app = createApp({ ...h, db, redis, now: () => new Date(), newId: randomUUID });
    try {
      const response = await app.request('/api/health');
      assert.equal(response.status, 503);
      assert.deepEqual(await response.json(), {
        status: 'unhealthy',
        dependencies: { database: 'unreachable', redis: 'unreachable', nats: 'ok', storage: 'ok' },
      });
      const ready = await app.request('/api/readyz');
      assert.equal(ready.status, 503, 'redis is down: keyed submissions cannot be served');
      assert.deepEqual((await ready.json()).dependencies, {
        redis: 'unreachable',
        nats: 'ok',
        storage: 'ok',
      });
      const jobId = await expectAccepted(
        post(app, { bytes: await samplePng(), name: 'a.png' }, { operations: '["webp"]' }),
      );
      const read = await app.request(`/api/jobs/${jobId}`);
      assert.equal(read.status, 200, 'the event log answers while the read model cannot');
      assert.equal(((await read.json()) as { job_id: string }).job_id, jobId);
    } finally {
      redis.disconnect();
      await db.destroy();
    }
  });

  it('stays ready while Postgres is down: readiness does not depend on the read model', async () => {
    const db = createDb('postgres://root@127.0.0.1:1/nowhere', 1);
    const app = createApp({ ...h, db, now: () => new Date(), newId: randomUUID });
    try {
      const ready = await app.request('/api/readyz');
      assert.equal(ready.status, 200);
      assert.equal((await app.request('/api/health')).status, 503);
    } finally {
      await db.destroy();
    }
  });

  it('survives Postgres closing its idle connections (a restart) and reads again', async () => {
    const jobId = await expectAccepted(
      post(h.app, { bytes: await samplePng(), name: 'r.png' }, { operations: '["webp"]' }),
    );
    assert.equal((await h.app.request(`/api/jobs/${jobId}`)).status, 200); // the pool now holds an idle connection
    const admin = new pg.Client({ connectionString: h.env.DATABASE_URL });
    await admin.connect();
    const killed = await admin.query(
      'select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()',
    );
    await admin.end();
    assert.ok((killed.rowCount ?? 0) >= 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal((await h.app.request(`/api/jobs/${jobId}`)).status, 200);
  });

  it('answers 422 for a malformed job id and 404 for an unknown one', async () => {
    await expectError(h.app.request('/api/jobs/not-a-uuid'), 422, 'Invalid job id: not-a-uuid');
    const id = randomUUID();
    await expectError(h.app.request(`/api/jobs/${id}`), 404, `Job ${id} not found`);
  });

  it('describes a job the read model has not caught up with from its events, never 404', async () => {
    // nothing is running here: the job is only in the log
    const jobId = await expectAccepted(
      post(h.app, { bytes: await samplePng(), name: 'fresh.png' }, { operations: '["webp"]' }),
    );
    const response = await h.app.request(`/api/jobs/${jobId}`);
    assert.equal(response.status, 200);
    const body = (await response.json()) as Record<string, unknown>;
    assert.equal(body.status, 'PENDING');
    assert.deepEqual(body.operations, ['webp']);
    assert.deepEqual(body.result_urls, {});
    assert.equal(body.expired, false);
  });

  it('serves interactive OpenAPI docs from local files, and Prometheus metrics', async () => {
    const page = await h.app.request('/docs');
    assert.equal(page.status, 200);
    const html = await page.text();
    assert.match(html, /swagger-ui-bundle\.js/);
    assert.ok(!/https?:\/\//.test(html), 'no CDN');
    const bundle = await h.app.request('/docs/swagger-ui-bundle.js');
    assert.equal(bundle.status, 200);
    assert.ok((await bundle.text()).includes('SwaggerUIBundle'));
    const spec = (await (await h.app.request('/docs/openapi.json')).json()) as {
      paths: Record<string, unknown>;
    };
    assert.ok(spec.paths['/api/process'] && spec.paths['/api/jobs/{id}']);
    const metrics = await (await h.app.request('/metrics')).text();
    assert.match(
      metrics,
      /pixtools_http_requests_total\{method="GET",route="\/docs\/openapi.json",status="200"\} 1/,
    );
  });
});
