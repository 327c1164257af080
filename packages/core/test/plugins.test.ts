import { type Kokyaku, type KokyakuContext, KOKYAKU_VERSION, PluginError, createKokyaku, defineEntity, definePlugin, sql, transaction } from '@kokyaku/core';
import { createTestKokyaku } from '@kokyaku/core/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';

const base = { version: '1.0.0', compatibility: '>=0.1.0' };

describe('definePlugin', () => {
  it('refuses a malformed plugin where it is written, saying what to change', () => {
    expect(() => definePlugin({ ...base, name: 'Loyalty!' })).toThrow(/name must be 2-31 lower case letters/);
    expect(() => definePlugin({ ...base, name: 'x1', compatibility: 'soon' })).toThrow(/compatibility "soon" is not a semver range/);
    expect(() => definePlugin({ ...base, name: 'x1', version: 'one' })).toThrow(/version "one" is not a semver version/);
    expect(() => definePlugin({ ...base, name: 'x1', tenantTables: ['points'] })).toThrow(/must be named "x1_<something>"/);
    expect(() =>
      definePlugin({
        ...base,
        name: 'x1',
        migrations: [
          { name: 'a', up: '' },
          { name: 'a', up: '' },
        ],
      }),
    ).toThrow(/two migrations are named "a"/);
    expect(() => definePlugin({ ...base, name: 'x1', automationSteps: [{ type: 'award', description: '', options: z.object({}), run: async () => undefined }] })).toThrow(
      /UPPER_SNAKE_CASE/,
    );
    expect(() => definePlugin({ ...base, name: 'x1', segmentAttributes: [{ name: 'tier', type: 'enum', sql: 'null', description: '', example: '' }] })).toThrow(/needs its values/);
    const join =
      (alias: string, table = 'kokyaku.x1_tiers') =>
      () =>
        definePlugin({
          ...base,
          name: 'x1',
          segmentAttributes: [
            { name: 'tier', type: 'integer', sql: `${alias}.n`, join: { table, alias, on: `${alias}.customer_id = f.customer_id` }, description: '', example: '' },
          ],
        });
    expect(join('t')).toThrow(/join alias "t" must start with "x1_"/);
    expect(join('x1_t', 'public.users')).toThrow(/join table must be a table of schema kokyaku/);
    expect(join('x1_t')).not.toThrow();
    const entity = (tableName: string) => () =>
      definePlugin({ ...base, name: 'x1', entities: [defineEntity({ name: 'X1Thing', schema: 'kokyaku', tableName, properties: (p) => ({ id: p.bigint('string').primary() }) })] });
    expect(entity('things')).toThrow(/entity X1Thing must map a table of schema "kokyaku" named "x1_<something>"/);
    expect(entity('x1_things')).not.toThrow();
    const fn = (table: string, filters: { name: string; type: 'text'; column: string; description: string }[]) => () =>
      definePlugin({ ...base, name: 'x1', segmentFunctions: [{ name: 'x1_visits', description: '', example: '', table, filters }] });
    expect(fn('kokyaku.visits', [])).toThrow(/table must be one of the plugin's \("kokyaku\.x1_\.\.\."\)/);
    expect(fn('kokyaku.x1_visits', [{ name: 'count', type: 'text', column: 'c', description: '' }])).toThrow(/argument "count" must be snake_case and used once/);
    expect(fn('kokyaku.x1_visits', [{ name: 'page', type: 'text', column: 'page; drop table x', description: '' }])).toThrow(/must name a column of the table/);
    expect(fn('kokyaku.x1_visits', [{ name: 'page', type: 'text', column: 'page', description: '' }])).not.toThrow();
  });

  it('checks compatibility at start-up, before it touches a database', async () => {
    const old = definePlugin({ ...base, name: 'old_plugin', version: '2.3.0', compatibility: '^9.0.0' });
    const error = await createKokyaku({ database: { url: 'postgres://nobody@127.0.0.1:1/none' }, plugins: [old] }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(PluginError);
    expect((error as Error).message).toBe(
      `Plugin "old_plugin" 2.3.0 works with @kokyaku/core ^9.0.0, but this is @kokyaku/core ${KOKYAKU_VERSION}. ` +
        `Install a version of "old_plugin" made for ${KOKYAKU_VERSION}, or a version of @kokyaku/core within ^9.0.0.`,
    );
  });

  it('refuses two plugins that claim the same name, attribute, step type or channel, and names of core', async () => {
    const attr = { type: 'integer' as const, sql: '0', description: 'd', example: 'e' };
    const start = (plugins: Parameters<typeof definePlugin>[0][]) =>
      createKokyaku({ database: { url: 'postgres://nobody@127.0.0.1:1/none' }, plugins }).then(
        () => null,
        (e: unknown) => (e as Error).message,
      );
    expect(await start([definePlugin({ ...base, name: 'a1' }), definePlugin({ ...base, name: 'a1' })])).toMatch(/"a1" is listed twice/);
    expect(await start([definePlugin({ ...base, name: 'a1', segmentAttributes: [{ name: 'amount_spent', ...attr }] })])).toMatch(
      /"amount_spent" is a segment attribute of Kokyaku itself/,
    );
    expect(
      await start([
        definePlugin({ ...base, name: 'a1', segmentAttributes: [{ name: 'tier', ...attr }] }),
        definePlugin({ ...base, name: 'b1', segmentAttributes: [{ name: 'tier', ...attr }] }),
      ]),
    ).toBe('Plugins "b1" and "a1" both add the segment attribute "tier": rename one of them.');
    const step = { type: 'SEND', description: '', options: z.object({}), run: async () => undefined };
    expect(await start([definePlugin({ ...base, name: 'a1', automationSteps: [step] })])).toMatch(/"SEND" is a journey step of Kokyaku itself/);
  });
});

describe('plugins in a running Kokyaku', () => {
  let kokyaku: Kokyaku;
  const calls: string[] = [];
  const ctx = (): KokyakuContext => kokyaku.context({ actor: { id: 'staff', roles: ['ADMIN'] } });
  // Two plugins side by side: each adds an attribute, and both listen to the same hooks.
  const first = definePlugin({
    ...base,
    name: 'first',
    migrations: [
      {
        name: '001',
        up: [
          'create table kokyaku.first_marks (tenant_id text not null, customer_id bigint not null, mark int not null, primary key (customer_id, tenant_id), foreign key (customer_id, tenant_id) references kokyaku.customers (id, tenant_id) on delete cascade)',
        ],
      },
    ],
    tenantTables: ['first_marks'],
    segmentAttributes: [
      {
        name: 'first_mark',
        type: 'integer',
        nullable: true,
        sql: '(select m.mark from kokyaku.first_marks m where m.customer_id = f.customer_id)',
        description: 'A mark.',
        example: 'first_mark = 1',
      },
    ],
    hooks: {
      orderRecorded: async (c, orders) => {
        calls.push(`first:orders:${orders.map((o) => `${o.placed}/${o.wasPlaced}`).join(',')}`);
        await sql(
          c.em,
          `insert into kokyaku.first_marks (tenant_id, customer_id, mark) select $1, customer_id, 1 from kokyaku.orders where tenant_id = $1 and id = any(kokyaku.json_bigints($2::jsonb)) on conflict (customer_id, tenant_id) do update set mark = first_marks.mark + 1`,
          [c.tenantId, JSON.stringify(orders.map((o) => o.orderId))],
        );
      },
      segmentEntered: async (_c, { customerIds }) => {
        calls.push(`first:entered:${customerIds.length}`);
      },
      customerMerged: async (_c, { mergedIds }) => {
        calls.push(`first:merged:${mergedIds.length}`);
      },
    },
    services: () => ({ hello: () => 'first' }),
  });
  const second = definePlugin({
    ...base,
    name: 'second',
    segmentAttributes: [{ name: 'second_tier', type: 'enum', sql: `'GOLD'`, values: { GOLD: `true`, SILVER: 'false' }, description: 'Tier.', example: 'second_tier = GOLD' }],
    hooks: {
      orderRecorded: async () => {
        calls.push('second:orders');
      },
      refresh: async () => {
        calls.push('second:refresh');
      },
    },
  });

  beforeAll(async () => {
    kokyaku = await createTestKokyaku(inject('kokyakuAdminUrl'), { plugins: [first, second] });
  });
  afterAll(() => kokyaku?.close());

  it('runs the hooks of both, in the order listed, and a failing hook rolls the change back', async () => {
    const segment = await kokyaku.segments.create(ctx(), { name: 'Marked', query: 'first_mark >= 1 AND second_tier = GOLD' });
    await kokyaku.orders.record(ctx(), [{ externalId: 'o-1', customerExternalId: 'c-1', placedAt: new Date(), lines: [{ productExternalId: 'p', quantity: 1, unitPrice: 5 }] }]);
    expect(calls).toEqual(['first:orders:true/false', 'second:orders', 'first:entered:1']);
    expect(await kokyaku.segments.count(ctx(), 'first_mark = 1')).toBe(1);
    expect((await kokyaku.segments.get(ctx(), segment.id))!.name).toBe('Marked');
    expect(kokyaku.plugin(first).hello()).toBe('first');
    expect(() => kokyaku.plugin(definePlugin({ ...base, name: 'absent' }))).toThrow(/not in this Kokyaku's plugins/);

    const failing = definePlugin({ ...base, name: 'failing', hooks: { orderRecorded: async () => Promise.reject(new Error('ledger down')) } });
    const strict = await createKokyaku({ ...kokyaku.config, plugins: [failing] });
    try {
      const error = await strict.orders
        .record(strict.context(), [{ externalId: 'o-2', customerExternalId: 'c-2', placedAt: new Date(), lines: [{ productExternalId: 'p', quantity: 1, unitPrice: 5 }] }])
        .then(
          () => null,
          (e: unknown) => e as Error,
        );
      expect(error?.message).toBe('ledger down');
      expect(await strict.orders.findByExternalId(strict.context(), 'o-2')).toBeFalsy();
    } finally {
      await strict.close();
    }
  });

  it('tells the merge and the refresh', async () => {
    await kokyaku.customers.upsert(ctx(), [{ externalId: 'c-3' }]);
    const [a, b] = [await kokyaku.customers.findByExternalId(ctx(), 'c-1'), await kokyaku.customers.findByExternalId(ctx(), 'c-3')];
    await kokyaku.identity.merge(ctx(), a!.id, [b!.id]);
    await kokyaku.refresh();
    expect(calls.slice(3)).toEqual(['first:merged:1', 'second:refresh']);
  });

  it('reports a refresh step that fails and runs the steps after it', async () => {
    const broken = definePlugin({ ...base, name: 'broken', hooks: { refresh: async () => Promise.reject(new Error('ledger down')) } });
    const other = await createKokyaku({ ...kokyaku.config, plugins: [broken] });
    try {
      const c = other.context({ actor: { id: 'staff', roles: ['ADMIN'] } });
      const segment = await other.segments.create(c, { name: 'Buyers', query: 'number_of_orders >= 1' });
      // Recorded without the segment knowing (as if written before it existed): only a refresh brings it in.
      await transaction(c, (em) => sql(em, `delete from kokyaku.segment_members where tenant_id = $1`, [c.tenantId]));
      const result = await other.refresh();
      expect(result.failures).toEqual([{ tenantId: 'default', step: 'plugins', message: 'ledger down' }]);
      // The steps after the plugins' still ran: the segment's members are current.
      const members = await sql<{ n: number }>(c.em, `select count(*)::int as n from kokyaku.segment_members where tenant_id = $1 and segment_id = $2::bigint`, [
        c.tenantId,
        segment.id,
      ]);
      expect(members[0]!.n).toBe(await other.segments.count(c, 'number_of_orders >= 1'));
      expect(members[0]!.n).toBeGreaterThan(0);
      expect(result.customers).toBeGreaterThan(0);
    } finally {
      await other.close();
    }
  });
});
