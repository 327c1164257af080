import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { KokyakuError } from '../shared/errors.js';

/** What `moveShop` did: rows per table (parents first), and whether the source was erased. */
export interface ShopMove {
  tenantId: string;
  tables: { table: string; rows: number }[];
  rows: number;
  /** The copy was already in the target (a move that stopped after copying): not copied again. */
  resumed: boolean;
  seconds: number;
}

export interface MoveOptions {
  /** Told each table once it is copied (awaited). */
  onTable?: (table: string, rows: number) => void | Promise<void>;
}

/**
 * Moves every row of one shop from the database at `sourceUrl` to the one at `targetUrl` (both
 * migrated to the same version), then erases it from the source (docs/scaling.md):
 *
 * 1. In one snapshot of the source (repeatable read), each tenant table of the shop is streamed
 *    with COPY, parents before children, into the target, all in one transaction there: the copy
 *    lands whole or not at all. Ids travel as they are (keys carry `tenant_id`, so they cannot
 *    collide with other shops' rows); the target's id sequences are then moved past them.
 * 2. The source is counted again: a write that arrived meanwhile stops the move before anything
 *    is erased (stop the shop's writes and run again).
 * 3. `erase` deletes the shop from the source (`privacy.eraseShop`).
 *
 * Run again after a failure: a copy already complete in the target (the same rows per table)
 * goes on to the erasure; a target that holds other rows of the shop is refused.
 */
export async function moveShop(
  input: { sourceUrl: string; targetUrl: string; tenantId: string; tables: readonly string[]; erase: () => Promise<unknown> },
  options: MoveOptions = {},
): Promise<ShopMove> {
  const started = performance.now();
  const { tenantId } = input;
  // Parents first: the reverse of the deletion order.
  const tables = [...input.tables].reverse();
  const source = new pg.Client({ connectionString: input.sourceUrl });
  const target = new pg.Client({ connectionString: input.targetUrl });
  await source.connect();
  try {
    await target.connect();
    try {
      await sameSchema(source, target);
      // Row-level security, where it binds this database user, lets the shop's rows through.
      for (const client of [source, target]) await client.query(`select set_config('kokyaku.tenant_id', $1, false)`, [tenantId]);
      await source.query('begin isolation level repeatable read read only');
      // The tenant, for COPY's query (which takes no parameters): a setting, as row-level security reads it.
      await source.query(`select set_config('kokyaku.move_tenant', $1, true)`, [tenantId]);
      const counts = await countRows(source, tables, tenantId);
      const there = await countRows(target, tables, tenantId);
      const total = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
      if (total(counts) === 0) throw KokyakuError.missing(`Shop "${tenantId}" has no rows in the source database.`, { tenantId });
      let resumed = false;
      if (total(there) > 0) {
        if (![...counts].every(([table, n]) => there.get(table) === n)) {
          throw KokyakuError.badInput(
            `The target database already holds rows of shop "${tenantId}" that are not this shop's copy: erase them there first (privacy.eraseShop), then move again.`,
            { field: 'tenantId', tenantId },
          );
        }
        resumed = true;
      } else {
        await target.query('begin');
        for (const table of tables) {
          const rows = counts.get(table)!;
          if (rows > 0) {
            const columns = (await columnsOf(source, table)).map((c) => `"${c}"`).join(', ');
            const out = source.query(copyTo(`copy (select ${columns} from kokyaku.${table} where tenant_id = current_setting('kokyaku.move_tenant')) to stdout (format binary)`));
            const into = target.query(copyFrom(`copy kokyaku.${table} (${columns}) from stdin (format binary)`));
            await pipeline(out, into);
          }
          await options.onTable?.(table, rows);
        }
        await advanceSequences(target, tables);
        await target.query('commit');
      }
      await source.query('commit');
      // Writes during the copy would be lost by the erasure: count again, outside the snapshot.
      const now = await countRows(source, tables, tenantId);
      const changed = [...counts].filter(([table, n]) => now.get(table) !== n).map(([table]) => table);
      if (changed.length) {
        throw KokyakuError.badInput(
          `Shop "${tenantId}" was written to during the move (${changed.join(', ')}): its copy is in the target, the source is untouched. Stop the shop's writes, erase the copy in the target, and move again.`,
          { field: 'tenantId', tenantId, tables: changed },
        );
      }
      await input.erase();
      return {
        tenantId,
        tables: tables.map((table) => ({ table, rows: counts.get(table)! })),
        rows: total(counts),
        resumed,
        seconds: (performance.now() - started) / 1000,
      };
    } catch (error) {
      await target.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      await target.end().catch(() => undefined);
    }
  } finally {
    await source.query('rollback').catch(() => undefined);
    await source.end().catch(() => undefined);
  }
}

async function countRows(client: pg.Client, tables: readonly string[], tenantId: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const table of tables) {
    const { rows } = await client.query<{ n: number }>(`select count(*)::int as n from kokyaku.${table} where tenant_id = $1`, [tenantId]);
    counts.set(table, rows[0]!.n);
  }
  return counts;
}

/** The columns COPY writes: every stored column (generated ones are computed again by the target). */
async function columnsOf(client: pg.Client, table: string): Promise<string[]> {
  const { rows } = await client.query<{ name: string }>(
    `select a.attname as name from pg_attribute a where a.attrelid = $1::regclass and a.attnum > 0 and not a.attisdropped and a.attgenerated = '' order by a.attnum`,
    [`kokyaku.${table}`],
  );
  return rows.map((r) => r.name);
}

/** Identity and serial sequences of the moved tables: past the largest id now in the target. */
async function advanceSequences(client: pg.Client, tables: readonly string[]): Promise<void> {
  for (const table of tables) {
    const { rows } = await client.query<{ column: string; sequence: string }>(
      `select a.attname as column, pg_get_serial_sequence($1, a.attname) as sequence
         from pg_attribute a where a.attrelid = $1::regclass and a.attnum > 0 and not a.attisdropped
          and pg_get_serial_sequence($1, a.attname) is not null`,
      [`kokyaku.${table}`],
    );
    for (const { column, sequence } of rows) {
      await client.query(`select setval($1, greatest((select max("${column}") from kokyaku.${table}), (select last_value from ${sequence})))`, [sequence]);
    }
  }
}

/** Both databases must be migrated alike: the same migrations (core's and plugins'). */
async function sameSchema(source: pg.Client, target: pg.Client): Promise<void> {
  const names = async (client: pg.Client) => (await client.query<{ name: string }>('select name from kokyaku.migrations order by name')).rows.map((r) => r.name).join('\n');
  const [a, b] = await Promise.all([names(source), names(target)]);
  if (a !== b)
    throw KokyakuError.badInput('The source and target databases are not migrated alike: run kokyaku migrate on both (with the same plugins) first.', { field: 'target' });
}
