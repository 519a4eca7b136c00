import assert from 'node:assert/strict';
import yauzl from 'yauzl';
import type { Harness } from '../../support/harness.ts';
import { post, type Upload } from './http.ts';

export type JobBody = {
  job_id: string;
  status: string;
  operations: string[];
  result_urls: Record<string, string>;
  archive_url: string | null;
  metadata: Record<string, unknown>;
  metadata_url: string | null;
  error_message: string | null;
  created_at: string;
  expires_at: string;
  expired: boolean;
  steps: {
    id: string;
    operation: string;
    status: string;
    attempts: number;
    result: string | null;
    duration_ms: number | null;
    started_at: string | null;
    finished_at: string | null;
    output: { format: string; bytes: number; width: number | null; height: number | null } | null;
  }[];
};

const SETTLED = ['COMPLETED', 'FAILED', 'COMPLETED_WEBHOOK_FAILED'];

export async function getJob(h: Harness, jobId: string): Promise<JobBody> {
  const response = await h.app.request(`/api/jobs/${jobId}`);
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.json()) as JobBody;
}

/** Waits until the read model shows the job settled and every step finished, then reads it over HTTP. */
export async function settledJob(h: Harness, jobId: string, timeoutMs = 60_000): Promise<JobBody> {
  await h.waitForJob(
    jobId,
    (view) =>
      SETTLED.includes(view.job.status) &&
      view.steps.every(
        (step) => step.status === 'succeeded' || step.status === 'failed' || step.status === 'pending',
      ),
    timeoutMs,
  );
  return getJob(h, jobId);
}

/** Submits over HTTP (202 expected) and waits for the job to settle. */
export async function runJob(h: Harness, file: Upload, fields: Record<string, string>): Promise<JobBody> {
  const response = await post(h.app, file, fields);
  const body = (await response.json()) as { job_id: string };
  assert.equal(response.status, 202, JSON.stringify(body));
  return settledJob(h, body.job_id);
}

export async function download(url: string) {
  const response = await fetch(url);
  assert.equal(response.status, 200, `download ${url}`);
  return {
    bytes: Buffer.from(await response.arrayBuffer()),
    disposition: response.headers.get('content-disposition'),
  };
}

/** Every entry of a ZIP: name and content. */
export function zipEntries(zip: Buffer): Promise<{ name: string; bytes: Buffer }[]> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(zip, { lazyEntries: true }, (error, file) => {
      if (error || !file) return reject(error ?? new Error('no zip'));
      const entries: { name: string; bytes: Buffer }[] = [];
      file.on('entry', (entry: yauzl.Entry) => {
        file.openReadStream(entry, (streamError, stream) => {
          if (streamError || !stream) return reject(streamError ?? new Error('no stream'));
          const chunks: Buffer[] = [];
          stream.on('data', (chunk: Buffer) => chunks.push(chunk));
          stream.on('end', () => {
            entries.push({ name: entry.fileName, bytes: Buffer.concat(chunks) });
            file.readEntry();
          });
        });
      });
      file.on('end', () => resolve(entries));
      file.on('error', reject);
      file.readEntry();
    });
  });
}
