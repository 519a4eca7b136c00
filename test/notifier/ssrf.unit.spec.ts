import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  assertPublicWebhookUrl,
  isPublicAddress,
  WebhookUrlForbiddenError,
  WebhookUrlUnresolvedError,
} from '../../shared/net/ssrf.ts';

const forbidden = (url: string, allow: readonly string[] = []) =>
  assert.rejects(assertPublicWebhookUrl(url, allow), (error: unknown) => {
    assert.ok(error instanceof WebhookUrlForbiddenError, String(error));
    assert.equal(error.code, 'WEBHOOK_URL_FORBIDDEN');
    return true;
  });

describe('webhook URL guard (SSRF)', () => {
  for (const url of [
    'http://127.0.0.1/hook',
    'http://10.0.0.5/hook',
    'http://169.254.169.254/latest/meta-data',
    'http://[::1]:8080/hook',
    'http://localhost:3000/hook',
    'http://0.0.0.0/',
    'http://100.64.0.1/',
    'http://192.168.1.10/',
    'http://172.16.0.1/',
    'http://[fc00::1]/',
    'http://[fe80::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://224.0.0.1/',
    'http://2130706433/', // 127.0.0.1 as one decimal number: the URL parser normalises it
  ]) {
    it(`refuses ${url} without an allow-list`, () => forbidden(url));
  }

  it('says which address and why', async () => {
    await assert.rejects(
      assertPublicWebhookUrl('http://169.254.169.254/', []),
      /webhook host 169\.254\.169\.254 resolves to 169\.254\.169\.254 \(linkLocal\), which is not a public address/,
    );
  });

  it('refuses schemes other than http(s) and relative URLs', async () => {
    await forbidden('ftp://example.com/hook');
    await forbidden('file:///etc/passwd');
    await forbidden('/relative');
  });

  it('lets a public address through', async () => {
    await assertPublicWebhookUrl('https://93.184.215.14/hook', []);
    await assertPublicWebhookUrl('http://[2606:4700:4700::1111]/hook', []);
  });

  it('lets listed hosts, host:port pairs, addresses and CIDRs through', async () => {
    await assertPublicWebhookUrl('http://127.0.0.1:9000/hook', ['127.0.0.1']);
    await assertPublicWebhookUrl('http://localhost:3000/hook', ['localhost:3000']);
    await forbidden('http://localhost:3001/hook', ['localhost:3000']);
    await assertPublicWebhookUrl('http://localhost:3000/hook', ['127.0.0.1', '::1']);
    await assertPublicWebhookUrl('http://10.0.0.5/hook', ['10.0.0.0/8']);
    await forbidden('http://10.0.0.5/hook', ['192.168.0.0/16']);
    await assertPublicWebhookUrl('http://[::1]:8080/hook', ['[::1]:8080']);
  });

  it('reports a host that does not resolve separately', async () => {
    await assert.rejects(
      assertPublicWebhookUrl('http://no-such-host.invalid/hook', []),
      WebhookUrlUnresolvedError,
    );
  });

  it('classifies addresses with ipaddr.js ranges', () => {
    assert.equal(isPublicAddress('8.8.8.8'), true);
    assert.equal(isPublicAddress('::ffff:8.8.8.8'), true);
    for (const address of [
      '127.0.0.1',
      '10.1.2.3',
      '100.100.0.1',
      '::',
      'fd00::1',
      '2001:db8::1',
      'nonsense',
    ]) {
      assert.equal(isPublicAddress(address), false, address);
    }
  });
});
