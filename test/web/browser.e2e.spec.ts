import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import sharp from 'sharp';
import { samplePng } from '../support/images.ts';
import { type System, startSystem } from '../support/system.ts';

/** Screenshots go to a temporary folder; `npm run screenshots` points this at docs/screenshots. */
const SHOTS = process.env.SCREENSHOTS_DIR ?? mkdtempSync(path.join(tmpdir(), 'pixtools-shots-'));
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

async function noisyPng(width: number, height: number): Promise<Buffer> {
  const noisy = Buffer.alloc(width * height * 3);
  for (let i = 0; i < noisy.length; i++) noisy[i] = 100 + ((i * 7919) % 61);
  return sharp(noisy, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}

describe('the web app in a real browser against the running system', () => {
  let system: System;
  let shortLived = '';
  let browser: Browser;
  let context: BrowserContext;
  /** Console errors of the pages of the current test; checked after each test. */
  let consoleErrors: string[] = [];
  /** Console errors the current test provokes on purpose (reset after each test). */
  let expectedErrors: RegExp | null = null;
  const work = mkdtempSync(path.join(tmpdir(), 'pixtools-web-'));
  mkdirSync(SHOTS, { recursive: true });

  before(async () => {
    system = await startSystem();
    // a second intake on the same system whose jobs expire after 2 seconds
    const port = String(Number(new URL(system.url).port) + 1);
    await system.start('intake', { PORT: port, RETENTION_SECONDS: '2' }, 'intake-short');
    shortLived = `http://127.0.0.1:${port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
      ],
    });
    // one context for most tests: localStorage (the history) persists across pages, as in one browser
    context = await browser.newContext();
  });
  after(async () => {
    await browser?.close();
    await system?.stop();
  });
  /** Pages of the current test, closed after it even when it failed (a page left open keeps the focus). */
  let pages: Page[] = [];
  afterEach(async () => {
    for (const page of pages) await page.close().catch(() => {});
    pages = [];
    expectedErrors = null;
    const errors = consoleErrors;
    consoleErrors = [];
    assert.deepEqual(errors, [], 'no console errors');
  });

  async function open(viewport = { width: 1280, height: 900 }, within = context): Promise<Page> {
    const page = await within.newPage();
    pages.push(page);
    await page.setViewportSize(viewport);
    page.on('console', (message) => {
      // The 422s the tests provoke on purpose are logged by Chromium as failed loads.
      const provoked =
        message.text().includes('status of 422') || expectedErrors?.test(message.text()) === true;
      if (message.type() === 'error' && !provoked) consoleErrors.push(`${page.url()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => consoleErrors.push(`${page.url()}: ${error.message}`));
    await page.goto(system.url);
    return page;
  }

  async function file(name: string, bytes: Buffer): Promise<string> {
    const target = path.join(work, name);
    writeFileSync(target, bytes);
    return target;
  }

  async function choose(page: Page, name: string, bytes: Buffer) {
    await page.setInputFiles('#file', await file(name, bytes));
    await page.waitForSelector('#preview:not([hidden])');
    await page.waitForFunction(() =>
      /\d+ × \d+/.test(document.getElementById('preview-dims')?.textContent ?? ''),
    );
  }

  const waitDone = (page: Page) => page.waitForSelector('#job-results:not([hidden])', { timeout: 180_000 });
  /** Submits and waits for this job (not the one shown before) to finish. */
  const submitAndWait = async (page: Page) => {
    const previous = (await page.textContent('#job-id')) ?? '';
    await page.click('#submit');
    await page.waitForFunction((old) => {
      const id = document.getElementById('job-id')?.textContent ?? '';
      return id !== '' && id !== old;
    }, previous);
    await waitDone(page);
  };
  const texts = (page: Page, selector: string) =>
    page.$$eval(selector, (els) => els.map((el) => (el.textContent ?? '').trim()));
  const jobIdOf = async (page: Page) => (await page.textContent('#job-id')) ?? '';

  it('shows the empty state', async () => {
    const page = await open();
    assert.equal(await page.isVisible('#job-empty'), true);
    await page.screenshot({ path: `${SHOTS}/empty.png`, fullPage: true });
    await page.close();
  });

  it('converts to WebP and AVIF live; steps and cards speak in words, in the chosen order', async () => {
    const page = await open();
    await choose(page, 'gradient.png', await samplePng(320, 240));
    assert.equal(await page.isDisabled('#op-png'), true, 'same-format conversion is disabled');
    await page.check('#op-webp', { force: true });
    await page.check('#op-avif', { force: true });
    assert.equal(await page.getAttribute('#p-webp-width', 'placeholder'), 'auto');
    await page.fill('#p-webp-width', '160');
    await page.click('#submit');
    await page.waitForSelector('#job-steps li');
    await page.screenshot({ path: `${SHOTS}/in-progress.png`, fullPage: true });
    await waitDone(page);
    assert.equal(await page.textContent('#job-live'), 'Done.');
    const statuses = await page.$$eval('#job-steps li', (items) => items.map((item) => item.className));
    assert.deepEqual(statuses, ['succeeded', 'succeeded', 'succeeded'], 'webp, avif and the ZIP bundle step');
    assert.deepEqual(await texts(page, '#job-steps li b'), ['WebP', 'AVIF', 'ZIP of all outputs']);
    assert.deepEqual(await texts(page, '#job-steps li > .status'), ['done', 'done', 'done']);
    await page.screenshot({ path: `${SHOTS}/results.png`, fullPage: true });

    assert.deepEqual(await texts(page, '#result-cards .body b'), ['WebP · 160 px', 'AVIF']);
    const links = await page.$$eval('#result-cards a', (anchors) =>
      anchors.map((a) => ({
        result: a.closest('[data-result]')?.getAttribute('data-result'),
        href: (a as HTMLAnchorElement).href,
        download: a.getAttribute('download'),
      })),
    );
    assert.deepEqual(
      links.map((link) => [link.result, link.download]),
      [
        ['webp', 'pixtools_webp_gradient.webp'],
        ['avif', 'pixtools_avif_gradient.avif'],
      ],
    );
    for (const link of links) {
      const response = await page.request.get(link.href);
      assert.equal(response.status(), 200);
      const meta = await sharp(await response.body()).metadata();
      assert.equal(meta.format, link.result === 'avif' ? 'heif' : 'webp');
      assert.equal(meta.width, link.result === 'avif' ? 320 : 160);
    }
    await page.close();
  });

  it('item 1: reopening an unfinished job after a reload follows it live to the end', async () => {
    await system.processes.get('converter')?.kill('SIGTERM');
    const page = await open();
    await choose(page, 'waiting.png', await samplePng(64, 48));
    await page.check('#op-jpg', { force: true });
    await page.click('#submit');
    await page.waitForSelector('#job-steps li.dispatched');
    const id = await jobIdOf(page);
    await page.reload();
    assert.equal(await page.isVisible('#job-empty'), true, 'a reload starts empty');
    const entry = await page.waitForSelector(`#history-list li[data-job="${id}"] button:text("Open")`);
    await entry.click();
    await page.waitForSelector('#job-steps li.dispatched');
    assert.deepEqual(await texts(page, '#job-steps li > .status'), ['queued']);
    await page.waitForFunction(() => document.getElementById('job-live')?.textContent?.startsWith('Live'));
    await system.start('converter');
    await waitDone(page);
    assert.equal(await page.textContent('#job-status'), 'completed');
    assert.deepEqual(await texts(page, '#result-cards .body b'), ['JPEG']);
    await page.close();
  });

  it('item 1: a live stream cut by an intake crash resumes with Last-Event-ID', async () => {
    await system.processes.get('converter')?.kill('SIGTERM');
    const page = await open();
    const streams: Promise<string>[] = [];
    page.on('request', (request) => {
      if (request.url().endsWith('/events'))
        streams.push(request.allHeaders().then((headers) => headers['last-event-id'] ?? ''));
    });
    await choose(page, 'resume.png', await samplePng(64, 48));
    await page.check('#op-webp', { force: true });
    await page.click('#submit');
    await page.waitForSelector('#job-steps li.dispatched');
    // the crash cuts the stream and refuses connections until intake is back: Chromium logs both
    expectedErrors = /ERR_INCOMPLETE_CHUNKED_ENCODING|ERR_CONNECTION_REFUSED/;
    await system.processes.get('intake')?.kill('SIGKILL');
    await system.start('intake');
    await system.start('converter');
    await waitDone(page);
    assert.equal(await page.textContent('#job-status'), 'completed');
    const resumed = (await Promise.all(streams)).filter((id) => id !== '');
    const live = await page.textContent('#job-live');
    assert.ok(
      resumed.length > 0 && resumed.every((id) => /^\d+$/.test(id)),
      `${streams.length} stream requests, resumed after [${resumed.join()}] (${live})`,
    );
    // the page showed every step once: nothing replayed twice, nothing missed
    assert.deepEqual(await texts(page, '#job-steps li b'), ['WebP']);
    await page.close();
  });

  it('item 2: fits a 390 px phone with Denoise and its long model names chosen', async () => {
    const page = await open({ width: 390, height: 844 });
    await choose(page, 'phone.png', await samplePng(64, 48));
    await page.check('#op-denoise', { force: true });
    await page.selectOption('#p-denoise-model', 'clip');
    await page.check('#op-metadata', { force: true });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no horizontal scrolling (overflow ${overflow}px)`);
    for (const op of ['jpg', 'png', 'webp', 'avif', 'denoise', 'metadata']) {
      const box = await page.locator(`label[for="op-${op}"]`).boundingBox();
      assert.ok(
        box && box.x >= 0 && box.x + box.width <= 390,
        `the ${op} toggle is on screen (${JSON.stringify(box)})`,
      );
    }
    await page.screenshot({ path: `${SHOTS}/mobile.png`, fullPage: true });
    await page.close();
  });

  it('item 3: a refused file is explained at the drop zone; bad numbers are caught in the form, in words', async () => {
    const page = await open();
    let posts = 0;
    page.on('request', (request) => {
      if (request.method() === 'POST' && request.url().endsWith('/api/process')) posts++;
    });
    await page.setInputFiles('#file', await file('fake.png', Buffer.from('hello, I am text')));
    await page.waitForSelector('#file-error:not([hidden])');
    assert.match((await page.textContent('#file-error')) ?? '', /is not a JPEG, PNG, WebP or AVIF image/);
    assert.equal(await page.isHidden('#form-error'), true);
    const drop = await page.locator('#drop').boundingBox();
    const note = await page.locator('#file-error').boundingBox();
    assert.ok(
      drop && note && note.y >= drop.y + drop.height && note.y - (drop.y + drop.height) < 40,
      'right below the zone',
    );

    await choose(page, 'ok.png', await samplePng(20, 20));
    assert.equal(await page.isHidden('#file-error'), true);
    await page.check('#op-webp', { force: true });
    await page.check('#op-denoise', { force: true });
    await page.selectOption('#p-denoise-model', 'clip');
    const cases: [string, string, RegExp][] = [
      ['#p-webp-quality', '150', /^WebP quality must be a whole number from 1 to 100 \(you typed “150”\)\.$/],
      ['#p-webp-width', '2.5', /^WebP width must be a whole number of at least 1 \(you typed “2\.5”\)\.$/],
      ['#p-webp-height', '-5', /^WebP height must be a whole number of at least 1/],
      ['#p-denoise-sigma', 'lots', /^The noise level σ must be “auto” or a whole number from 1 to 75/],
    ];
    for (const [selector, value, message] of cases) {
      await page.fill(selector, value);
      await page.click('#submit');
      assert.equal(await page.getAttribute(selector, 'aria-invalid'), 'true', `${selector} is marked`);
      const describedBy = (await page.getAttribute(selector, 'aria-describedby')) ?? '';
      assert.match((await page.textContent(`#${describedBy}`)) ?? '', message);
      assert.equal(
        await page.evaluate(() => document.activeElement?.id),
        selector.slice(1),
        'focus on the field',
      );
      await page.fill(selector, '');
    }
    assert.equal(posts, 0, 'nothing was uploaded while a field was wrong');
    await page.screenshot({ path: `${SHOTS}/field-error.png`, fullPage: true });

    await page.uncheck('#op-denoise', { force: true });
    await page.fill('#webhook', 'not a url');
    await page.click('#submit');
    await page.waitForSelector('#form-error:not([hidden])');
    const server = (await page.textContent('#form-error')) ?? '';
    assert.match(server, /the webhook URL must be a valid http\(s\) URL/);
    assert.ok(!/webhook_url|operation_params|\{/.test(server), `no API names or JSON: ${server}`);
    assert.equal(posts, 1);
    await page.close();
  });

  it('item 4: switching to a file of another format drops the now-same-format toggle and its options', async () => {
    const page = await open();
    await choose(page, 'first.png', await samplePng(40, 30));
    await page.check('#op-webp', { force: true });
    await page.fill('#p-webp-quality', '70');
    assert.equal(await page.isVisible('#params [data-op="webp"]'), true);
    const webp = await sharp(await samplePng(40, 30))
      .webp()
      .toBuffer();
    await choose(page, 'second.webp', webp);
    assert.equal(await page.isChecked('#op-webp'), false);
    assert.equal(await page.isDisabled('#op-webp'), true);
    assert.equal(await page.locator('#params [data-op="webp"]').count(), 0, 'its options panel is gone');
    await page.close();
  });

  it('item 5: the chain builder replaces the toggles, rewires removals and names its results', async () => {
    const page = await open();
    await choose(page, 'small.png', await noisyPng(321, 200));
    await page.check('#op-jpg', { force: true });
    await page.click('#chain-example');
    assert.equal(await page.isDisabled('#op-jpg'), true, 'toggles are off while a chain exists');
    assert.equal(await page.isVisible('#what-off'), true);
    assert.equal(await page.inputValue('#chain-s2-width'), '160', 'the example never enlarges a small image');
    assert.equal(await page.isVisible('#chain-s1-model'), true, 'a chain denoise step has its model');
    await page.selectOption('#chain-s1-model', 'clip');
    await page.fill('#chain-s1-sigma', '25');
    await page.locator('#chain-s1-sigma').dispatchEvent('change');
    await page.click('#submit');
    await waitDone(page);
    assert.deepEqual(await texts(page, '#result-cards .body b'), [
      'WebP · 160 px · denoised',
      'AVIF · denoised',
    ]);
    assert.deepEqual((await texts(page, '#job-steps li b')).slice(0, 2), ['Denoise', 'Resize']);

    // removing the resize rewires the WebP step to the resize's input (s1), not to the upload
    await page.click('button[aria-label="Remove step s2"]');
    assert.equal(await page.inputValue('#chain-s3-input'), 's1');

    // a chain of only a resize is a valid job
    await page.click('#chain-clear');
    assert.equal(await page.isDisabled('#op-jpg'), false, 'toggles are back once the chain is empty');
    await page.click('#chain-add');
    await page.selectOption('#chain-s1-op', 'resize');
    await page.fill('#chain-s1-width', '100');
    await page.locator('#chain-s1-width').dispatchEvent('change');
    await submitAndWait(page);
    assert.deepEqual(await texts(page, '#result-cards .body b'), ['PNG · 100 px']);
    await page.close();
  });

  it('item 6: the before/after slider spans the picture, follows a drag and survives a reopen', async () => {
    const page = await open();
    await choose(page, 'noisy.png', await noisyPng(200, 150));
    await page.check('#op-denoise', { force: true });
    await page.click('#submit');
    await waitDone(page);
    await page.waitForSelector('#compare-wrap:not([hidden])');
    await page.locator('#compare-range').scrollIntoViewIfNeeded();
    const picture = await page.locator('#compare').boundingBox();
    const range = await page.locator('#compare-range').boundingBox();
    assert.ok(
      picture && range && Math.abs(range.width - picture.width) < 2,
      'the slider is as wide as the picture',
    );
    await page.focus('#compare-range');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    const split = () => page.$eval('#compare', (el) => (el as HTMLElement).style.getPropertyValue('--split'));
    assert.equal(await split(), '52%');
    await page.mouse.move(picture.x + picture.width * 0.8, picture.y + picture.height / 2);
    await page.mouse.down();
    await page.mouse.move(picture.x + picture.width * 0.25, picture.y + picture.height / 2, { steps: 5 });
    await page.mouse.up();
    assert.equal(await split(), '25%');
    await page.screenshot({ path: `${SHOTS}/compare.png`, fullPage: true });

    const id = await jobIdOf(page);
    await page.reload();
    await page.click(`#history-list li[data-job="${id}"] button:text("Open")`);
    await page.waitForSelector('#compare-wrap:not([hidden])');
    assert.ok(
      (await page.getAttribute('#compare-before', 'src'))?.startsWith('blob:'),
      'the upload, kept in this browser',
    );
    await page.close();
  });

  it('item 7: EXIF note, labels, names, contrast, history while running, undo and drops beside the zone', async () => {
    const fresh = await browser.newContext();
    const page = await open(undefined, fresh);
    assert.match((await page.textContent('#history-list')) ?? '', /No jobs yet/);
    await choose(page, 'plain.png', await samplePng(64, 48));
    await page.check('#op-metadata', { force: true });
    await page.check('#op-webp', { force: true });
    await page.click('#submit');
    const id = await page.waitForFunction(() => document.getElementById('job-id')?.textContent || null);
    const jobId = String(await id.jsonValue());
    await page.waitForSelector(`#history-list li[data-job="${jobId}"]`, { timeout: 5000 });
    await waitDone(page);
    assert.equal(await page.isVisible('#exif-none'), true, 'says there is no camera data');
    assert.equal(await page.locator('[data-result="metadata"] .saving').count(), 0, 'no size claim on JSON');
    assert.deepEqual(
      await texts(page, '#result-cards .body b'),
      ['WebP', 'EXIF (JSON)'],
      'in the chosen order',
    );

    const contrast = await page.evaluate(() => {
      const [r, g, b] = getComputedStyle(document.documentElement)
        .getPropertyValue('--violet')
        .trim()
        .slice(1)
        .match(/../g)
        ?.map((hex) => {
          const c = Number.parseInt(hex, 16) / 255;
          return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
        }) ?? [0, 0, 0];
      return 1.05 / (0.2126 * (r ?? 0) + 0.7152 * (g ?? 0) + 0.0722 * (b ?? 0) + 0.05);
    });
    assert.ok(contrast >= 4.5, `white on the accent colour is ${contrast.toFixed(2)}:1`);

    await page.click('#history-clear');
    await page.waitForSelector('#history-undo:not([hidden])');
    assert.match((await page.textContent('#history-list')) ?? '', /No jobs yet/);
    await page.click('#history-undo-button');
    await page.waitForSelector(`#history-list li[data-job="${jobId}"]`);

    // a file dropped beside the zone is taken, and the app stays
    const before = page.url();
    const png = (await samplePng(30, 30)).toString('base64');
    await page.evaluate((data) => {
      const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
      const transfer = new DataTransfer();
      transfer.items.add(new File([bytes], 'beside.png', { type: 'image/png' }));
      document
        .querySelector('footer')
        ?.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    }, png);
    await page.waitForFunction(() => document.getElementById('preview-name')?.textContent === 'beside.png');
    assert.equal(page.url(), before);
    await page.close();
    await fresh.close();
  });

  it('item 7: two outputs of one format get two download names', async () => {
    const page = await open();
    await choose(page, 'twice.png', await samplePng(80, 60));
    await page.click('#chain-add');
    await page.click('#chain-add');
    await page.selectOption('#chain-s2-input', 'source');
    await page.click('#submit');
    await waitDone(page);
    const names = await page.$$eval('#result-cards a', (anchors) =>
      anchors.map((a) => a.getAttribute('download')),
    );
    assert.deepEqual(names, ['pixtools_s1_twice.webp', 'pixtools_s2_twice.webp']);
    await page.close();
  });

  it('keeps jobs in history across a reload, and marks an expired job without links', async () => {
    const form = new FormData();
    form.set('file', new File([new Uint8Array(await samplePng(40, 30))], 'short-lived.png'));
    form.set('operations', '["webp"]');
    const response = await fetch(`${shortLived}/api/process`, { method: 'POST', body: form });
    assert.equal(response.status, 202);
    const { job_id: expiredId } = (await response.json()) as { job_id: string };
    await new Promise((resolve) => setTimeout(resolve, 2500));

    const page = await open();
    await page.waitForSelector('#history-list li[data-job]');
    const before = await page.$$eval('#history-list li[data-job]', (items) => items.length);
    assert.ok(before >= 2, `history kept the earlier jobs across a reload (found ${before})`);
    await page.evaluate((id) => {
      const key = 'pixtools.history.v1';
      const entries = JSON.parse(localStorage.getItem(key) ?? '[]');
      entries.unshift({ id, name: 'short-lived.png', createdAt: new Date().toISOString() });
      localStorage.setItem(key, JSON.stringify(entries));
    }, expiredId);
    await page.reload();
    const item = await page.waitForSelector(`#history-list li[data-job="${expiredId}"]`);
    assert.equal(await item.$eval('.status', (el) => el.textContent), 'Expired');
    assert.equal((await item.$$('a')).length, 0, 'an expired job offers no links');
    await page.screenshot({ path: `${SHOTS}/history-expired.png`, fullPage: true });
    await page.close();
  });

  it('can be used with the keyboard alone', async () => {
    const page = await open();
    const focused = () => page.evaluate(() => document.activeElement?.id ?? '');
    const tabTo = async (id: string) => {
      for (let i = 0; i < 40 && (await focused()) !== id; i++) await page.keyboard.press('Tab');
      assert.equal(await focused(), id);
    };
    await tabTo('file');
    // Asking for the event turns on Playwright's file-chooser interception; one round trip to the page
    // makes sure it is on before the key opens the chooser (otherwise the event can be missed).
    const choosing = page.waitForEvent('filechooser');
    await page.evaluate(() => 0);
    await page.keyboard.press('Space');
    const chooser = await choosing;
    await chooser.setFiles(await file('keys.png', await samplePng(48, 48)));
    await page.waitForSelector('#preview:not([hidden])');
    await tabTo('op-jpg');
    await page.keyboard.press('Space');
    assert.equal(await page.isChecked('#op-jpg'), true);
    await tabTo('submit');
    await page.keyboard.press('Enter');
    await waitDone(page);
    assert.equal(await page.textContent('#job-status'), 'completed');
    await page.close();
  });

  it('item 8: /docs "Try it out" submits a job with the documented examples', async () => {
    const page = await context.newPage();
    pages.push(page);
    page.on('pageerror', (error) => consoleErrors.push(`${page.url()}: ${error.message}`));
    await page.goto(`${system.url}/docs`);
    const operation = page.locator('.opblock-post', { hasText: '/api/process' }).first();
    await operation.locator('.opblock-summary').click();
    await operation.locator('.try-out__btn').click();
    await operation
      .locator('input[type="file"]')
      .setInputFiles(await file('docs.png', await samplePng(40, 30)));
    await operation.locator('.execute').click();
    const live = operation.locator('.live-responses-table');
    await live.waitFor({ timeout: 30_000 });
    const codes = await live.locator('td.response-col_status').allTextContents();
    const body = (await live.locator('td.response-col_description').allTextContents()).join('\n');
    const curl = (await operation.locator('.curl').textContent()) ?? '';
    const statuses = codes.map((code) => code.trim()).filter((code) => /^\d+$/.test(code));
    assert.deepEqual(statuses, ['202'], `${curl}\n${body}`);
    assert.match(curl, /operations=\["webp","avif"\]/, 'the JSON array string, as documented');
    assert.match(body, /"status": "PENDING"/);
    await page.screenshot({ path: `${SHOTS}/docs-try-it-out.png`, fullPage: true });
    await page.close();
  });
});
