import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';

/** What ORT_DISABLE_TELEMETRY is once a fresh process has loaded ONNX Runtime through `models/ort.ts`. */
function telemetrySetting(env: NodeJS.ProcessEnv): string {
  const script =
    "await import('./models/ort.ts'); process.stdout.write(String(process.env.ORT_DISABLE_TELEMETRY));";
  return execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env,
    encoding: 'utf8',
  });
}

test('loading ONNX Runtime through models/ort.ts switches its telemetry off', () => {
  const { ORT_DISABLE_TELEMETRY: _, ...env } = process.env;
  assert.equal(telemetrySetting(env), '1');
});

test("an operator's own ORT_DISABLE_TELEMETRY is kept", () => {
  assert.equal(telemetrySetting({ ...process.env, ORT_DISABLE_TELEMETRY: '0' }), '0');
});
