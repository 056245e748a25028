// How smooth the page stays with 100k events (a measurement, not a test):
// a mock session streams 100k events (1000 processes of 100 events: fork,
// exec, 97 opens, exit) through the real server into the page in headless
// chromium, at STREAM_RATE events/s; then the virtualised table is scrolled
// frame by frame, from the top to the bottom and by jumps (after the same
// scrolling of an empty page: what the machine and browser cost now, a
// baseline on a shared machine). Prints frame
// times (p50/p99/max, ms), long tasks (> 50 ms) and the page's JS heap, for
// each phase. Run after `pnpm build`: pnpm --filter @kmon/ui bench
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createKmon } from 'kmon';
import { concatBatch, createMockBinding, encodeRecord } from 'kmon/testing';
import puppeteer from 'puppeteer-core';
import { buildPage } from '../build-page.mjs';
import { startUiServer } from '../dist/index.js';

const PROCESSES = 1000;
const EVENTS_PER_PROCESS = 100;
const TOTAL = PROCESSES * EVENTS_PER_PROCESS;
const STREAM_RATE = 20_000;
const BATCH = 200;
const SHELL = { pid: 1000, start: 500_000_000n };

/** The session's records, in the order the kernel would deliver them. */
function records() {
  const out = [];
  let seq = 0;
  let time = 1_000_000_000n;
  const header = (tgid) => ({ cpu: 0, seq: seq++, ts_ns: (time += 10_000n), tgid, tid: tgid });
  for (let i = 0; i < PROCESSES; i++) {
    const pid = 2000 + i;
    const start = time + 1n;
    out.push(
      encodeRecord({
        kind: 'fork',
        header: header(SHELL.pid),
        body: { parent_start_ns: SHELL.start, child_start_ns: start, child_tgid: pid, child_tid: pid, comm: 'bash' },
      }),
      encodeRecord({
        kind: 'exec',
        header: header(pid),
        body: { start_ns: start, parent_start_ns: SHELL.start, ppid: SHELL.pid, comm: 'worker', argc: 3 },
        vars: ['/usr/bin/worker', `worker\0--job\0${i}\0`, '/usr/bin/worker', '/srv'],
      }),
    );
    for (let j = 0; j < EVENTS_PER_PROCESS - 3; j++) {
      out.push(encodeRecord({ kind: 'open', header: header(pid), body: { start_ns: start, result: 3, comm: 'worker' }, vars: [`/srv/job${i}/part-${j}.dat`] }));
    }
    out.push(encodeRecord({ kind: 'exit', header: header(pid), body: { start_ns: start, comm: 'worker' } }));
  }
  return out;
}

/** Chromium's own accounting of the page's main thread (s): script, layout, style recalculation, all tasks. */
const WORK = ['ScriptDuration', 'LayoutDuration', 'RecalcStyleDuration', 'TaskDuration'];
let workBefore;

/** Starts recording frame intervals and long tasks in the page. */
const startFrames = async (page) => {
  workBefore = (await page.metrics());
  await page.evaluate(() => {
    const state = { frames: [], longTasks: [], running: true };
    window.__bench = state;
    new PerformanceObserver((list) => state.longTasks.push(...list.getEntries().map((e) => e.duration))).observe({ type: 'longtask' });
    let last = performance.now();
    const tick = (now) => {
      state.frames.push(now - last);
      last = now;
      if (state.running) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
};

const stopFrames = async (page) => {
  const measured = await page.evaluate(() => {
    const state = window.__bench;
    state.running = false;
    return { frames: state.frames.slice(1), longTasks: state.longTasks, heap: performance.memory.usedJSHeapSize };
  });
  const after = await page.metrics();
  return { ...measured, work: Object.fromEntries(WORK.map((name) => [name, (after[name] - workBefore[name]) * 1000])) };
};

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];

function report(phase, { frames, longTasks, heap, work }) {
  const sorted = [...frames].sort((a, b) => a - b);
  const ms = (n) => n.toFixed(1);
  console.log(
    `${phase.padEnd(28)} frames ${String(frames.length).padStart(5)}  p50 ${ms(percentile(sorted, 50)).padStart(5)} ms  p99 ${ms(percentile(sorted, 99)).padStart(6)} ms  max ${ms(sorted.at(-1)).padStart(6)} ms  ` +
      `long tasks ${longTasks.length} (${ms(longTasks.reduce((a, b) => a + b, 0))} ms)  JS heap ${(heap / 2 ** 20).toFixed(1)} MiB`,
  );
  const [script, layout, style, tasks] = WORK.map((name) => work[name].toFixed(0));
  console.log(`${''.padEnd(28)} main thread: script ${script} ms, layout ${layout} ms, style ${style} ms, all tasks ${tasks} ms`);
}

await buildPage();
const mock = createMockBinding();
const kmon = createKmon({ kinds: ['exec', 'exit', 'fork', 'open'] }, { binding: mock, graceMs: 0 });
const server = await startUiServer({ kmon, mode: 'live', wakeup: 'mock', viewCapacity: TOTAL * 2 });
const profile = mkdtempSync(join(tmpdir(), 'kmon-ui-bench-'));
const browser = await puppeteer.launch({
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--enable-precise-memory-info', `--user-data-dir=${profile}`],
  env: { PATH: '/usr/bin:/bin', HOME: profile },
  defaultViewport: { width: 1400, height: 800 },
});
try {
  const page = await browser.newPage();
  page.on('pageerror', (error) => console.error('page error:', error));
  await page.goto(server.url);
  await page.waitForFunction(() => document.getElementById('status')?.textContent === 'streaming', { timeout: 30_000 });
  const all = records();

  await startFrames(page);
  const started = performance.now();
  for (let i = 0; i < all.length; i += BATCH) {
    mock.current.deliver(concatBatch(all.slice(i, i + BATCH)));
    const due = started + ((i + BATCH) / STREAM_RATE) * 1000;
    await sleep(Math.max(0, due - performance.now()));
  }
  await page.waitForFunction((n) => document.getElementById('row-count')?.textContent === `${n} of ${n} events`, { timeout: 120_000, polling: 200 }, TOTAL);
  report(`streaming ${TOTAL / 1000}k at ${STREAM_RATE / 1000}k/s`, await stopFrames(page));

  /** Scrolls `#table` once per frame for `frames` frames: 100 px a frame, top to bottom evenly, or to random places. */
  const scroll = async (phase, frames, how, page) => {
    await page.evaluate(() => (document.getElementById('table').scrollTop = 0));
    await startFrames(page);
    await page.evaluate(
      (frames, how) =>
        new Promise((resolve) => {
          const table = document.getElementById('table');
          const position = {
            step: (i) => i * 100,
            fling: (i) => (i / frames) * table.scrollHeight,
            jump: () => Math.random() * table.scrollHeight,
          }[how];
          let i = 0;
          const step = () => {
            if (i === frames) return resolve();
            table.scrollTop = position(i++);
            requestAnimationFrame(step);
          };
          requestAnimationFrame(step);
        }),
      frames,
      how,
    );
    report(phase, await stopFrames(page));
  };
  // What scrolling costs this machine and browser now, whatever the page: an empty box as tall as the table.
  const empty = await browser.newPage();
  await empty.setContent(`<div id="table" style="height: 100vh; overflow: auto"><div style="height: ${TOTAL * 20}px"></div></div>`);
  await scroll('baseline: empty page, 100 px', 600, 'step', empty);
  await empty.close();
  await scroll('scrolling 100 px a frame', 600, 'step', page);
  await scroll('flinging top to bottom', 600, 'fling', page);
  await scroll('jumping anywhere', 300, 'jump', page);

  await startFrames(page);
  await page.type('#f-path', 'part-7');
  await page.waitForFunction(() => !document.getElementById('row-count').textContent.startsWith('100000 of'), { timeout: 30_000 });
  await sleep(1000);
  report('typing a path filter', await stopFrames(page));
} finally {
  await browser.close();
  await server.close();
  kmon.stop();
  rmSync(profile, { recursive: true, force: true });
}
