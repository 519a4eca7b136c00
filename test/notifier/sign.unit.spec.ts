import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { signatureHeader, verifySignature } from '../../services/notifier/sign/sign.ts';

const secret = 'whsec-test-0123456789abcdef';
const body = '{"job_id":"x","status":"COMPLETED"}';

describe('webhook signatures', () => {
  it('is HMAC-SHA256 over "<timestamp>.<body>", as docs/WEBHOOKS.md tells receivers', () => {
    const expected = createHmac('sha256', secret).update(`1700000000.${body}`).digest('hex');
    assert.equal(signatureHeader(secret, 1_700_000_000, body), `t=1700000000,v1=${expected}`);
  });

  it('verifies a genuine signature and refuses a tampered body, another secret or an old timestamp', () => {
    const header = signatureHeader(secret, 1_700_000_000, body);
    assert.deepEqual(verifySignature(secret, header, body, 1_700_000_010), { ok: true });
    assert.deepEqual(verifySignature(secret, header, `${body} `, 1_700_000_010), {
      ok: false,
      reason: 'signature mismatch',
    });
    assert.deepEqual(verifySignature('another-secret-0123456', header, body, 1_700_000_010), {
      ok: false,
      reason: 'signature mismatch',
    });
    assert.deepEqual(verifySignature(secret, header, body, 1_700_000_301), {
      ok: false,
      reason: 'timestamp too old',
    });
    assert.deepEqual(verifySignature(secret, 'v1=abc', body, 1_700_000_000), {
      ok: false,
      reason: 'malformed signature header',
    });
    assert.deepEqual(verifySignature(secret, undefined, body, 1_700_000_000).ok, false);
  });
});
