import { fileURLToPath } from 'node:url';
import { replayBinding } from '@kmon/capture';
import { ABI, createKmon } from 'kmon';
import { concatBatch, createMockBinding, encodeRecord } from 'kmon/testing';
import { lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { describeWebShell, webShells } from './web-shell.js';

const fixture = fileURLToPath(new URL('../fixtures/webshell.kmon', import.meta.url));

describe('web-shell example', () => {
  it('finds the two CGI shells of a real lighttpd in its capture, and nothing else', async () => {
    // Recorded by scripts/record-webshell-fixture.sh: lighttpd serving a static page and run.sh (via /bin/sh) twice,
    // then `sh -c` from the script itself, with whatever else the machine ran meanwhile (a wine shell script...).
    const kmon = createKmon({}, { binding: replayBinding(fixture), graceMs: 0 });
    const found = await lastValueFrom(kmon.events$.pipe(webShells(), toArray()));
    expect(found).toHaveLength(2);
    for (const shell of found) {
      expect(shell).toMatchObject({ server: 'lighttpd', argv: ['/bin/sh', expect.stringMatching(/\/cgi-bin\/run\.sh$/)] });
    }
    expect(new Set(found.map((s) => 'pid' in s && s.pid)).size).toBe(2);
    expect(describeWebShell(found[0]!)).toMatch(/^web shell: lighttpd \(pid \d+\) started \/bin\/sh \/tmp\/.*\/run\.sh \(pid \d+\)$/);
  });

  it('knows a server that started before kmon by the name in its fork, and passes loss notices on', async () => {
    const fork = encodeRecord({ kind: 'fork', header: { tgid: 80 }, body: { child_tgid: 81, child_tid: 81, child_start_ns: 5n, comm: 'nginx' } });
    const exec = (pid: number, ppid: number, start: bigint, filename: string) =>
      encodeRecord({ kind: 'exec', header: { tgid: pid }, body: { ppid, start_ns: start, comm: 'x' }, vars: [filename, `${filename}\0-c\0id\0`] });
    const binding = createMockBinding();
    const kmon = createKmon({}, { binding, graceMs: 0 });
    const out = lastValueFrom(kmon.events$.pipe(webShells(), toArray()));
    binding.current!.deliver(concatBatch([fork, exec(81, 80, 5n, '/bin/bash'), exec(82, 1, 6n, '/bin/bash'), exec(83, 81, 7n, '/usr/bin/id')]));
    const dropped = new Array<number>(ABI.kindCount).fill(0);
    dropped[ABI.kinds.exec] = 1;
    binding.current!.setStats({ cpus: [{ attempted: 0, dropped, truncated: 0 }] });
    kmon.stop();
    expect(await out).toEqual([
      expect.objectContaining({ pid: 81, server: 'nginx', serverPid: 80, argv: ['/bin/bash', '-c', 'id'] }),
      expect.objectContaining({ kind: 'lost', cause: 'ring-full', count: 1 }),
    ]);
  });
});
