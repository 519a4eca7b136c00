import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import sharp from 'sharp';
import { samplePng } from '../support/images.ts';
import { type System, startSystem } from '../support/system.ts';

const SHOTS = 'docs/screenshots';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

describe('the web app in a real browser against the running system', () => {
  let system: System;
  let shortLived = '';
  let browser: Browser;
  let context: BrowserContext;
  const consoleErrors: string[] = [];
  const work = path.join(tmpdir(), `pixtools-web-${process.pid}`);
  mkdirSync(work, { recursive: true });
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
    // one context for the whole run: localStorage (the history) persists across pages, as in one browser
    context = await browser.newContext();
  });
  after(async () => {
    await browser?.close();
    await system?.stop();
  });

  async function open(viewport = { width: 1280, height: 900 }): Promise<Page> {
    const page = await context.newPage();
    await page.setViewportSize(viewport);
    page.on('console', (message) => {
      // The one 422 the tests provoke on purpose (a bad webhook URL) is logged by Chromium as a failed load.
      const provoked = message.text().includes('status of 422');
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

  async function waitDone(page: Page) {
    await page.waitForSelector('#job-results:not([hidden])', { timeout: 120_000 });
  }

  it('shows the empty state', async () => {
    const page = await open();
    assert.equal(await page.isVisible('#job-empty'), true);
    await page.screenshot({ path: `${SHOTS}/empty.png`, fullPage: true });
    await page.close();
  });

  it('converts a PNG to WebP and AVIF with live progress, and both downloads are what they say', async () => {
    const page = await open();
    await page.setInputFiles('#file', await file('gradient.png', await samplePng(320, 240)));
    await page.waitForSelector('#preview:not([hidden])');
    assert.equal(await page.isDisabled('#op-png'), true, 'same-format conversion is disabled');
    await page.check('#op-webp', { force: true });
    await page.check('#op-avif', { force: true });
    await page.click('#submit');
    await page.waitForSelector('#job-steps li');
    await page.screenshot({ path: `${SHOTS}/in-progress.png`, fullPage: true });
    await waitDone(page);
    assert.equal(await page.textContent('#job-live'), 'Done.');
    const statuses = await page.$$eval('#job-steps li', (items) => items.map((item) => item.className));
    assert.deepEqual(statuses, ['succeeded', 'succeeded', 'succeeded'], 'webp, avif and the ZIP bundle step');
    await page.screenshot({ path: `${SHOTS}/results.png`, fullPage: true });

    const links = await page.$$eval('#result-cards a', (anchors) =>
      anchors.map((a) => ({
        result: a.closest('[data-result]')?.getAttribute('data-result'),
        href: (a as HTMLAnchorElement).href,
      })),
    );
    assert.deepEqual(links.map((link) => link.result).sort(), ['avif', 'webp']);
    for (const link of links) {
      const response = await page.request.get(link.href);
      assert.equal(response.status(), 200);
      const meta = await sharp(await response.body()).metadata();
      assert.equal(meta.format, link.result === 'avif' ? 'heif' : 'webp');
      assert.equal(meta.width, 320);
    }
    await page.close();
  });

  it('shows a before/after slider for a denoise job', async () => {
    const page = await open();
    const noisy = Buffer.alloc(200 * 150 * 3);
    for (let i = 0; i < noisy.length; i++) noisy[i] = 100 + ((i * 7919) % 61);
    const png = await sharp(noisy, { raw: { width: 200, height: 150, channels: 3 } })
      .png()
      .toBuffer();
    await page.setInputFiles('#file', await file('noisy.png', png));
    await page.check('#op-denoise', { force: true });
    await page.click('#submit');
    await waitDone(page);
    await page.waitForSelector('#compare-wrap:not([hidden])');
    await page.focus('#compare-range');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    const split = await page.$eval('#compare', (el) => (el as HTMLElement).style.getPropertyValue('--split'));
    assert.equal(split, '52%');
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

  it('explains a bad file and a rejected request in plain words', async () => {
    const page = await open();
    await page.setInputFiles('#file', await file('fake.png', Buffer.from('hello, I am text')));
    await page.waitForSelector('#form-error:not([hidden])');
    const local = await page.textContent('#form-error');
    assert.match(local ?? '', /is not a JPEG, PNG, WebP or AVIF image/);

    await page.setInputFiles('#file', await file('ok.png', await samplePng(20, 20)));
    await page.check('#op-jpg', { force: true });
    await page.fill('#webhook', 'not a url');
    await page.click('#submit');
    await page.waitForSelector('#form-error:not([hidden])');
    const server = (await page.textContent('#form-error')) ?? '';
    assert.match(server, /webhook_url/);
    assert.ok(!server.includes('{'), `no raw JSON: ${server}`);
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
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.keyboard.press('Space')]);
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

  it('fits a phone screen', async () => {
    const page = await open({ width: 390, height: 844 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `no horizontal scrolling (overflow ${overflow}px)`);
    await page.screenshot({ path: `${SHOTS}/mobile.png`, fullPage: true });
    await page.close();
  });

  it('logged no console errors', () => {
    assert.deepEqual(consoleErrors, []);
  });
});
