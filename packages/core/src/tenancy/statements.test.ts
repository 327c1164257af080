import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { expect, it } from 'vitest';
import { TENANT_TABLES } from '../modules.js';

/**
 * Every statement of core that reads or writes a tenant table names its shop (`tenant_id`) itself:
 * row-level security is the second wall, not the router (on Citus, a statement that relies on it
 * alone goes to every shard; docs/scaling.md). Read from the sources: each outermost template
 * literal that is SQL and names a tenant table must mention tenant_id.
 */
const src = path.resolve(import.meta.dirname, '..');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'migrations' || entry.name === 'testing' ? [] : files(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [full] : [];
  });
}

/** The outermost template literals of a file (a template inside another's `${}` is part of it). */
function templates(file: string): { text: string; line: number }[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: { text: string; line: number }[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isTemplateExpression(node) || ts.isNoSubstitutionTemplateLiteral(node)) {
      found.push({ text: node.getText(source), line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1 });
      return;
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const tenantTable = new RegExp(`(?<!['"])\\bkokyaku\\.(${TENANT_TABLES.join('|')})\\b(?!\\s*\\()`);
const statement = /\b(select|insert|update|delete)\b/i;

it('names the shop in every statement on a tenant table', () => {
  const unnamed: string[] = [];
  for (const file of files(src)) {
    for (const { text, line } of templates(file)) {
      if (statement.test(text) && tenantTable.test(text) && !text.includes('tenant_id')) {
        unnamed.push(`${path.relative(src, file)}:${line}: ${text.replace(/\s+/g, ' ').slice(0, 120)}`);
      }
    }
  }
  expect(unnamed).toEqual([]);
});

it('finds a statement that does not name its shop (the check can fail)', () => {
  const text = '`select count(*) from kokyaku.orders where customer_id = $1`';
  expect(statement.test(text) && tenantTable.test(text) && !text.includes('tenant_id')).toBe(true);
});
