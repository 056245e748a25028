// The event field reference, docs/events.md, generated from the kind
// definitions (src/kinds/): every kind, every property, its type, its C
// member and the doc comment its definition gives it. Regenerate after
// changing a kind:
//   pnpm --filter @kmon/core exec vitest run test/field-reference.test.ts -u
// Without -u (and always in CI) the test fails when the file differs from
// what the definitions say, or lacks a property an event has.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import type { z } from 'zod';
import { describe, expect, it } from 'vitest';
import type { Field, Fields, Flags } from '../src/kinds/define.js';
import { KIND_DEFINITIONS } from '../src/kinds/index.js';
import { headerFields } from '../src/kinds/kind.js';

const REFERENCE = fileURLToPath(new URL('../../../docs/events.md', import.meta.url));
const KINDS_DIR = fileURLToPath(new URL('../src/kinds/', import.meta.url));

/** The doc comments of the kind sources: `kind.key` (header fields: `header.key`) -> text. */
function docComments(): Map<string, string> {
  const program = ts.createProgram(
    ts.sys.readDirectory(KINDS_DIR, ['.ts']).filter((f) => !f.endsWith('.test.ts')),
    { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, target: ts.ScriptTarget.ES2022, noEmit: true },
  );
  const checker = program.getTypeChecker();
  const docs = new Map<string, string>();
  const docOf = (node: ts.PropertyAssignment) => {
    const symbol = checker.getSymbolAtLocation(node.name);
    return symbol ? ts.displayPartsToString(symbol.getDocumentationComment(checker)).replace(/\s+/g, ' ').trim() : '';
  };
  /** A constant's symbol, through an import of it. */
  const declaredSymbol = (node: ts.Identifier) => {
    const symbol = checker.getSymbolAtLocation(node);
    return symbol && symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
  };
  /** An object literal, also when written as a constant shared between kinds (or spread into one), in this file or imported. */
  const literalOf = (node: ts.Node | undefined): ts.ObjectLiteralExpression | undefined => {
    while (node && (ts.isSatisfiesExpression(node) || ts.isAsExpression(node) || ts.isParenthesizedExpression(node))) node = node.expression;
    if (node && ts.isIdentifier(node)) {
      const declaration = declaredSymbol(node)?.valueDeclaration;
      return declaration && ts.isVariableDeclaration(declaration) ? literalOf(declaration.initializer) : undefined;
    }
    return node && ts.isObjectLiteralExpression(node) ? node : undefined;
  };
  const collect = (owner: string, node: ts.Node | undefined) => {
    for (const p of literalOf(node)?.properties ?? []) {
      if (ts.isPropertyAssignment(p)) docs.set(`${owner}.${p.name.getText()}`, docOf(p));
      if (ts.isSpreadAssignment(p)) collect(owner, p.expression);
    }
  };
  const propertyOf = (literal: ts.ObjectLiteralExpression, name: string) =>
    literal.properties.find((p): p is ts.PropertyAssignment => ts.isPropertyAssignment(p) && p.name.getText() === name)?.initializer;
  for (const file of program.getSourceFiles().filter((f) => f.fileName.startsWith(KINDS_DIR))) {
    const visit = (node: ts.Node): void => {
      if (ts.isVariableDeclaration(node) && node.name.getText() === 'headerFields') collect('header', node.initializer);
      if (ts.isCallExpression(node) && node.expression.getText() === 'defineKind' && ts.isObjectLiteralExpression(node.arguments[0]!)) {
        const spec = node.arguments[0];
        const name = propertyOf(spec, 'name');
        if (name && ts.isStringLiteral(name)) {
          collect(name.text, propertyOf(spec, 'fields'));
          collect(name.text, propertyOf(spec, 'flags'));
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(file);
  }
  return docs;
}

/** A zod schema as the TypeScript type users see. */
function typeName(schema: z.ZodType): string {
  const def = (schema as unknown as { def: { type: string; element?: z.ZodType; options?: z.ZodType[]; values?: unknown[] } }).def;
  if (def.type === 'array') return `${typeName(def.element!)}[]`;
  if (def.type === 'union') return def.options!.map(typeName).join(' \\| ');
  if (def.type === 'literal' || def.type === 'enum') return (def.values ?? []).map((v) => JSON.stringify(v)).join(' \\| ');
  return def.type;
}

const visible = (fields: Fields) => Object.entries(fields).filter((entry): entry is [string, Exclude<Field, { role: 'hidden' }>] => entry[1].role !== 'hidden');

function rows(owner: string, fields: Fields, flags: Flags, docs: Map<string, string>): string[] {
  const doc = (key: string) => {
    const text = docs.get(`${owner}.${key}`);
    if (!text) throw new Error(`${owner}.${key} has no doc comment in its kind definition`);
    return text;
  };
  return [
    ...visible(fields).map(([key, f]) => `| \`${key}\` | \`${typeName(f.schema)}\` | \`${f.cName}\`${f.role === 'var' ? ' (variable length)' : ''} | ${doc(key)} |`),
    ...Object.entries(flags).map(([key, f]) => `| \`${key}\` | \`boolean\` | flag bit ${f.bit} (\`${f.cName}\`) | ${doc(key)} |`),
  ];
}

const TABLE_HEAD = ['| property | type | from (C) | meaning |', '| --- | --- | --- | --- |'];

export function fieldReference(): string {
  const docs = docComments();
  const lines = [
    '# Event field reference',
    '',
    '<!-- Generated from packages/core/src/kinds/ by packages/core/test/field-reference.test.ts: do not edit. -->',
    '',
    'Every event is an object with `kind` (the kind name below), the header',
    'properties every event has, then its own. 64-bit values are `bigint`',
    '(JSON output writes them as decimal strings). A process is identified by',
    '`(pid, startTime)`, never by its pid alone.',
    '',
    '## Every event',
    '',
    ...TABLE_HEAD,
    '| `kind` | `string` | `kind` | The kind name, one of the sections below. |',
    ...rows('header', headerFields, {}, docs),
  ];
  for (const d of KIND_DEFINITIONS) {
    lines.push('', `## \`${d.name}\` (kind ${d.number}, \`struct ${d.struct}\`)`, '', d.doc, '', ...TABLE_HEAD, ...rows(d.name, d.fields, d.flags, docs));
    if (d.vars.length > 0) {
      const shape = d.vars.map((v) => `${v.key}: boolean`).join('; ');
      lines.push(`| \`truncated\` | \`{ ${shape} }\` | header flag bits 0-${d.vars.length - 1} | Which variable-length fields were cut at their cap. |`);
    }
  }
  return lines.join('\n') + '\n';
}

describe('docs/events.md', () => {
  it('is what the kind definitions generate', async () => {
    await expect(fieldReference()).toMatchFileSnapshot(REFERENCE);
  }, 120_000); // the TypeScript program over the kind sources

  it.each(KIND_DEFINITIONS.map((d) => [d.name, d] as const))('lists every property of %s', (_name, d) => {
    const reference = readFileSync(REFERENCE, 'utf8');
    const section = reference.split(/^## /m).find((s) => s.startsWith(`\`${d.name}\` `)) ?? '';
    const properties = [...visible(d.fields).map(([k]) => k), ...Object.keys(d.flags), ...(d.vars.length > 0 ? ['truncated'] : [])];
    expect(properties.filter((p) => !section.includes(`| \`${p}\` |`))).toEqual([]);
    const header = reference.split(/^## /m).find((s) => s.startsWith('Every event')) ?? '';
    expect(visible(headerFields).filter(([k]) => !header.includes(`| \`${k}\` |`))).toEqual([]);
  });
});
