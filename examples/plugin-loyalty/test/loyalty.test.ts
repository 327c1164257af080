import type { AddressInfo } from 'node:net';
import { type Kokyaku, type KokyakuContext, KokyakuError, RFM_GROUPS, SYSTEM, bindTenant, createKokyaku, sql, transaction } from '@kokyaku/core';
import { createTestKokyaku, tenantKeyProblems } from '@kokyaku/core/testing';
import { kokyakuExpress } from '@kokyaku/server/express';
import express from 'express';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LedgerEntrySchema, type LoyaltyService, loyaltyPlugin } from '../src/index.js';

const loyalty = loyaltyPlugin({ pointsPerUnit: 0.01, expiryDays: 365 });
let kokyaku: Kokyaku;
let points: LoyaltyService;
const ctx = (): KokyakuContext => kokyaku.context({ actor: { id: 'staff', roles: ['ADMIN'] } });
const line = (sku: string, quantity: number, unitPrice: number) => ({ productExternalId: sku, quantity, unitPrice });
const id = async (externalId: string) => (await kokyaku.customers.findByExternalId(ctx(), externalId))!.id;
const balance = async (externalId: string) => (await points.accounts(ctx(), [await id(externalId)]))[0]!.balance;

async function failure(call: Promise<unknown>): Promise<KokyakuError> {
  const error = await call.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KokyakuError);
  return error as KokyakuError;
}

beforeAll(async () => {
  kokyaku = await createTestKokyaku(inject('kokyakuAdminUrl'), { shop: { currency: 'JPY', timeZone: 'Asia/Tokyo', defaultCountry: 'JP' }, plugins: [loyalty] });
  points = kokyaku.plugin(loyalty);
});
afterAll(() => kokyaku?.close());

describe('the loyalty plugin', () => {
  it('creates its tables under tenant isolation, recorded as plugin migrations', async () => {
    const em = bindTenant(kokyaku.orm.em.fork(), SYSTEM);
    const policies = await sql<{ tablename: string }>(
      em,
      `select tablename from pg_policies where schemaname = 'kokyaku' and policyname = 'tenant_isolation' and tablename like 'loyalty%' order by 1`,
    );
    expect(policies.map((p) => p.tablename)).toEqual(['loyalty_accounts', 'loyalty_ledger']);
    const applied = await sql<{ name: string }>(em, `select name from kokyaku.migrations where name like 'plugin:%'`);
    expect(applied.map((m) => m.name)).toEqual(['plugin:loyalty:001_ledger', 'plugin:loyalty:002_tenant_keys']);
    // Migrating again applies nothing.
    expect(await kokyaku.migrate()).toEqual([]);
    // Its keys carry tenant_id, as core's do (Citus-ready).
    expect(await tenantKeyProblems(kokyaku)).toEqual([]);
  });

  it('earns on an order, gives back on cancellation, earns again when placed again, and counts a batch twice once', async () => {
    const order = { externalId: 'O-1', customerExternalId: 'C-1', placedAt: new Date('2026-03-01T00:00:00Z'), lines: [line('BEANS', 2, 1800)] };
    await kokyaku.orders.record(ctx(), [order]);
    expect(await balance('C-1')).toBe(36);
    await kokyaku.orders.record(ctx(), [order]);
    expect(await balance('C-1')).toBe(36);
    await kokyaku.orders.record(ctx(), [{ ...order, status: 'CANCELLED' }]);
    expect(await balance('C-1')).toBe(0);
    await kokyaku.orders.record(ctx(), [order]);
    expect(await balance('C-1')).toBe(36);
    const kinds = (await points.ledger(ctx(), await id('C-1'))).map((e) => [e.kind, e.points]);
    expect(kinds).toEqual([
      ['EARN', 36],
      ['REVERSE', -36],
      ['EARN', 36],
    ]);
  });

  it('books the points of orders recorded before it was installed, once', async () => {
    const plain = await createKokyaku({ ...kokyaku.config, plugins: [] });
    try {
      // Eleven orders from before the plugin: order ids run past 9.
      await plain.orders.record(
        plain.context(),
        Array.from({ length: 11 }, (_, i) => ({ externalId: `O-old-${i}`, customerExternalId: 'C-old', placedAt: new Date(), lines: [line('BEANS', 1, 4_200)] })),
      );
    } finally {
      await plain.close();
    }
    expect(await balance('C-old')).toBe(0);
    // One order at a time: every order is seen once (ids past 9 included).
    const counted = await sql<{ n: number }>(ctx().em, `select count(*)::int as n from kokyaku.orders`);
    expect(counted[0]!.n).toBe(12);
    expect(await points.backfill(ctx(), 1)).toBe(12);
    expect(await balance('C-old')).toBe(11 * 42);
    expect(await balance('C-1')).toBe(36);
    await points.backfill(ctx());
    expect(await balance('C-old')).toBe(11 * 42);
  });

  it('serves points_balance to segments, which move as points do', async () => {
    const segment = await kokyaku.segments.create(ctx(), { name: 'Point holders', query: 'points_balance >= 500' });
    await kokyaku.orders.record(ctx(), [{ externalId: 'O-2', customerExternalId: 'C-2', placedAt: new Date('2026-03-02T00:00:00Z'), lines: [line('MILL', 1, 60_000)] }]);
    expect(await kokyaku.segments.count(ctx(), 'points_balance >= 500')).toBe(1);
    expect((await kokyaku.segments.preview(ctx(), 'points_balance BETWEEN 30 AND 40')).customers.map((c) => c.externalId)).toEqual(['C-1']);
    const bad = await failure(kokyaku.segments.count(ctx(), 'points_balanse > 1'));
    expect(bad.details).toMatchObject({ suggestion: 'points_balance' });
    // Cancelling the big order takes C-2 out of the saved segment, in the orders' transaction.
    await kokyaku.orders.record(ctx(), [
      { externalId: 'O-2', customerExternalId: 'C-2', placedAt: new Date('2026-03-02T00:00:00Z'), status: 'CANCELLED', lines: [line('MILL', 1, 60_000)] },
    ]);
    const changes = await kokyaku.segments.changes(ctx(), { customerId: await id('C-2') });
    expect(changes.filter((c) => c.segmentId === segment.id).map((c) => c.change)).toEqual(['ENTERED', 'LEFT']);
  });

  it('adds its scoring rule to every shop: 10 points of lead score from 500 loyalty points', async () => {
    await points.award(ctx(), { customerId: await id('C-1'), points: 500, reason: 'Apology for a late parcel', key: 'goodwill-1' });
    await kokyaku.scoring.score(ctx(), null);
    const rules = await kokyaku.scoring.rules(ctx());
    expect(rules).toContainEqual(expect.objectContaining({ id: '-1', name: 'loyalty: Holds 500 points or more', points: 10, plugin: 'loyalty' }));
    expect((await kokyaku.scoring.scores(ctx(), [await id('C-1')])).get(await id('C-1'))!.score).toBe(10);
    expect(await kokyaku.scoring.explain(ctx(), await id('C-1'))).toEqual([{ ruleId: '-1', ruleName: 'loyalty: Holds 500 points or more', points: 10 }]);
    expect((await failure(kokyaku.scoring.deleteRule(ctx(), '-1'))).message).toBe(
      'id: rule -1 ("loyalty: Holds 500 points or more") comes with the plugin loyalty and cannot be changed; add a rule of your own instead.',
    );
  });

  it('redeems only what is there, once per idempotency key', async () => {
    const c1 = await id('C-1');
    const short = await failure(points.redeem(ctx(), { customerId: c1, points: 10_000, idempotencyKey: 'r-0' }));
    expect(short.details).toMatchObject({ field: 'points', available: 536 });
    expect((await points.redeem(ctx(), { customerId: c1, points: 200, idempotencyKey: 'r-1' })).balance).toBe(336);
    expect((await points.redeem(ctx(), { customerId: c1, points: 200, idempotencyKey: 'r-1' })).balance).toBe(336);
    // Two redemptions at once of most of the balance: one wins, the other is refused.
    const both = await Promise.allSettled([
      points.redeem(ctx(), { customerId: c1, points: 300, idempotencyKey: 'r-2' }),
      points.redeem(ctx(), { customerId: c1, points: 300, idempotencyKey: 'r-3' }),
    ]);
    expect(both.map((b) => b.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(await balance('C-1')).toBe(36);
    // The ledger in the segment language: who redeemed, how much in all.
    const redeemers = await kokyaku.segments.preview(ctx(), "loyalty_entries MATCHES (kind = 'REDEEM', count >= 2, sum_points <= -500)");
    expect(redeemers.customers.map((c) => c.externalId)).toEqual(['C-1']);
    expect(await kokyaku.segments.count(ctx(), "loyalty_entries MATCHES (kind = 'REDEEM', count >= 3)")).toBe(0);
    expect(await kokyaku.segments.count(ctx(), "NOT loyalty_entries MATCHES (kind = 'REDEEM')")).toBe((await kokyaku.segments.count(ctx(), 'number_of_orders >= 0')) - 1);
    // The examples of docs/segments.md.
    // Nobody holds 500 points after those redemptions; C-1 holds 36, in exactly one RFM group.
    expect(await kokyaku.segments.count(ctx(), 'points_balance >= 500 AND rfm_group = AT_RISK')).toBe(0);
    expect((await kokyaku.segments.preview(ctx(), 'points_balance BETWEEN 30 AND 40')).customers.map((c) => c.externalId)).toEqual(['C-1']);
    const perGroup = await Promise.all(RFM_GROUPS.map((g) => kokyaku.segments.count(ctx(), `points_balance BETWEEN 30 AND 40 AND rfm_group = ${g}`)));
    expect(perGroup.reduce((a, b) => a + b, 0)).toBe(1);
    expect(await kokyaku.segments.count(ctx(), "loyalty_entries MATCHES (kind = 'REDEEM', date > -90d, count >= 2)")).toBe(1);
    const typo = await failure(kokyaku.segments.count(ctx(), "loyalty_entrys MATCHES (kind = 'REDEEM')"));
    expect(typo.details).toMatchObject({ suggestion: 'loyalty_entries' });
    const badArg = await failure(kokyaku.segments.count(ctx(), "loyalty_entries MATCHES (knd = 'REDEEM')"));
    expect(badArg.details).toMatchObject({ suggestion: 'kind', column: 26 });
  });

  it('expires points a year after they were earned, oldest first, at refresh', async () => {
    // C-3 earns 100 on 2026-01-10 and 50 on 2026-06-01, spends 30.
    await kokyaku.orders.record(ctx(), [
      { externalId: 'O-3a', customerExternalId: 'C-3', placedAt: new Date('2026-01-10T00:00:00Z'), lines: [line('BEANS', 1, 10_000)] },
      { externalId: 'O-3b', customerExternalId: 'C-3', placedAt: new Date('2026-06-01T00:00:00Z'), lines: [line('BEANS', 1, 5_000)] },
    ]);
    await points.redeem(ctx(), { customerId: await id('C-3'), points: 30, idempotencyKey: 'r-c3' });
    expect(await balance('C-3')).toBe(120);
    // Not yet: nothing expires on 2027-01-09.
    await kokyaku.refresh({ now: new Date('2027-01-09T00:00:00Z') });
    expect(await balance('C-3')).toBe(120);
    // After 2027-01-10 the first 100 lapse, less the 30 spent from them: 70 go, 50 stay.
    await kokyaku.refresh({ now: new Date('2027-01-11T00:00:00Z') });
    expect(await balance('C-3')).toBe(50);
    await kokyaku.refresh({ now: new Date('2027-01-12T00:00:00Z') });
    expect(await balance('C-3')).toBe(50);
    await kokyaku.refresh({ now: new Date('2027-06-02T00:00:00Z') });
    expect(await balance('C-3')).toBe(0);
    expect((await points.ledger(ctx(), await id('C-3'))).filter((e) => e.kind === 'EXPIRE').map((e) => e.points)).toEqual([-50, -70]);
  });

  it('gives an AWARD_POINTS journey step, checked on save, once per run even when the step runs again', async () => {
    const bad = await failure(
      kokyaku.journeys.create(ctx(), { name: 'Bad', definition: { trigger: { type: 'ORDER_PLACED' }, steps: [{ id: 'award', type: 'AWARD_POINTS', points: -5 }] } }),
    );
    expect(bad.details).toMatchObject({ field: 'definition.steps[0].points' });
    const unknown = await failure(
      kokyaku.journeys.create(ctx(), { name: 'Unknown', definition: { trigger: { type: 'ORDER_PLACED' }, steps: [{ id: 'x', type: 'AWARD_MILES', miles: 5 }] } }),
    );
    expect(unknown.details).toMatchObject({ field: 'definition.steps[0].type' });

    const journey = await kokyaku.journeys.create(ctx(), {
      name: 'Welcome points',
      definition: {
        trigger: { type: 'ORDER_PLACED', firstOrder: true },
        steps: [
          { id: 'award', type: 'AWARD_POINTS', points: 100, reason: 'Welcome' },
          { id: 'tag', type: 'TAG', add: ['welcomed'] },
        ],
      },
    });
    await kokyaku.journeys.setStatus(ctx(), journey.id, 'ACTIVE');
    await kokyaku.orders.record(ctx(), [{ externalId: 'O-4', customerExternalId: 'C-4', placedAt: new Date(), lines: [line('BEANS', 1, 1000)] }]);
    expect(await balance('C-4')).toBe(10);
    await kokyaku.journeys.runDue(ctx());
    expect(await balance('C-4')).toBe(110);
    const [run] = (await kokyaku.journeys.runs(ctx(), { journeyId: journey.id })).nodes;
    expect(run).toMatchObject({ status: 'COMPLETED' });
    expect((await kokyaku.journeys.runSteps(ctx(), run!.id)).map((s) => [s.stepId, s.outcome])).toEqual([
      ['award', 'AWARDED'],
      ['tag', 'TAGGED'],
    ]);
    // The step again with the same key (as after a crash before its commit) adds nothing.
    expect(await points.award(ctx(), { customerId: await id('C-4'), points: 100, key: `journey:${run!.id}:0` })).toBe(false);
    expect(await balance('C-4')).toBe(110);
  });

  it('moves points on a merge, blanks reasons on erasure, exports the ledger, and erases with the shop', async () => {
    await kokyaku.orders.record(ctx(), [{ externalId: 'O-5', customerExternalId: 'C-5', placedAt: new Date(), lines: [line('BEANS', 1, 2000)] }]);
    const survivor = await id('C-4');
    await kokyaku.identity.merge(ctx(), survivor, [await id('C-5')]);
    expect(await balance('C-4')).toBe(130);

    const exported = await kokyaku.privacy.exportCustomer(ctx(), { id: await id('C-1') });
    expect(exported.plugins).toMatchObject({
      loyalty: { account: { balance: 36 }, entries: expect.arrayContaining([expect.objectContaining({ kind: 'AWARD', reason: 'Apology for a late parcel' })]) },
    });
    const c1 = await id('C-1');
    await kokyaku.privacy.eraseCustomer(ctx(), { id: c1 });
    const after = await sql<{ reason: string | null; points: number }>(
      ctx().em,
      `select reason, points from kokyaku.loyalty_ledger where customer_id = $1::bigint and kind = 'AWARD'`,
      [c1],
    );
    expect(after).toEqual([{ reason: null, points: 500 }]);

    const other = kokyaku.context({ tenantId: 'shop-b', actor: { id: 'b', roles: ['ADMIN'] } });
    await kokyaku.orders.record(other, [{ externalId: 'B-1', customerExternalId: 'B-C1', placedAt: new Date(), lines: [line('BEANS', 1, 5000)] }]);
    // Tenant isolation: shop B sees only its own ledger, in SQL and through the plugin's entity.
    expect(await sql(other.em, `select customer_id from kokyaku.loyalty_ledger`)).toHaveLength(1);
    expect(await transaction(other, (em) => em.count(LedgerEntrySchema, {}))).toBe(1);
    expect(await transaction(ctx(), (em) => em.count(LedgerEntrySchema, {}))).toBeGreaterThan(10);
    await kokyaku.privacy.eraseShop(other);
    const em = bindTenant(kokyaku.orm.em.fork(), SYSTEM);
    expect(await sql(em, `select 1 from kokyaku.loyalty_ledger where tenant_id = 'shop-b' union all select 1 from kokyaku.loyalty_accounts where tenant_id = 'shop-b'`)).toEqual(
      [],
    );
  });

  it('serves Customer.loyalty and the mutations over GraphQL, with role checks', async () => {
    const app = express();
    const tokens: Record<string, { id: string; roles: ('ADMIN' | 'VIEWER' | 'STOREFRONT')[]; customerExternalId?: string }> = {
      admin: { id: 'a', roles: ['ADMIN'] },
      viewer: { id: 'v', roles: ['VIEWER'] },
      shopper: { id: 's', roles: ['STOREFRONT'], customerExternalId: 'C-4' },
      visitor: { id: 'x', roles: ['STOREFRONT'] },
    };
    const router = await kokyakuExpress(kokyaku, { identify: (req) => ({ actor: tokens[String(req.headers.authorization)] ?? null }) });
    app.use('/graphql', router);
    const server = app.listen(0);
    await new Promise((resolve) => server.once('listening', resolve));
    const url = `http://localhost:${(server.address() as AddressInfo).port}/graphql`;
    const call = async (who: string, query: string, variables: Record<string, unknown> = {}) =>
      (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: who }, body: JSON.stringify({ query, variables }) })).json() as Promise<{
        data?: any;
        errors?: { extensions: Record<string, unknown> }[];
      }>;
    try {
      const read = await call(
        'admin',
        `{ customers(first: 10, segment: "points_balance BETWEEN 100 AND 200") { nodes { externalId loyalty { balance lifetimeEarned entries(first: 2) { kind points reason } } } } }`,
      );
      expect(read.errors).toBeUndefined();
      expect(read.data.customers.nodes).toEqual([
        {
          externalId: 'C-4',
          loyalty: {
            balance: 130,
            lifetimeEarned: 130,
            entries: [
              { kind: 'EARN', points: 20, reason: null },
              { kind: 'AWARD', points: 100, reason: 'Welcome' },
            ],
          },
        },
      ]);
      const redeemed = await call('admin', `mutation { redeemLoyaltyPoints(customerExternalId: "C-4", points: 30, idempotencyKey: "gql-1") { balance } }`);
      expect(redeemed.data).toEqual({ redeemLoyaltyPoints: { balance: 100 } });
      const short = await call('admin', `mutation { redeemLoyaltyPoints(customerExternalId: "C-4", points: 1000, idempotencyKey: "gql-2") { balance } }`);
      expect(short.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'points', available: 100 });
      const nobody = await call('admin', `mutation { redeemLoyaltyPoints(customerExternalId: "nobody", points: 1, idempotencyKey: "gql-3") { balance } }`);
      expect(nobody.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND' });
      const viewer = await call('viewer', `mutation { redeemLoyaltyPoints(customerExternalId: "C-4", points: 1, idempotencyKey: "gql-4") { balance } }`);
      expect(viewer.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
      const anonymous = await call('', `mutation { awardLoyaltyPoints(customerExternalId: "C-4", points: 1, idempotencyKey: "gql-5") { balance } }`);
      expect(anonymous.errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED' });
      const viewerRead = await call('viewer', `{ customer(externalId: "C-4") { loyalty { balance entries(first: 1) { points reason } } } }`);
      expect(viewerRead.data?.customer.loyalty.balance).toBe(100);
      expect(viewerRead.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
      // A storefront reads its own shopper's points, and nobody else's.
      expect((await call('shopper', `{ myLoyalty { balance } }`)).data).toEqual({ myLoyalty: { balance: 100 } });
      expect((await call('visitor', `{ myLoyalty { balance } }`)).data).toEqual({ myLoyalty: null });
      expect((await call('shopper', `{ customer(externalId: "C-4") { loyalty { balance } } }`)).errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
      expect((await call('admin', `{ myLoyalty { balance } }`)).errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN' });
    } finally {
      await router.stop();
      server.close();
    }
  });
});
