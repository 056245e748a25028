// Strips the types from packages/kmon/test/synthetic.checks.ts for node.exe
// (Node 20 runs no TypeScript): type-only imports vanish, node:assert stays.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const ts = createRequire(join(here, '../../../package.json'))('typescript');
const from = join(here, '../../kmon/test/synthetic.checks.ts');
const to = join(here, 'build/checks/synthetic.checks.js');
const { outputText, diagnostics } = ts.transpileModule(readFileSync(from, 'utf8'), {
  fileName: from,
  reportDiagnostics: true,
  compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: true },
});
if (diagnostics?.length) {
  for (const d of diagnostics) console.error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  process.exit(1);
}
mkdirSync(dirname(to), { recursive: true });
writeFileSync(to, outputText);
