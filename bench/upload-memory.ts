import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { freshEnv } from '../test/support/env.ts';
import { samplePng } from '../test/support/images.ts';
import { spawnService } from '../test/support/processes.ts';

// Intake's peak memory under concurrent uploads, with intake in its own process (`services/intake/main.ts`):
//   npx tsx bench/upload-memory.ts [uploads=50] [megabytes=10]
// Sends `uploads` multipart requests of a `megabytes` MiB PNG at once, for the default upload cap and for a
// cap as large as the burst, and prints the peak RSS (VmHWM) and the answers. Then checks that SIGTERM
// ends intake promptly while a Server-Sent Events stream is open.
const uploads = Number(process.argv[2] ?? 50);
const size = Number(process.argv[3] ?? 10) * 1024 * 1024;

const png = await samplePng(64, 48);
const file = Buffer.alloc(size);
png.copy(file);
const boundary = 'bench-upload-boundary';
const body = Buffer.concat([
  Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n["webp"]\r\n`),
  Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\nContent-Type: image/png\r\n\r\n`,
  ),
  file,
  Buffer.from(`\r\n--${boundary}--\r\n`),
]);

const memory = async (pid: number, field: 'VmHWM' | 'VmRSS') => {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) / 1024;
};

function post(port: number, path: string, payload: Buffer | null, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    let answered = false;
    const req = request(
      { host: '127.0.0.1', port, path, method: payload ? 'POST' : 'GET', headers, agent: false },
      (res) => {
        answered = true;
        let text = '';
        res.on('data', (chunk: Buffer) => {
          text += chunk.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    // An early answer (429) may close the connection while the body is still being sent: not an error here.
    req.on('socket', (socket) => socket.on('error', () => {}));
    req.on('error', (error) => (answered ? undefined : reject(error)));
    req.end(payload ?? undefined);
  });
}

async function round(cap: number, port: number) {
  const env = freshEnv({ PORT: String(port), HOST: '127.0.0.1', MAX_CONCURRENT_UPLOADS: String(cap) });
  const intake = spawnService('services/intake/main.ts', env);
  await intake.waitFor('intake listening');
  const pid = intake.child.pid ?? 0;
  const idle = await memory(pid, 'VmRSS');
  const started = Date.now();
  const headers = { 'content-type': `multipart/form-data; boundary=${boundary}` };
  const answers = await Promise.all(
    Array.from({ length: uploads }, () => post(port, '/api/process', body, headers)),
  );
  const seconds = (Date.now() - started) / 1000;
  const peak = await memory(pid, 'VmHWM');
  const counts: Record<number, number> = {};
  for (const { status } of answers) counts[status] = (counts[status] ?? 0) + 1;
  console.log(
    `cap ${String(cap).padStart(3)}: ${uploads} x ${size / 1024 / 1024} MiB in ${seconds.toFixed(1)} s; ` +
      `RSS idle ${idle.toFixed(0)} MB, peak ${peak.toFixed(0)} MB; answers ${JSON.stringify(counts)}`,
  );
  return { intake, port };
}

const base = 18_000 + Math.floor(Math.random() * 1000);
const first = await round(8, base); // the default MAX_CONCURRENT_UPLOADS
await first.intake.kill();
const second = await round(uploads, base + 1);

// SIGTERM with an event stream open: intake must end the stream and exit, not wait for ever.
const { body: accepted } = await post(second.port, '/api/process', body, {
  'content-type': `multipart/form-data; boundary=${boundary}`,
});
const jobId = (JSON.parse(accepted) as { job_id?: string }).job_id ?? '';
const stream = new Promise<void>((resolve) => {
  request({ host: '127.0.0.1', port: second.port, path: `/api/jobs/${jobId}/events` }, (res) => {
    res.resume();
    res.on('close', () => resolve());
  }).end();
});
await new Promise((resolve) => setTimeout(resolve, 500));
const stopAt = Date.now();
const exited = second.intake.kill('SIGTERM');
await stream;
const streamEnded = Date.now() - stopAt;
const code = await exited;
console.log(
  `SIGTERM with an open event stream: stream ended after ${streamEnded} ms, ` +
    `intake exited (code ${code}) after ${Date.now() - stopAt} ms`,
);
