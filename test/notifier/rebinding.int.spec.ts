import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { readConfig as readIntakeConfig } from '../../services/intake/config.ts';
import { readConfig as readNotifierConfig } from '../../services/notifier/config.ts';
import { postWebhook } from '../../services/notifier/deliver/http.ts';
import { ConfigError } from '../../shared/config/env.ts';
import {
  assertPublicWebhookUrl,
  isPublicAddress,
  type Resolver,
  WebhookUrlForbiddenError,
} from '../../shared/net/ssrf.ts';

type Sink = { server: Server; port: number; hits: string[] };

async function sink(answer: (path: string) => { status: number; location?: string }): Promise<Sink> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    req.resume();
    const { status, location } = answer(req.url ?? '');
    res.writeHead(status, location ? { location } : {}).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port, hits };
}

/** A DNS that gives a public address the first time a name is asked, loopback afterwards (rebinding). */
function rebindingDns(): { resolve: Resolver; asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    resolve: async (host) => {
      asked.push(host);
      const first = asked.filter((name) => name === host).length === 1;
      return [{ address: first ? '93.184.215.14' : '127.0.0.1', family: 4 }];
    },
  };
}

const post = (url: string, allow: readonly string[], resolve?: Resolver) =>
  postWebhook(url, '{}', { 'content-type': 'application/json' }, { timeoutMs: 5000, allow, resolve });

describe('webhook SSRF guard at connect time (DNS rebinding, redirects)', () => {
  let target: Sink;
  let redirector: Sink;
  before(async () => {
    target = await sink(() => ({ status: 204 }));
    redirector = await sink((path) =>
      path === '/to-name'
        ? { status: 307, location: `http://rebound.test:${target.port}/stolen` }
        : { status: 307, location: `http://127.0.0.1:${target.port}/stolen` },
    );
  });
  after(() => {
    target.server.close();
    redirector.server.close();
  });

  it('checks the address actually connected to: a name that rebinds to loopback is refused', async () => {
    const dns = rebindingDns();
    const url = `http://rebound.test:${target.port}/hook`;
    // what a check at submission (or a resolve-then-fetch guard) saw: a public address
    const [seen] = await dns.resolve('rebound.test');
    assert.equal(isPublicAddress(seen?.address ?? ''), true);
    const before = target.hits.length;
    await assert.rejects(post(url, [], dns.resolve), (error: unknown) => {
      assert.ok(error instanceof WebhookUrlForbiddenError, String(error));
      assert.match(error.message, /rebound\.test resolves to 127\.0\.0\.1 \(loopback\)/);
      return true;
    });
    assert.equal(dns.asked.length, 2, 'the connection made its own lookup');
    assert.equal(target.hits.length, before, 'nothing reached the private address');
  });

  it('connects where the guarded lookup says, when the address is allow-listed', async () => {
    const resolve: Resolver = async () => [{ address: '127.0.0.1', family: 4 }];
    const status = await post(`http://hooks.example.test:${target.port}/ok`, ['127.0.0.0/8'], resolve);
    assert.equal(status, 204);
    assert.equal(target.hits.at(-1), '/ok');
  });

  it('guards every redirect hop: to an address literal and to a name', async () => {
    const allow = [`localhost:${redirector.port}`];
    const resolve: Resolver = async () => [{ address: '127.0.0.1', family: 4 }];
    const before = target.hits.length;
    for (const path of ['/to-literal', '/to-name']) {
      await assert.rejects(
        post(`http://localhost:${redirector.port}${path}`, allow, resolve),
        WebhookUrlForbiddenError,
        path,
      );
    }
    assert.equal(redirector.hits.length, 2, 'the allow-listed first hop was made');
    assert.equal(target.hits.length, before, 'no redirect reached the private target');
  });

  it('intake and the notifier read one allow-list variable with one parser', async () => {
    const env = { WEBHOOK_ALLOWED_HOSTS: 'hooks.internal:8080, 10.0.0.0/8,[::1]:9000' };
    const expected = ['hooks.internal:8080', '10.0.0.0/8', '[::1]:9000'];
    assert.deepEqual(readIntakeConfig(env).webhookAllowedHosts, expected);
    assert.deepEqual(readNotifierConfig(env).allowedHosts, expected);
    // the old intake-only name is refused, not silently half-honoured
    assert.throws(() => readIntakeConfig({ WEBHOOK_ALLOW_HOSTS: '10.0.0.1' }), ConfigError);
    assert.throws(() => readNotifierConfig({ WEBHOOK_ALLOW_HOSTS: '10.0.0.1' }), ConfigError);
    assert.throws(
      () => readNotifierConfig({ WEBHOOK_ALLOWED_HOSTS: 'http://x/' }),
      /no host, address or CIDR/,
    );
    await assertPublicWebhookUrl('http://hooks.internal:8080/x', readIntakeConfig(env).webhookAllowedHosts);
  });
});
