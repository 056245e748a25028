// `kmon ui` from the command line, on a capture (no root, no browser): it
// prints the page's address with its token, serves the page with it and
// refuses requests without it, and stops cleanly on Ctrl-C.
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { createProgram } from '../src/program.js';
import { memoryIo } from './memory-io.js';

const CAPTURE = fileURLToPath(new URL('../../../examples/fixtures/webshell.kmon', import.meta.url));

it('kmon ui --replay prints a tokened address on loopback, serves the page with the token only, and stops on Ctrl-C', async () => {
  const { io, out, err, interrupt } = memoryIo();
  const running = createProgram(io).run(['ui', '--replay', CAPTURE]);
  await expect.poll(out, { timeout: 5000 }).toMatch(/open http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{64}\n/u);
  const url = /http:\S+/u.exec(out())![0];
  expect((await fetch(url)).status).toBe(200);
  expect((await fetch(url.replace(/\?token=.*/u, ''))).status).toBe(401);
  interrupt();
  expect(await running).toBe(0);
  expect(err()).toBe('');
});

it('kmon ui --host warns that a non-loopback address exposes the events', async () => {
  const { io, err, out, interrupt } = memoryIo();
  const running = createProgram(io).run(['ui', '--replay', CAPTURE, '--host', '0.0.0.0']);
  await expect.poll(out, { timeout: 5000 }).toMatch(/open http:\/\/0\.0\.0\.0:/u);
  expect(err()).toMatch(/warning: listening on 0\.0\.0\.0/u);
  interrupt();
  expect(await running).toBe(0);
});
