import { spawn } from 'node:child_process';
import { connect } from 'node:net';

/** The S3-speaking server tests use. `.ci/run` starts it; this starts it too when it is not running. */
export const TEST_S3_ENDPOINT = process.env.TEST_S3_ENDPOINT ?? 'http://127.0.0.1:9555';

function isOpen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, host, () => {
      socket.end();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

let starting: Promise<void> | null = null;

export function ensureS3Server(): Promise<void> {
  starting ??= (async () => {
    const url = new URL(TEST_S3_ENDPOINT);
    const port = Number(url.port);
    if (await isOpen(url.hostname, port)) return;
    const child = spawn('moto_server', ['-H', url.hostname, '-p', String(port)], {
      detached: true,
      stdio: 'ignore',
    });
    child.unref();
    const deadline = Date.now() + 30_000;
    while (!(await isOpen(url.hostname, port))) {
      if (Date.now() > deadline) throw new Error(`moto_server did not start on ${TEST_S3_ENDPOINT}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  })();
  return starting;
}
