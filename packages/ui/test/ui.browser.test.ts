// kmon ui end to end: the real kernel, the server, and the page in Debian's
// chromium (headless, driven by puppeteer-core; nothing downloaded). File
// events are filtered in the kernel to this test's directory and network
// events to the ports of this test's listeners, so other work on the
// machine adds only process events.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { get, type IncomingMessage } from 'node:http';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kmon } from 'kmon';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPage } from '../build-page.mjs';
import { openUi, startUiServer, type OpenUi, type UiServer } from '../src/index.js';

const CHROMIUM = '/usr/bin/chromium';
const WAIT = { timeout: 20_000, polling: 100 };
/** The slow view's queue: it must drop rather than grow. */
const SMALL_VIEW = 100;

/** Runs a command to its end; resolves with its pid. */
function run(file: string, args: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: 'ignore', env: { PATH: '/usr/bin:/bin' } });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(child.pid!) : reject(new Error(`${file} exited ${code}`))));
  });
}

/** Creates (truncates) `count` files in `dir` as fast as one process can. */
const createFiles = (dir: string, count: number) =>
  run('/usr/bin/python3', ['-c', `import sys\nfor i in range(${count}): open(f"${dir}/burst{i % 50}", "w").close()`]);

/** A TCP listener on loopback that accepts and closes connections. */
async function listener(): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => socket.destroy());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

function status(url: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => get(url, resolve).once('error', reject));
}

const text = (page: Page, selector: string) => page.$eval(selector, (node) => node.textContent ?? '');
/**
 * Clicks in one turn of the page's event loop: the tree is redrawn as events
 * arrive, so an element handle (or $eval, which takes one) could be detached
 * by the time it is clicked.
 */
const click = (page: Page, selector: string) => page.evaluate((s) => document.querySelector<HTMLElement>(s)!.click(), selector);

describe.skipIf(process.getuid?.() !== 0)('kmon ui on the real kernel, in chromium', () => {
  let dir: string;
  let profile: string;
  let open: OpenUi;
  let kmon: Kmon;
  let ui: UiServer;
  /** The workload's destination, and another port it connects to first. */
  let target: { server: Server; port: number };
  let decoy: { server: Server; port: number };
  /** A shell running before the session attached, waiting for a line to start its child. */
  let older: ChildProcess;
  let slowUi: UiServer;
  let browser: Browser;
  let page: Page;
  /** The tree test's workload, shown in the screenshot. */
  let workload: { pid: number; child: string } | undefined;

  beforeAll(async () => {
    await buildPage();
    dir = mkdtempSync(join(tmpdir(), 'kmon-ui-'));
    profile = mkdtempSync(join(tmpdir(), 'kmon-ui-chromium-')); // outside dir: the browser's own files are not the test's file events
    [target, decoy] = [await listener(), await listener()];
    older = spawn('/bin/sh', ['-c', `read line; touch ${dir}/made-later`], { stdio: ['pipe', 'ignore', 'ignore'], env: { PATH: '/usr/bin:/bin' } });
    open = await openUi({
      session: {
        kinds: ['exec', 'exit', 'fork', 'open', 'unlink', 'connect'],
        ringBytes: 1 << 20,
        filters: { file: { include: [dir], exclude: [], failed: false }, network: { ports: [target.port, decoy.port] } },
      },
    });
    ({ kmon, server: ui } = open);
    // A second server on the same session whose views hold few rows and are written once a second: a burst overflows them.
    slowUi = await startUiServer({ kmon, mode: 'live', wakeup: 'adaptive', viewCapacity: SMALL_VIEW, flushMs: 1000 });
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-crash-reporter', `--user-data-dir=${profile}`],
      env: { PATH: '/usr/bin:/bin', HOME: profile },
      defaultViewport: { width: 1400, height: 800 },
    });
    page = await browser.newPage();
    page.on('pageerror', (error) => console.error('page error:', error));
    await page.goto(ui.url);
    await page.waitForFunction(() => document.getElementById('status')?.textContent === 'streaming', WAIT);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await open?.close();
    await slowUi?.close();
    older?.kill();
    target?.server.close();
    decoy?.server.close();
    for (const path of [dir, profile]) if (path) rmSync(path, { recursive: true, force: true });
  });

  it('refuses requests without the token (401) or with a wrong one (403), and sends a strict CSP', async () => {
    const base = ui.url.replace(/\?token=.*$/u, '');
    expect((await status(base)).statusCode).toBe(401);
    expect((await status(`${base}events`)).statusCode).toBe(401);
    expect((await status(`${base}app.js?token=${'0'.repeat(64)}`)).statusCode).toBe(403);
    const ok = await status(ui.url);
    expect(ok.statusCode).toBe(200);
    expect(ok.headers['content-security-policy']).toMatch(/script-src 'self'(;|$)/u);
    ok.resume();
  });

  it('shows a workload started after the page loaded in the tree, with its children and their file events', async () => {
    const pid = await run('/bin/sh', ['-c', `touch ${dir}/made-by-touch; sh -c "echo x > ${dir}/made-by-sh; true"; true`]);
    const root = `.proc[data-key*=":${pid}:"]`;
    await page.type('#tree-find', String(pid));
    await page.waitForSelector(root, WAIT);
    // Its children are the lines after it, indented further, until the tree is back at its depth.
    const descendants = () =>
      page.evaluate((selector) => {
        const line = document.querySelector<HTMLElement>(selector)!;
        const depth = parseFloat((line as HTMLElement).style.paddingLeft);
        const found: { key: string; text: string }[] = [];
        for (let next = line.nextElementSibling as HTMLElement | null; next && parseFloat(next.style.paddingLeft) > depth; next = next.nextElementSibling as HTMLElement | null) {
          found.push({ key: next.dataset.key!, text: next.textContent! });
        }
        return found;
      }, root);
    await page.waitForFunction(
      (selector) => {
        const line = document.querySelector<HTMLElement>(selector);
        const next = line?.nextElementSibling as HTMLElement | null;
        return line && next && /exit 0/u.test(line.textContent!) && parseFloat(next.style.paddingLeft) > parseFloat(line.style.paddingLeft);
      },
      WAIT,
      root,
    );
    const children = await descendants();
    expect(children.map((c) => c.text.split(' ')[0]).sort()).toEqual(['sh', 'touch']);

    const touch = children.find((c) => c.text.startsWith('touch'))!;
    await click(page, `.proc[data-key="${touch.key}"]`);
    await page.waitForFunction((path) => document.querySelector('.proc-events')?.textContent?.includes(path), WAIT, `${dir}/made-by-touch`);
    expect(await text(page, '#details dd.ancestry')).toMatch(new RegExp(`^touch \\d+ \u2190 sh ${pid}`, 'u'));

    const shell = children.find((c) => c.text.startsWith('sh'))!;
    workload = { pid, child: shell.key };
    await click(page, `.proc[data-key="${shell.key}"]`);
    await page.waitForFunction((path) => document.querySelector('.proc-events')?.textContent?.includes(path), WAIT, `${dir}/made-by-sh`);
    expect(await text(page, '.proc-events')).not.toContain('made-by-touch');
  });

  it('puts a process that ran before the session under its real parent (from the snapshot), with what it starts later under it', async () => {
    older.stdin!.end('go\n');
    await once(older, 'exit');
    const shell = `.proc[data-key*=":${older.pid}:"]`;
    await page.$eval('#tree-find', (node) => ((node as HTMLInputElement).value = ''));
    await page.type('#tree-find', String(older.pid));
    // The shell's line, the line of its parent (the nearest above it, less indented) and of its child (the next, more indented).
    const around = () =>
      page.evaluate((selector) => {
        const line = document.querySelector<HTMLElement>(selector);
        if (!line) return undefined;
        const depth = (node: Element | null) => (node ? parseFloat((node as HTMLElement).style.paddingLeft) : NaN);
        let parent = line.previousElementSibling;
        while (parent && depth(parent) >= depth(line)) parent = parent.previousElementSibling;
        const child = line.nextElementSibling;
        return { parent: (parent as HTMLElement | null)?.dataset.key, child: depth(child) > depth(line) ? child!.textContent : undefined };
      }, shell);
    await page.waitForFunction((selector) => document.querySelector(selector)?.nextElementSibling?.textContent?.startsWith('touch '), WAIT, shell);
    const tree = await around();
    // This test's process started the shell: it is the shell's parent in the tree, not a root of its own.
    expect(tree?.parent).toMatch(new RegExp(`:${process.pid}:\\d+$`, 'u'));
    expect(tree?.child).toMatch(/^touch \d+ {2}\(exit 0/u);
    await click(page, shell);
    await page.waitForFunction(() => document.querySelector('#details dd.parent')?.textContent !== '', WAIT);
    expect(await text(page, '#details dd.parent')).toMatch(new RegExp(` ${process.pid}$`, 'u'));
  });

  it("shows a workload's connections under its details and in the table, where the port filter narrows to one", async () => {
    // By destination: a process may connect elsewhere first (the C library asks nscd for users, without HOME).
    const script = `import socket\nfor port in (${decoy.port}, ${target.port}): socket.create_connection(("127.0.0.1", port)).close()`;
    const pid = await run('/usr/bin/python3', ['-c', script]);
    const proc = `.proc[data-key*=":${pid}:"]`;
    await page.$eval('#tree-find', (node) => ((node as HTMLInputElement).value = ''));
    await page.type('#tree-find', String(pid));
    await page.waitForSelector(proc, WAIT);
    await click(page, proc);
    await page.waitForFunction((address) => document.querySelector('.proc-events')?.textContent?.includes(address), WAIT, `127.0.0.1:${target.port}`);
    expect(await text(page, '.proc-events')).toMatch(new RegExp(`connect 127\\.0\\.0\\.1:${target.port}\\b`, 'u'));

    await page.type('#f-pid', String(pid));
    await page.type('#f-kinds', 'network');
    await page.waitForFunction(() => parseInt(document.getElementById('row-count')!.textContent!, 10) >= 2, WAIT);
    await page.type('#f-port', String(target.port));
    await page.waitForFunction(() => document.getElementById('row-count')!.textContent!.startsWith('1 of'), WAIT);
    expect(await page.$$eval('#rows .row .kind', (cells) => cells.map((c) => c.textContent))).toEqual(['connect']);
    expect(await text(page, '#rows .row .detail')).toBe(`127.0.0.1:${target.port}`);
    for (const id of ['#f-pid', '#f-kinds', '#f-port']) await page.$eval(id, (node) => ((node as HTMLInputElement).value = ''));
    await page.$eval('#f-pid', (node) => node.dispatchEvent(new Event('input', { bubbles: true })));
  });

  it('narrows the event table with the kind, pid, path and port filters', async () => {
    const pid = await run('/bin/sh', ['-c', `: > ${dir}/filtered-a; : > ${dir}/filtered-b; true`]);
    const counts = async () => {
      const [shown, all] = (await text(page, '#row-count')).split(' of ').map((n) => parseInt(n, 10));
      return { shown: shown!, all: all! };
    };
    const columns = (name: string) => page.$$eval(`#rows .row .${name}`, (cells) => cells.map((c) => c.textContent ?? ''));

    await page.type('#f-pid', String(pid));
    // Its exit is its last event: once shown, all of them are.
    await page.waitForFunction(() => [...document.querySelectorAll('#rows .kind')].some((cell) => cell.textContent === 'exit'), WAIT);
    const byPid = await counts();
    expect(byPid.shown).toBeGreaterThanOrEqual(4); // exec, two opens, exit
    expect(byPid.shown).toBeLessThan(byPid.all);
    expect(new Set(await columns('pid'))).toEqual(new Set([String(pid)]));

    await page.type('#f-kinds', 'open');
    await page.waitForFunction(() => document.getElementById('row-count')!.textContent!.startsWith('2 of'), WAIT);
    expect(await columns('kind')).toEqual(['open', 'open']);

    await page.type('#f-path', 'filtered-b');
    await page.waitForFunction(() => document.getElementById('row-count')!.textContent!.startsWith('1 of'), WAIT);
    expect(await columns('detail')).toEqual([expect.stringContaining(`${dir}/filtered-b`)]);

    await page.type('#f-port', '443'); // file events have no port
    await page.waitForFunction(() => document.getElementById('row-count')!.textContent!.startsWith('0 of'), WAIT);

    for (const id of ['#f-pid', '#f-kinds', '#f-path', '#f-port']) await page.$eval(id, (node) => ((node as HTMLInputElement).value = ''));
    await page.$eval('#f-pid', (node) => node.dispatchEvent(new Event('input', { bubbles: true })));
    const cleared = await counts();
    expect(cleared.shown).toBe(cleared.all);
  });

  it('shows an argv with <script> and terminal escapes as text: nothing runs', async () => {
    const hostile = ['<script>window.kmonPwned = 1</script>', '<img src=x onerror="window.kmonPwned = 2">', '\x1b[31mred\x1b[0m\r\nforged'];
    const pid = await run('/bin/true', hostile);
    await page.$eval('#tree-find', (node) => ((node as HTMLInputElement).value = ''));
    await page.type('#tree-find', String(pid));
    await page.waitForSelector(`.proc[data-key*=":${pid}:"]`, WAIT);
    await click(page, `.proc[data-key*=":${pid}:"]`);
    await page.waitForFunction(() => document.querySelector('#details dd.argv')?.textContent?.includes('kmonPwned'), WAIT);
    const argv = await text(page, '#details dd.argv');
    expect(argv).toContain('<script>window.kmonPwned = 1</script>');
    expect(argv).toContain('<img src=x onerror="window.kmonPwned = 2">');
    expect(argv).toContain('\\e[31mred\\e[0m\\r\\nforged');
    expect(await page.evaluate(() => (window as unknown as { kmonPwned?: number }).kmonPwned)).toBeUndefined();
    expect(await page.$$('#details script, #details img, #rows img')).toHaveLength(0);
  });

  it('keeps a slow view bounded: drops and counts for it, and the page is told', async () => {
    // A client that never reads: the server's socket fills, and its queue stops at its capacity.
    const slow = await status(slowUi.url.replace('/?', '/events?'));
    slow.pause();
    const slowPage = await browser.newPage();
    await slowPage.goto(slowUi.url);
    await slowPage.waitForFunction(() => document.getElementById('status')?.textContent === 'streaming', WAIT);

    await createFiles(dir, 20_000);
    // The page that keeps up holds every row, but only those in view are in its DOM (the table is virtualised).
    await page.waitForFunction(() => parseInt(document.getElementById('row-count')!.textContent!.split(' of ')[1]!, 10) > 10_000, WAIT);
    expect(await page.$$eval('#rows .row', (rows) => rows.length)).toBeLessThan(100);
    await slowPage.waitForFunction(() => !document.getElementById('dropped-view')!.hidden, WAIT);
    expect(await text(slowPage, '#dropped-view')).toMatch(/^[1-9]\d* events dropped for this view/u);

    const [neverReads] = slowUi.views().sort((a, b) => b.dropped - a.dropped);
    expect(neverReads!.dropped).toBeGreaterThan(10_000);
    expect(neverReads!.queued).toBeLessThanOrEqual(SMALL_VIEW);
    // Written: what the socket took before it stopped accepting, plus one flush of at most SMALL_VIEW rows.
    expect(neverReads!.bufferedBytes).toBeLessThan(1 << 20);
    slow.destroy();
    await slowPage.close();
  }, 60_000);

  it('shows the losses of the session (a full ring) rising, by cause, and saves a screenshot', async () => {
    const before = Number(await text(page, '#lost-total'));
    const resume = kmon.pause(); // the 1 MiB ring fills with records nobody reads
    try {
      await createFiles(dir, 20_000);
    } finally {
      resume();
    }
    await page.waitForFunction((n) => Number(document.getElementById('lost-total')!.textContent) > n, WAIT, before);
    expect(await text(page, '#lost-causes')).toMatch(/ring-full [1-9]/u);
    // The notice is a row of the table, where the records went missing.
    await page.type('#f-kinds', 'lost');
    await page.waitForSelector('#rows .row.k-lost', WAIT);
    expect(await text(page, '#rows .row.k-lost .detail')).toMatch(/^LOST [1-9]\d* \(ring-full\)/u);
    await page.$eval('#f-kinds', (node) => ((node as HTMLInputElement).value = ''));
    await page.type('#f-kinds', 'exec,exit,lost');
    if (workload) {
      await page.$eval('#tree-find', (node) => ((node as HTMLInputElement).value = ''));
      await page.type('#tree-find', String(workload.pid));
      await page.waitForSelector(`.proc[data-key="${workload.child}"]`, WAIT);
      await click(page, `.proc[data-key="${workload.child}"]`);
    }
    // KMON_UI_SCREENSHOT=docs/ui.png updates the README's picture.
    await page.screenshot({ path: process.env.KMON_UI_SCREENSHOT ?? join(dir, 'ui.png') });
  }, 60_000);
});
