// What a user's editor shows: every property of every event, hovered in a
// program compiled against @kmon/core's published declarations (.d.ts, as
// tsc emits them for dist/), has the doc comment its kind definition gives it.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { expect, it } from 'vitest';
import { KIND_DEFINITIONS } from '../src/kinds/index.js';
import { contextResolver } from '../src/process/context.js';
import { ProcessTable } from '../src/process/table.js';
import { eventOf } from './process-events.js';

const coreDir = fileURLToPath(new URL('..', import.meta.url));
const options: ts.CompilerOptions = {
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  target: ts.ScriptTarget.ES2022,
  strict: true,
  skipLibCheck: true,
};

function emitDeclarations(): string {
  const outDir = mkdtempSync(join(tmpdir(), 'kmon-dts-'));
  const config = { ...options, declaration: true, emitDeclarationOnly: true, outDir, rootDir: join(coreDir, 'src') };
  const result = ts.createProgram([join(coreDir, 'src/index.ts')], config).emit();
  expect(result.diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))).toEqual([]);
  writeFileSync(join(outDir, 'package.json'), JSON.stringify({ type: 'module' }));
  return outDir;
}

/** Property accesses on each kind's event, with where each name sits in the probe source. */
function probe(): { source: string; sites: Array<{ label: string; at: number }> } {
  let source = `import type { ContextEvent, KmonEvent } from './index.js';\n`;
  const sites: Array<{ label: string; at: number }> = [];
  const access = (variable: string, name: string, label: string) => {
    sites.push({ label, at: source.length + variable.length + 1 });
    source += `${variable}.${name};\n`;
  };
  // The context every event of a session gains: its properties as a resolved event has them.
  const resolved = contextResolver({ bootId: 'b', realtimeOffsetNs: 0n }, new ProcessTable('b')).resolve(eventOf('exit', {}));
  source += `declare const c: ContextEvent;\ndeclare const p: ContextEvent['process'];\n`;
  for (const name of ['process', 'wallTime', 'wallTimeNs', 'host']) access('c', name, `context.${name}`);
  for (const name of Object.keys(resolved.process)) access('p', name, `context.process.${name}`);
  for (const d of KIND_DEFINITIONS) {
    const variable = `e${d.number}`;
    source += `declare const ${variable}: Extract<KmonEvent, { kind: '${d.name}' }>;\n`;
    const names = ['cpu', 'seq', 'time', 'pid', 'tid', 'cgroupId', ...Object.keys(d.fields).filter((k) => !k.startsWith('_')), ...Object.keys(d.flags)];
    if (d.vars.length > 0) names.push('truncated');
    for (const name of names) {
      const line = `${variable}.${name};\n`;
      sites.push({ label: `${d.name}.${name}`, at: source.length + variable.length + 1 });
      source += line;
    }
  }
  return { source, sites };
}

it('every event property has its doc comment in the published declarations', () => {
  const dir = emitDeclarations();
  const file = join(dir, 'probe.ts');
  const { source, sites } = probe();
  writeFileSync(file, source);
  const program = ts.createProgram([file], { ...options, types: [] });
  expect(ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'))).toEqual([]);
  const checker = program.getTypeChecker();
  const probeFile = program.getSourceFile(file)!;
  const undocumented = sites.filter(({ at }) => {
    const name = findIdentifierAt(probeFile, at);
    const symbol = name && checker.getSymbolAtLocation(name);
    return !symbol || ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim() === '';
  });
  expect(undocumented.map((s) => s.label)).toEqual([]);
  expect(sites.length).toBeGreaterThan(40);
}, 60_000);

function findIdentifierAt(file: ts.SourceFile, at: number): ts.Node | undefined {
  const visit = (node: ts.Node): ts.Node | undefined =>
    node.getStart(file) === at && ts.isIdentifier(node) ? node : ts.forEachChild(node, visit);
  return visit(file);
}
