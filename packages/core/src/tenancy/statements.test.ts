import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { expect, it } from 'vitest';
import { TENANT_TABLES } from '../modules.js';

/**
 * Every statement of core that reads or writes a tenant table names its shop (`tenant_id`) itself,
 * for each tenant table it reads: row-level security is the second wall, not the router (on Citus,
 * a statement that relies on it alone goes to every shard, and a join that does not tie both
 * sides' `tenant_id` cannot be routed to one; docs/scaling.md). Read from the sources: each
 * outermost template literal that is SQL and names a tenant table must mention tenant_id, and each
 * table it reads under an alias needs `alias.tenant_id` (once per time the alias is taken). A scan
 * of all shops by design (a worker's, a link's token) says so after the table: `/* every shop *\/`.
 */
const src = path.resolve(import.meta.dirname, '..');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'migrations' || entry.name === 'testing' ? [] : files(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [full] : [];
  });
}

/**
 * The outermost template literals of a file (a template inside another's `${}` is part of it), and
 * its plain string literals that name a table of Kokyaku's: SQL pieces (`fragment`) that a
 * builder puts into a statement.
 */
function templates(file: string): { text: string; line: number; fragment?: boolean }[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: { text: string; line: number; fragment?: boolean }[] = [];
  const line = (node: ts.Node) => source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
  const visit = (node: ts.Node) => {
    if (ts.isTemplateExpression(node) || ts.isNoSubstitutionTemplateLiteral(node)) {
      found.push({ text: node.getText(source), line: line(node) });
      return;
    }
    // Maintenance (`vacuum (analyze) kokyaku.x`) reads no shop's rows for a request.
    if (ts.isStringLiteral(node) && node.text.includes('kokyaku.') && !/^\s*(vacuum|analyze)\b/.test(node.text)) {
      found.push({ text: node.text, line: line(node), fragment: true });
      return;
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const tenantTable = new RegExp(`(?<!['"])\\bkokyaku\\.(${TENANT_TABLES.join('|')})\\b(?!\\s*\\()`);
const statement = /\b(select|insert|update|delete)\b/i;

/** Words that can follow a table where an alias would: no alias then. */
const NOT_ALIAS = new Set(
  'where on set join left right inner full cross using group order limit values select returning union having offset for natural lateral window except intersect and or from as default overriding'.split(
    ' ',
  ),
);
/** A tenant table's use (`insert into` targets apart) with its alias, if any. */
const use = new RegExp(
  `(?<!['"])(insert\\s+into\\s+)?\\bkokyaku\\.(${TENANT_TABLES.join('|')})\\b(?!\\s*\\()(?:\\s+as)?(?:\\s+([a-z_][a-z0-9_]*))?(\\s*/\\* every shop \\*/)?`,
  'gi',
);

/**
 * The tables of one template read without their shop named: `alias` or `table (no alias)`. A
 * fragment that starts with its table (`'kokyaku.orders o'`, a FROM of a builder, which adds the
 * shop's condition) answers for the tables it joins to it.
 */
function unpinned(text: string, fragment = false): string[] {
  const uses = [...text.matchAll(use)].filter((m, i) => !(fragment && i === 0 && m.index === 0));
  const found: string[] = [];
  const taken = new Map<string, number>();
  for (const [i, m] of uses.entries()) {
    if (m[1] || m[4]) continue;
    const alias = m[3]?.toLowerCase();
    if (alias && !NOT_ALIAS.has(alias)) {
      taken.set(alias, (taken.get(alias) ?? 0) + 1);
      continue;
    }
    // No alias: a bare tenant_id before the next tenant table names it (or table.tenant_id anywhere).
    const rest = text.slice(m.index + m[0].length, uses[i + 1]?.index ?? text.length);
    const bare = uses.length === 1 ? text : rest;
    if (!/(?<![a-z0-9_])tenant_id\b/i.test(bare) && !new RegExp(`\\b${m[2]}\\.tenant_id\\b`).test(text)) found.push(`${m[2]} (no alias)`);
  }
  for (const [alias, times] of taken) {
    const named = [...text.matchAll(new RegExp(`(?<![a-z0-9_.])${alias}\\.tenant_id\\b`, 'gi'))].length;
    // One table in the statement: a bare tenant_id is its.
    if (named < times && !(uses.length === 1 && /(?<![a-z0-9_.])tenant_id\b/.test(text))) found.push(alias);
  }
  return found;
}

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

it('names the shop for every tenant table a statement reads, joins and subqueries included', () => {
  const unnamed: string[] = [];
  for (const file of files(src)) {
    for (const { text, line, fragment } of templates(file)) {
      for (const alias of unpinned(text, fragment)) unnamed.push(`${path.relative(src, file)}:${line}: ${alias}`);
    }
  }
  expect(unnamed).toEqual([]);
});

it('finds a join and a subquery that do not name their shop (the check can fail)', () => {
  expect(unpinned('`select * from kokyaku.orders o join kokyaku.customers c on c.id = o.customer_id where o.tenant_id = $1`')).toEqual(['c']);
  expect(unpinned('`select * from kokyaku.orders o where o.tenant_id = $1 and exists (select 1 from kokyaku.order_lines where order_id = o.id)`')).toEqual([
    'order_lines (no alias)',
  ]);
  expect(unpinned('`select * from kokyaku.orders o join kokyaku.customers c on c.tenant_id = o.tenant_id and c.id = o.customer_id where o.tenant_id = $1`')).toEqual([]);
  expect(unpinned('`select tenant_id from kokyaku.journeys /* every shop */ where status = $1`')).toEqual([]);
  expect(unpinned('kokyaku.messages m left join kokyaku.journeys j on j.id = m.journey_id', true)).toEqual(['j']);
  expect(unpinned('kokyaku.messages m left join kokyaku.journeys j on j.tenant_id = m.tenant_id and j.id = m.journey_id', true)).toEqual([]);
});
