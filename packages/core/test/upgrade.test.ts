import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { type Kokyaku, SYSTEM, bindTenant, sql, transaction } from '@kokyaku/core';
import { createTestKokyaku } from '@kokyaku/core/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

// A shop filled by the commit before core became modules (the example shop's demo data, a merge,
// an erasure, consents), every row of every table as that commit stored it, and the migrations it
// had applied: examples/express-shop/scripts/upgrade-fixture.ts wrote it at that commit.
const fixture = JSON.parse(gunzipSync(readFileSync(new URL('./fixtures/before-modules.json.gz', import.meta.url))).toString('utf8')) as {
  migrations: string[];
  rows: Record<string, Record<string, unknown>[]>;
};

describe('a database made by the commit before this one', () => {
  let kokyaku: Kokyaku;
  const system = () => bindTenant(kokyaku.orm.em.fork(), SYSTEM);

  beforeAll(async () => {
    kokyaku = await createTestKokyaku(inject('kokyakuAdminUrl'), { database: { migrate: false } });
    // That commit's migrations, by name, then its rows as it stored them.
    await kokyaku.orm.em.getKnex().raw('create schema if not exists kokyaku');
    const last = [...fixture.migrations].sort().at(-1)!;
    await kokyaku.orm.getMigrator().up({ to: last });
    await transaction(
      { tenantId: 'default', em: system() },
      async (em) => {
        // Rows go in as they were, foreign keys checked at the end by the counts below.
        await sql(em, 'set local session_replication_role = replica');
        for (const [table, rows] of Object.entries(fixture.rows)) {
          if (rows.length === 0) continue;
          const columns = await sql<{ name: string; identity: boolean }>(
            em,
            `select column_name as name, is_identity = 'YES' as identity from information_schema.columns
             where table_schema = 'kokyaku' and table_name = $1 and is_generated = 'NEVER' order by ordinal_position`,
            [table],
          );
          const list = columns.map((c) => `"${c.name}"`).join(', ');
          await sql(em, `insert into kokyaku.${table} (${list}) overriding system value select ${list} from jsonb_populate_recordset(null::kokyaku.${table}, $1::jsonb)`, [
            JSON.stringify(rows),
          ]);
          for (const c of columns.filter((c) => c.identity)) {
            await sql(em, `select setval(pg_get_serial_sequence('kokyaku.${table}', $1), (select max("${c.name}") from kokyaku.${table}))`, [c.name]);
          }
        }
      },
      { acrossTenants: true },
    );
  });
  afterAll(() => kokyaku?.close());

  it('keeps its migrations: every one it applied has the same name here, in the same order', async () => {
    const names = (await kokyaku.orm.getMigrator().getExecutedMigrations()).map((m) => m.name);
    expect(names.sort()).toEqual([...fixture.migrations].sort());
    const known = [...(await kokyaku.orm.getMigrator().getExecutedMigrations()), ...(await kokyaku.orm.getMigrator().getPendingMigrations())].map((m) => m.name);
    expect(known.slice(0, fixture.migrations.length).sort()).toEqual([...fixture.migrations].sort());
  });

  it('upgrades with this commit and finds every row', async () => {
    await kokyaku.migrate();
    expect(await kokyaku.orm.getMigrator().getPendingMigrations()).toEqual([]);
    const em = system();
    for (const [table, rows] of Object.entries(fixture.rows)) {
      // Every row with every value it had; columns added by later migrations are left out.
      const columns = Object.keys(rows[0] ?? {});
      const [stored] = await sql<{ v: unknown[] }>(
        em,
        `select coalesce(jsonb_agg(r order by r::text), '[]') as v
         from (select (select jsonb_object_agg(k, v) from jsonb_each(to_jsonb(t)) as e(k, v) where k = any(kokyaku.json_texts($1::jsonb))) as r from kokyaku.${table} t) x`,
        [JSON.stringify(columns)],
      );
      expect(stored!.v, table).toEqual(rows);
    }
  });

  it('serves the old rows through this commit: profiles, exports, segments, the timeline, a refresh', async () => {
    const ctx = kokyaku.context({ actor: { id: 'staff', roles: ['ADMIN'] } });
    const customers = fixture.rows.customers!.filter((c) => c.erased_at === null);
    const one = customers.find((c) => fixture.rows.orders!.some((o) => o.customer_id === c.id))!;
    const customer = await kokyaku.customers.findByExternalId(ctx, String(one.external_id));
    expect(customer?.metrics.ordersCount).toBe(fixture.rows.orders!.filter((o) => o.customer_id === one.id && o.status === 'PLACED').length);
    const data = (await kokyaku.privacy.exportCustomer(ctx, { id: String(one.id) })) as { orders: unknown[]; customer: { id: unknown } };
    expect(data.orders).toHaveLength(fixture.rows.orders!.filter((o) => o.customer_id === one.id).length);
    const timeline = await kokyaku.timeline.timeline(ctx, { customerId: String(one.id) }, { first: 50 });
    expect(timeline.nodes.length).toBeGreaterThan(0);
    for (const segment of (await kokyaku.segments.list(ctx)).nodes) {
      expect(await kokyaku.segments.count(ctx, segment.query)).toBeGreaterThanOrEqual(0);
    }
    const refreshed = await kokyaku.refresh();
    expect(refreshed.failures).toEqual([]);
    expect(refreshed.customers).toBe(fixture.rows.customers!.length);
  });
});
