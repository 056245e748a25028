// kmon ui over a capture (no root, no kernel): the recorded web shell
// (examples/fixtures) in chromium, with its wall-clock times and the time
// slider narrowing what is shown.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildPage } from '../build-page.mjs';
import { openUi, type OpenUi } from '../src/index.js';

const CAPTURE = fileURLToPath(new URL('../../../examples/fixtures/webshell.kmon', import.meta.url));
const WAIT = { timeout: 20_000, polling: 100 };

let profile: string;
let ui: OpenUi;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  await buildPage();
  profile = mkdtempSync(join(tmpdir(), 'kmon-ui-chromium-'));
  ui = await openUi({ replay: { file: CAPTURE, speed: 'max' } });
  browser = await puppeteer.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-crash-reporter', `--user-data-dir=${profile}`],
    env: { PATH: '/usr/bin:/bin', HOME: profile },
  });
  page = await browser.newPage();
  await page.goto(ui.server.url);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await ui?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

it('replays a capture into the page: the web server and the shells it started, at their recorded wall-clock times; the slider goes back in time', async () => {
  await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ended', WAIT);
  expect(await page.$eval('#mode', (node) => node.textContent)).toBe('replay 100%');
  const rowCount = () => page.$eval('#row-count', (node) => node.textContent!);
  await page.waitForFunction(() => document.getElementById('row-count')!.textContent === '148 of 148 events', WAIT);

  await page.type('#tree-find', 'lighttpd');
  await page.waitForFunction(
    () => {
      const lines = [...document.querySelectorAll<HTMLElement>('.proc')].map((n) => n.textContent!);
      const server = lines.findIndex((line) => line.startsWith('lighttpd 22358 '));
      return server >= 0 && lines.slice(server + 1).filter((line) => line.startsWith('sh ')).length === 2;
    },
    WAIT,
  );
  // The capture's header gives the wall clock (recorded at 11:36 UTC).
  expect(await page.$eval('#rows .row .time', (node) => node.textContent)).toMatch(/^11:3\d:\d\d\.\d{3}$/u);

  await page.$eval('#slider', (node) => {
    (node as HTMLInputElement).value = '0';
    node.dispatchEvent(new Event('input', { bubbles: true }));
  });
  expect(await page.$eval('#slider-label', (node) => node.textContent)).toBe('0.000 s after the first event');
  expect(await rowCount()).toMatch(/^1 of 148 events$/u);
  // lighttpd had not started yet (its parent, running before the capture began, had).
  await page.waitForFunction(() => ![...document.querySelectorAll('.proc')].some((line) => line.textContent!.startsWith('lighttpd')), WAIT);
});
