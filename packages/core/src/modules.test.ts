import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { composeModules } from './modules.js';

/**
 * Each module owns its tables: no module's SQL writes another's, and reads only what the owner
 * publishes. Read from the source: every `kokyaku.<table>` a file of one folder names, against the
 * folder of the module that declares the table. Migrations (database/) create every table and
 * are left out.
 */
const SRC = new URL('.', import.meta.url).pathname;
const modules = composeModules([]);
const owner = new Map<string, { module: string; folder: string; published: boolean }>();
for (const m of modules) {
  for (const table of m.tenantTables ?? []) owner.set(table, { module: m.name, folder: '', published: (m.published ?? []).includes(table) });
}
// Each module's folder: where its module.ts declares it.
for (const folder of readdirSync(SRC, { withFileTypes: true }).filter((d) => d.isDirectory())) {
  let text = '';
  try {
    text = readFileSync(join(SRC, folder.name, 'module.ts'), 'utf8');
  } catch {
    continue;
  }
  for (const [table, o] of owner) if (text.includes(`name: '${o.module}'`)) owner.set(table, { ...o, folder: folder.name });
}

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? files(join(dir, d.name)) : d.name.endsWith('.ts') && !d.name.endsWith('.test.ts') ? [join(dir, d.name)] : [],
  );
}

const WRITE = /(insert\s+into|update|delete\s+from|truncate(?:\s+table)?|copy)\s+kokyaku\.([a-z_]+)/gi;
// A table, not a service of the instance (`kokyaku.segments.get(...)`).
const NAME = /kokyaku\.([a-z_]+)(?![\w.(`])/g;

describe('table ownership', () => {
  it('knows the folder of every module', () => {
    for (const [table, o] of owner) expect(o.folder, table).not.toBe('');
  });

  it('no module writes another module’s tables, and reads only what the owner publishes', () => {
    const problems: string[] = [];
    const ownWrites = new Set<string>();
    for (const file of files(SRC)) {
      const path = relative(SRC, file);
      const folder = path.includes('/') ? path.split('/')[0]! : '(top)';
      if (folder === 'database') continue;
      const text = readFileSync(file, 'utf8');
      const writes = new Set([...text.matchAll(WRITE)].map((m) => m[2]!));
      for (const table of new Set([...text.matchAll(NAME)].map((m) => m[1]!))) {
        const o = owner.get(table);
        if (o?.folder === folder && writes.has(table)) ownWrites.add(table);
        if (!o || o.folder === folder) continue;
        if (writes.has(table)) problems.push(`${path} writes ${table} (the ${o.module} module's)`);
        else if (!o.published) problems.push(`${path} reads ${table}, which the ${o.module} module does not publish`);
      }
    }
    expect(problems).toEqual([]);
    // The scan sees writes where they are: each module's to its own tables.
    for (const table of ['customers', 'products', 'orders', 'order_lines', 'events', 'customer_facts', 'segment_members', 'journey_runs'])
      expect(ownWrites, table).toContain(table);
  });
});
