// kmon ui over a capture (no root, no kernel): the recorded web shell
// (examples/fixtures) in chromium, with its wall-clock times and the time
// slider narrowing what is shown; and a capture holding a process snapshot,
// whose processes sit in the tree under their parents.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { recordingBinding, CaptureWriter } from '@kmon/capture';
import { parseSessionOptions } from 'kmon';
import { concatBatch, createMockBinding, encodeRecord } from 'kmon/testing';
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

/**
 * A capture of a session that started while init (pid 1) ran bash (pid 100):
 * its snapshot names both, then bash starts `ls -l`, which exits.
 */
function recordSnapshotCapture(path: string) {
  const mock = createMockBinding({ clock: { bootId: 'ui-boot', realtimeOffsetNs: 1_764_000_000_000_000_000n } });
  const session = recordingBinding(mock, new CaptureWriter(path)).open(parseSessionOptions({ kinds: ['exec', 'exit', 'fork', 'process'] }), {
    onBatch: () => {},
    onError: () => {},
  });
  const snapshot = (seq: number, tgid: number, body: Record<string, number | bigint | string>, vars: string[]) =>
    encodeRecord({ kind: 'process', header: { cpu: 0xffff_ffff, seq, ts_ns: 1_000n, tgid, tid: tgid }, body, vars });
  mock.current!.deliver(
    concatBatch([
      snapshot(0, 1, { start_ns: 10n, comm: 'init' }, ['/sbin/init', '/', 'init\0']),
      snapshot(1, 100, { start_ns: 50n, parent_start_ns: 10n, ppid: 1, comm: 'bash' }, ['/bin/bash', '/root', 'bash\0']),
    ]),
  );
  const ring = (seq: number, tgid: number, ts_ns: bigint) => ({ cpu: 0, seq, ts_ns, tgid, tid: tgid });
  mock.current!.deliver(
    concatBatch([
      encodeRecord({ kind: 'fork', header: ring(0, 100, 2_000n), body: { parent_start_ns: 50n, child_start_ns: 1_500n, child_tgid: 200, child_tid: 200, comm: 'bash' } }),
      encodeRecord({
        kind: 'exec',
        header: ring(1, 200, 2_100n),
        body: { start_ns: 1_500n, parent_start_ns: 50n, ppid: 100, comm: 'ls' },
        vars: ['/bin/ls', 'ls\0-l\0', '/bin/ls', '/root'],
      }),
      encodeRecord({ kind: 'exit', header: ring(2, 200, 3_000n), body: { start_ns: 1_500n, comm: 'ls' } }),
    ]),
  );
  session.close();
}

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

  // The table's DOM holds the rows in view, in order, as it scrolls either way (its nodes are reused).
  const inView = () => page.$$eval('#rows .row', (rows) => rows.map((row) => row.textContent));
  const scrollTable = (px: number) =>
    page.$eval('#table', (table, to) => {
      table.scrollTop = to;
      table.dispatchEvent(new Event('scroll'));
    }, px);
  await scrollTable(0);
  const top = await inView();
  expect(top.length).toBeGreaterThan(10);
  await scrollTable(5 * 20); // five rows down: the rows from the fourth on (two rows are kept above the view)
  expect((await inView()).slice(0, top.length - 3)).toEqual(top.slice(3));
  await scrollTable(0);
  expect(await inView()).toEqual(top);

  await page.$eval('#slider', (node) => {
    (node as HTMLInputElement).value = '0';
    node.dispatchEvent(new Event('input', { bubbles: true }));
  });
  expect(await page.$eval('#slider-label', (node) => node.textContent)).toBe('0.000 s after the first event');
  expect(await rowCount()).toMatch(/^1 of 148 events$/u);
  // lighttpd had not started yet (its parent, running before the capture began, had).
  await page.waitForFunction(() => ![...document.querySelectorAll('.proc')].some((line) => line.textContent!.startsWith('lighttpd')), WAIT);
});

it('seeds the tree from the snapshot a capture holds: processes running at attach sit under their parents; one whose parent is unknown is a root, said so', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kmon-ui-snapshot-'));
  const file = join(dir, 'snapshot.kmon');
  recordSnapshotCapture(file);
  const seeded = await openUi({ replay: { file, speed: 'max' } });
  const view = await browser.newPage();
  try {
    await view.goto(seeded.server.url);
    await view.waitForFunction(() => document.getElementById('status')?.textContent === 'ended', WAIT);
    // The tree, as text with its depth: bash (from the snapshot) under init, and ls (forked and exec'd during the session) under bash.
    await view.waitForFunction(() => document.querySelectorAll('.proc').length === 3, WAIT);
    const lines = await view.$$eval('.proc', (nodes) => nodes.map((n) => [parseFloat((n as HTMLElement).style.paddingLeft), n.textContent!.split('  ')[0]]));
    expect(lines).toEqual([
      [4, 'init 1'],
      [18, 'bash 100'],
      [32, 'ls 200'],
    ]);
    // The snapshot's rows are the tree's, not events of the table.
    expect(await view.$eval('#row-count', (node) => node.textContent)).toBe('3 of 3 events');

    await view.evaluate(() => document.querySelector<HTMLElement>('.proc[data-key="ui-boot:200:1500"]')!.click());
    await view.waitForFunction(() => document.querySelector('#details dd.ancestry')?.textContent === 'ls 200 \u2190 bash 100 \u2190 init 1', WAIT);
    expect(await view.$eval('#details dd.parent', (node) => node.textContent)).toBe('bash 100');
    await view.evaluate(() => document.querySelector<HTMLElement>('.proc[data-key="ui-boot:1:10"]')!.click());
    await view.waitForFunction(() => document.querySelector('#details dd.process')?.textContent === 'init 1', WAIT);
    expect(await view.$eval('#details dd.parent', (node) => node.textContent)).toMatch(/^unknown \(ppid 0\): .* a root$/u);

    // A view opened after the replay ended starts with the processes the session's table knows are running.
    const later = await browser.newPage();
    await later.goto(seeded.server.url);
    await later.waitForFunction(() => document.querySelectorAll('.proc').length === 2, WAIT);
    const laterLines = await later.$$eval('.proc', (nodes) => nodes.map((n) => [parseFloat((n as HTMLElement).style.paddingLeft), n.textContent!.split('  ')[0]]));
    expect(laterLines).toEqual([
      [4, 'init 1'],
      [18, 'bash 100'],
    ]);
    await later.close();
  } finally {
    await view.close();
    await seeded.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
