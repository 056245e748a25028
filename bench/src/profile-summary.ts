// Summarises a V8 .cpuprofile (node --cpu-prof) by where the time goes in
// the kmon path: self time per layer and the top functions.
//
//   node dist/profile-summary.js FILE.cpuprofile [--top N]
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** Which layer a frame belongs to, by its script. */
export function layer(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) {
    // zod's compiled parsers are made with new Function: no script URL.
    if (!functionName && frame.lineNumber > 0) return 'zod';
    if (functionName === '(garbage collector)') return 'gc';
    if (functionName === '(idle)') return 'idle';
    if (functionName === '(program)') return 'native/program';
    return `native:${functionName || '(anonymous)'}`;
  }
  if (url.includes('/zod/')) return 'zod';
  if (url.includes('/rxjs/')) return 'rxjs';
  if (url.includes('/core/dist/decoder') || url.includes('/core/src/decoder')) return 'core:decoder';
  if (url.includes('/core/')) return 'core:other';
  if (url.includes('/rx/dist/') || url.includes('/rx/src/')) return 'rx';
  if (url.includes('/native/')) return 'native:ts';
  if (url.includes('/bench/')) return 'bench:subscriber';
  if (url.startsWith('node:')) return 'node-internal';
  return url;
}

export function summarize(profile: Profile, top = 25) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const layers = new Map<string, number>();
  const fns = new Map<string, number>();
  for (const [id, us] of self) {
    const f = byId.get(id)!.callFrame;
    const l = layer(f);
    layers.set(l, (layers.get(l) ?? 0) + us);
    const file = f.url.split('/').slice(-2).join('/');
    const key = `${f.functionName || '(anonymous)'} ${file}:${f.lineNumber + 1} [${l}]`;
    fns.set(key, (fns.get(key) ?? 0) + us);
  }
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return {
    totalMs: total / 1000,
    layers: sorted(layers).map(([name, us]) => ({ name, ms: us / 1000, pct: (100 * us) / total })),
    functions: sorted(fns)
      .slice(0, top)
      .map(([name, us]) => ({ name, ms: us / 1000, pct: (100 * us) / total })),
  };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: node dist/profile-summary.js FILE.cpuprofile [--top N]');
    process.exit(2);
  }
  const topArg = process.argv.indexOf('--top');
  const s = summarize(JSON.parse(readFileSync(file, 'utf8')) as Profile, topArg > 0 ? Number(process.argv[topArg + 1]) : 25);
  console.log(`${file}: ${s.totalMs.toFixed(0)} ms sampled`);
  console.log('self time by layer:');
  for (const l of s.layers) console.log(`  ${l.pct.toFixed(1).padStart(5)}%  ${l.ms.toFixed(0).padStart(7)} ms  ${l.name}`);
  console.log('top functions (self):');
  for (const f of s.functions) console.log(`  ${f.pct.toFixed(1).padStart(5)}%  ${f.ms.toFixed(0).padStart(7)} ms  ${f.name}`);
}
