/**
 * A denoise job reports real progress: StepProgressed events on the SSE stream whose tile counts rise
 * to 100 %, the latest value in the job body, and a determinate bar with "tile n / N" in the web app.
 * Not timed. Needs DNCNN_WEIGHTS_DIR, FFDNET_WEIGHTS_DIR and Chromium (/usr/bin/chromium).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Browser, chromium } from 'playwright-core';
import sharp from 'sharp';
import { syntheticImage } from '../../services/denoiser/inference/fixtures.ts';
import { type System, startSystem } from '../support/system.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

type SseEvent = { event: string; data: Record<string, unknown> };

/** Reads a job's SSE stream to its end (the terminal event), parsing `event:` / `data:` records. */
async function readEvents(url: string, timeoutMs: number): Promise<SseEvent[]> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  assert.equal(response.status, 200);
  const events: SseEvent[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  if (response.body === null) throw new Error('no SSE body');
  const reader = response.body.getReader();
  for (let next = await reader.read(); !next.done; next = await reader.read()) {
    buffer += decoder.decode(next.value, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const record = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const event = /^event: ?(.*)$/m.exec(record)?.[1];
      const data = /^data: ?(.*)$/m.exec(record)?.[1];
      if (event && data) events.push({ event, data: JSON.parse(data) as Record<string, unknown> });
      end = buffer.indexOf('\n\n');
    }
  }
  return events;
}

describe('denoise progress, end to end', () => {
  let system: System;
  let browser: Browser;
  const work = mkdtempSync(path.join(tmpdir(), 'pixtools-progress-'));

  before(async () => {
    // Small tiles so a modest image takes a few seconds and many tiles.
    system = await startSystem({ DENOISER_TILE_SIZE: '160' });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
    });
  });
  after(async () => {
    await browser?.close();
    await system?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('streams StepProgressed up to 100 %, keeps the latest in the job body, and the page shows a real bar', async () => {
    const noisy = syntheticImage(720, 480, 25, 3);
    const png = await sharp(noisy.data, { raw: { width: 720, height: 480, channels: 3 } })
      .png()
      .toBuffer();
    const upload = path.join(work, 'noisy.png');
    writeFileSync(upload, png);

    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(system.url);
    await page.setInputFiles('#file', upload);
    await page.check('#op-denoise', { force: true });
    assert.equal(await page.inputValue('#p-denoise-model'), 'fast');
    await page.click('#submit');
    await page.waitForFunction(() => (document.getElementById('job-id')?.textContent ?? '').length > 30);
    const jobId = (await page.textContent('#job-id'))?.trim() ?? '';
    const streamed = readEvents(`${system.url}/api/jobs/${jobId}/events`, 300_000);

    // The page: a determinate bar (aria-valuenow strictly between 0 and 100) saying "tile n / N".
    const seen = await page.waitForFunction(
      () => {
        const bar = document.querySelector('.steps [role=progressbar][aria-valuetext^="tile "]');
        const now = Number(bar?.getAttribute('aria-valuenow'));
        const text = document.querySelector('.steps .progress-text')?.textContent ?? '';
        return bar && now > 0 && now < 100 ? { now, text } : null;
      },
      undefined,
      { timeout: 300_000, polling: 100 },
    );
    const shown = (await seen.jsonValue()) as { now: number; text: string };
    assert.match(shown.text, /^tile \d+ \/ \d+( · (about \d+ (s|min) left|almost done))?$/);

    const events = await streamed;
    const progress = events.filter((e) => e.event === 'StepProgressed').map((e) => e.data);
    assert.ok(progress.length >= 2, `expected several progress events, got ${progress.length}`);
    const totals = new Set(progress.map((p) => p.total));
    assert.equal(totals.size, 1, 'the tile total never changes');
    const done = progress.map((p) => Number(p.done));
    for (let i = 1; i < done.length; i++)
      assert.ok((done[i] ?? 0) > (done[i - 1] ?? 0), `not increasing: ${done}`);
    const last = progress[progress.length - 1];
    assert.equal(last?.done, last?.total, 'the last report is 100 %');
    assert.equal(last?.unit, 'tile');
    assert.ok(
      progress.slice(0, -1).some((p) => typeof p.etaMs === 'number'),
      'intermediate reports carry an ETA',
    );
    assert.equal(events[events.length - 1]?.event, 'JobCompleted');

    const body = (await (await fetch(`${system.url}/api/jobs/${jobId}`)).json()) as {
      steps: { operation: string; progress: { done: number; total: number; percent: number } | null }[];
    };
    const step = body.steps.find((s) => s.operation === 'denoise');
    assert.deepEqual(
      { done: step?.progress?.done, total: step?.progress?.total, percent: step?.progress?.percent },
      { done: last?.done, total: last?.total, percent: 100 },
    );

    // Finished: the bar is full and the duration reads like "4.2 s" or "1 min 5 s", never "4213 ms".
    await page.waitForSelector('#job-results:not([hidden])', { timeout: 60_000 });
    const note = (await page.textContent('.steps li.succeeded small')) ?? '';
    assert.match(note, / — (\d+ ms|\d+(\.\d)? s|\d+ min \d+ s)$/);
    assert.doesNotMatch(note, /\d{4,} ms/);
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('a large conversion reports its phases (encode, upload, done); a small one reports none', async () => {
    const submit = async (png: Buffer) => {
      const form = new FormData();
      form.set('file', new File([new Uint8Array(png)], 'big.png', { type: 'image/png' }));
      form.set('operations', '["jpg"]');
      const answer = await fetch(`${system.url}/api/process`, { method: 'POST', body: form });
      assert.equal(answer.status, 202);
      const { job_id: jobId } = (await answer.json()) as { job_id: string };
      return readEvents(`${system.url}/api/jobs/${jobId}/events`, 120_000);
    };
    const image = (width: number, height: number) =>
      sharp({ create: { width, height, channels: 3, background: { r: 90, g: 140, b: 200 } } })
        .png()
        .toBuffer();

    const large = await submit(await image(3500, 2400)); // 8.4 MP
    const phases = large.filter((e) => e.event === 'StepProgressed').map((e) => e.data);
    assert.ok(phases.length >= 2, `expected phase reports, got ${JSON.stringify(phases)}`);
    assert.ok(phases.every((p) => p.unit === 'phase' && p.total === 3));
    assert.equal(phases[0]?.phase, 'encode');
    assert.deepEqual({ done: phases.at(-1)?.done, phase: phases.at(-1)?.phase }, { done: 3, phase: 'done' });
    const done = phases.map((p) => Number(p.done));
    for (let i = 1; i < done.length; i++) assert.ok((done[i] ?? 0) > (done[i - 1] ?? 0), `${done}`);
    assert.equal(large.at(-1)?.event, 'JobCompleted');

    const small = await submit(await image(64, 48));
    assert.deepEqual(
      small.filter((e) => e.event === 'StepProgressed'),
      [],
      'a small conversion adds no events',
    );
    assert.equal(small.at(-1)?.event, 'JobCompleted');
  });
});
