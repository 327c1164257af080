import { type BackfillPhase, type BackfillState, type Kokyaku, backfillToRun, idleBackfill, runBackfill, writeShopBatch } from '@kokyaku/core';
import { createTestKokyaku } from '@kokyaku/core/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

/** The pieces every shop connector (Vendure, Medusa, your own) is built from. */
let kokyaku: Kokyaku;
beforeAll(async () => {
  kokyaku = await createTestKokyaku(inject('kokyakuAdminUrl'), { shop: { currency: 'USD' } });
});
afterAll(() => kokyaku?.close());

describe('writeShopBatch', () => {
  it('stores customers first, keeps a customer whose phone cannot be read without it, reports refused records by id, erases deleted customers', async () => {
    const ctx = kokyaku.context();
    const result = await writeShopBatch(kokyaku, ctx, {
      orders: [
        { externalId: 'o1', customerExternalId: 'c1', placedAt: '2026-11-01T00:00:00Z', lines: [{ productExternalId: 'p1', quantity: 2, unitPrice: 5 }] },
        { externalId: 'o2', customerExternalId: 'c2', placedAt: '2026-11-01T00:00:00Z', lines: [{ productExternalId: 'p1', quantity: 0, unitPrice: 5 }] },
      ],
      customers: [
        { externalId: 'c1', email: 'c1@example.com', phone: 'call me after 6', firstName: 'Ann' },
        { externalId: 'c2', email: 'c2@example.com' },
      ],
      products: [{ externalId: 'p1', name: 'Beans', price: 5 }],
      erase: ['c2', 'never-heard-of'],
    });
    expect(result).toMatchObject({ customers: 2, products: 1, orders: 1, erased: 1 });
    expect(result.refused).toEqual([{ kind: 'order', ref: 'o2', message: 'order o2: lines[0].quantity: Must be at least 1.' }]);
    expect(result.warnings).toEqual([expect.stringContaining('customer c1 stored without phone')]);
    const c1 = await kokyaku.customers.findByExternalId(ctx, 'c1');
    expect([c1?.firstName, c1?.phone]).toEqual(['Ann', null]);
    expect(await kokyaku.customers.findByExternalId(ctx, 'c2')).toBeNull();
  });
});

describe('runBackfill', () => {
  const shop: Record<BackfillPhase, string[]> = {
    customers: ['b1', 'b2', 'b3', 'b4', 'b5'],
    products: ['q1', 'q2'],
    orders: ['r1', 'r2', 'r3', 'r4'],
  };
  const source = {
    count: async (phase: BackfillPhase) => shop[phase].length,
    nextIds: async (phase: BackfillPhase, cursor: string | null, take: number) => shop[phase].filter((id) => cursor === null || id > cursor).slice(0, take),
    load: async (phase: BackfillPhase, ids: readonly string[]) =>
      phase === 'customers'
        ? { customers: ids.map((id) => ({ externalId: id, email: `${id}@example.com` })) }
        : phase === 'products'
          ? { products: ids.map((id) => ({ externalId: id, name: id, price: 3 })) }
          : {
              orders: ids.map((id, i) => ({
                externalId: id,
                customerExternalId: shop.customers[i]!,
                placedAt: '2026-11-02T00:00:00Z',
                lines: [{ productExternalId: 'q1', quantity: 1, unitPrice: 3 }],
              })),
            },
  };

  it('pauses after the batch in flight, resumes after its checkpoint, leaves a state to resume when the process exits, and sends nothing twice', async () => {
    const ctx = kokyaku.context({ tenantId: 'backfill' });
    const saves: BackfillState[] = [];
    let stop: 'pause' | 'exit' | null = null;
    const hooks = {
      save: async (s: BackfillState) => void saves.push(s),
      stop: () => stop,
      onProgress: (s: BackfillState) => {
        if (s.phase === 'customers' && s.done.customers === 2) stop = 'pause';
        if (s.phase === 'products' && s.done.products === 2) stop = 'exit';
      },
    };
    const paused = await runBackfill(kokyaku, ctx, source, backfillToRun(idleBackfill(), { batchSize: 2 }), hooks);
    expect([paused.status, paused.phase, paused.cursor, paused.done.customers, paused.total]).toEqual(['paused', 'customers', 'b2', 2, { customers: 5, products: 2, orders: 4 }]);

    stop = null;
    const exited = await runBackfill(kokyaku, ctx, source, backfillToRun(paused, {}), hooks);
    // The process stops: the state stays "running" (saved after the last batch), for the next start.
    expect([exited.status, exited.phase, exited.done]).toEqual(['running', 'products', { customers: 5, products: 2, orders: 0 }]);
    expect(saves.at(-1)!.status).toBe('running');

    stop = null;
    const done = await runBackfill(kokyaku, ctx, source, backfillToRun(saves.at(-1)!, {}), { ...hooks, onProgress: undefined });
    expect([done.status, done.done, done.refused]).toEqual(['done', { customers: 5, products: 2, orders: 4 }, 0]);
    expect(done.phaseSeconds.orders).toBeGreaterThan(0);
    expect(await kokyaku.customers.count(ctx)).toBe(5);
    const [{ n }] = (await kokyaku.orm.em.getConnection().execute(`select count(*)::int as n from kokyaku.orders where tenant_id = 'backfill'`)) as [{ n: number }];
    expect(n).toBe(4);
    // A finished backfill starts over only when asked to.
    expect(backfillToRun(done, {}).done.customers).toBe(0);
  });

  it('saves a failure with its reason, and resumes from where it failed', async () => {
    const ctx = kokyaku.context({ tenantId: 'backfill-fail' });
    let broken = true;
    const failing = {
      ...source,
      load: async (phase: BackfillPhase, ids: readonly string[]) => {
        if (phase === 'products' && broken) throw new Error('the shop database went away');
        return source.load(phase, ids);
      },
    };
    const saves: BackfillState[] = [];
    const failed = await runBackfill(kokyaku, ctx, failing, backfillToRun(idleBackfill(), { batchSize: 10 }), { save: async (s) => void saves.push(s), stop: () => null });
    expect([failed.status, failed.error, failed.phase, failed.done.customers]).toEqual(['failed', 'the shop database went away', 'products', 5]);
    broken = false;
    const resumed = await runBackfill(kokyaku, ctx, failing, backfillToRun(failed, {}), { save: async () => undefined, stop: () => null });
    expect([resumed.status, resumed.done]).toEqual(['done', { customers: 5, products: 2, orders: 4 }]);
  });
});
