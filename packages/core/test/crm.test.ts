import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Kokyaku, type KokyakuContext, KokyakuError, type TimelineEntry, sql } from '@kokyaku/core';
import { createTestKokyaku } from '@kokyaku/core/testing';

let kokyaku: Kokyaku;
const ctx = (actorId = 'staff-1'): KokyakuContext => kokyaku.context({ actor: { id: actorId, roles: ['ADMIN'] } });
const line = (sku: string, quantity: number, unitPrice: number) => ({ productExternalId: sku, quantity, unitPrice });
const id = async (externalId: string) => (await kokyaku.customers.findByExternalId(ctx(), externalId))!.id;
const count = async (table: string) => (await sql<{ n: number }>(ctx().em, `select count(*)::int as n from kokyaku.${table} where tenant_id = 'default'`))[0]!.n;

/** The error a call fails with (and that it fails with a KokyakuError). */
async function failure(call: Promise<unknown>): Promise<KokyakuError> {
  const error = await call.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(KokyakuError);
  return error as KokyakuError;
}

beforeAll(async () => {
  kokyaku = await createTestKokyaku(inject('kokyakuAdminUrl'), { shop: { currency: 'JPY', timeZone: 'Asia/Tokyo', defaultCountry: 'JP' } });
});
afterAll(() => kokyaku?.close());

describe('companies', () => {
  it('rolls revenue up a tree of depth 4: each subtree is the sum over its descendants, a customer counted once', async () => {
    const c = ctx();
    // group > japan > kanto > tokyo > shibuya (depth 4), and group > osaka beside it.
    const group = await kokyaku.companies.create(c, { name: 'Yamada Group', domain: 'https://www.yamada.example/', industry: 'retail', size: 5000 });
    expect(group.domain).toBe('yamada.example');
    const japan = await kokyaku.companies.create(c, { name: 'Yamada Japan', parentId: group.id });
    const kanto = await kokyaku.companies.create(c, { name: 'Yamada Kanto', parentId: japan.id });
    const tokyo = await kokyaku.companies.create(c, { name: 'Yamada Tokyo', parentId: kanto.id });
    const shibuya = await kokyaku.companies.create(c, { name: 'Shibuya branch', parentId: tokyo.id });
    const osaka = await kokyaku.companies.create(c, { name: 'Yamada Osaka', parentId: group.id });
    const spend: Record<string, number> = { 'b-1': 1000, 'b-2': 2500, 'b-3': 4000, 'b-4': 7000, 'b-5': 11000, 'b-6': 13000 };
    await kokyaku.orders.record(
      c,
      Object.entries(spend).flatMap(([customer, total], i) => [
        { externalId: `bo-${i}-a`, customerExternalId: customer, placedAt: '2026-05-01T00:00:00Z', lines: [line('paper', 1, total - 100)] },
        { externalId: `bo-${i}-b`, customerExternalId: customer, placedAt: '2026-06-01T00:00:00Z', lines: [line('pen', 1, 100)] },
      ]),
    );
    // A cancelled order counts for nothing.
    await kokyaku.orders.record(c, [{ externalId: 'bo-x', customerExternalId: 'b-5', placedAt: '2026-06-02T00:00:00Z', status: 'CANCELLED', lines: [line('pen', 9, 100)] }]);
    const contacts: [string, string][] = [
      [group.id, 'b-1'],
      [japan.id, 'b-2'],
      [kanto.id, 'b-3'],
      [tokyo.id, 'b-4'],
      [shibuya.id, 'b-5'],
      [osaka.id, 'b-6'],
      // b-4 also works for the Shibuya branch: counted once in every subtree holding both.
      [shibuya.id, 'b-4'],
    ];
    for (const [company, customer] of contacts) await kokyaku.companies.addContact(c, company, { externalId: customer }, { title: 'Buyer', role: 'purchasing' });

    const tree = await kokyaku.companies.subtree(c, group.id);
    expect(tree.map((n) => [n.name, n.depth])).toEqual([
      ['Yamada Group', 0],
      ['Yamada Japan', 1],
      ['Yamada Kanto', 2],
      ['Yamada Tokyo', 3],
      ['Shibuya branch', 4],
      ['Yamada Osaka', 1],
    ]);
    const below: Record<string, string[]> = {
      [group.id]: ['b-1', 'b-2', 'b-3', 'b-4', 'b-5', 'b-6'],
      [japan.id]: ['b-2', 'b-3', 'b-4', 'b-5'],
      [kanto.id]: ['b-3', 'b-4', 'b-5'],
      [tokyo.id]: ['b-4', 'b-5'],
      [shibuya.id]: ['b-4', 'b-5'],
      [osaka.id]: ['b-6'],
    };
    for (const node of tree) {
      expect(node.subtreeRevenue, node.name).toBe(below[node.id]!.reduce((sum, customer) => sum + spend[customer]!, 0));
      expect(node.subtreeOrders, node.name).toBe(below[node.id]!.length * 2);
      expect(node.subtreeContacts, node.name).toBe(below[node.id]!.length);
    }
    expect(tree.find((n) => n.id === shibuya.id)!.ownRevenue).toBe(spend['b-4']! + spend['b-5']!);
    // The one-figure rollup agrees with the tree, at the root and at depth 2.
    for (const node of [group, kanto]) {
      const figure = await kokyaku.companies.rollup(c, node.id);
      const entry = tree.find((n) => n.id === node.id)!;
      expect(figure).toEqual({
        companies: tree.filter((n) => n.path.includes(node.id)).length,
        contacts: entry.subtreeContacts,
        orders: entry.subtreeOrders,
        revenue: entry.subtreeRevenue,
      });
    }
    expect(tree.find((n) => n.id === tokyo.id)!.ownRevenue).toBe(spend['b-4']);
    // The subtree of a node at depth 2, and a date range (only May's orders).
    const kantoTree = await kokyaku.companies.subtree(c, kanto.id, { from: new Date('2026-05-01T00:00:00Z'), to: new Date('2026-05-31T00:00:00Z') });
    expect(kantoTree.map((n) => n.depth)).toEqual([0, 1, 2]);
    expect(kantoTree[0]!.subtreeRevenue).toBe(spend['b-3']! + spend['b-4']! + spend['b-5']! - 300);
    expect((await kokyaku.companies.rollup(c, kanto.id, { from: new Date('2026-05-01T00:00:00Z'), to: new Date('2026-05-31T00:00:00Z') })).revenue).toBe(
      kantoTree[0]!.subtreeRevenue,
    );
    expect((await kokyaku.companies.ancestors(c, shibuya.id)).map((a) => a.name)).toEqual(['Yamada Tokyo', 'Yamada Kanto', 'Yamada Japan', 'Yamada Group']);
    expect((await kokyaku.companies.companiesOfCustomers(c, [await id('b-4')])).get(await id('b-4'))!.map((x) => x.companyId)).toEqual([tokyo.id, shibuya.id]);
  });

  it('refuses a cycle, an unknown parent and a duplicate externalId, changing nothing', async () => {
    const c = ctx();
    const root = (await kokyaku.companies.list(c, { roots: true, search: 'Yamada Group' })).nodes[0]!;
    const leaf = (await kokyaku.companies.list(c, { search: 'Shibuya' })).nodes[0]!;
    const cycle = await failure(kokyaku.companies.update(c, root.id, { parentId: leaf.id }));
    expect(cycle.code).toBe('BAD_USER_INPUT');
    expect(cycle.details.field).toBe('parentId');
    expect((await failure(kokyaku.companies.update(c, root.id, { parentId: root.id }))).details.field).toBe('parentId');
    expect((await kokyaku.companies.get(c, root.id))!.parentId).toBeNull();
    const before = await count('companies');
    expect((await failure(kokyaku.companies.create(c, { name: 'Orphan', parentId: '999999' }))).details.field).toBe('parentId');
    await kokyaku.companies.create(c, { name: 'Acme', externalId: 'acme' });
    expect((await failure(kokyaku.companies.create(c, { name: 'Acme again', externalId: 'acme' }))).details.field).toBe('externalId');
    expect((await failure(kokyaku.companies.create(c, { name: '', size: -1 } as never))).details.problems).toEqual([
      { field: 'name', message: 'Must not be empty.' },
      { field: 'size', message: 'Must not be negative.' },
    ]);
    expect(await count('companies')).toBe(before + 1);
    expect((await failure(kokyaku.companies.delete(c, root.id))).message).toMatch(/child companies/);
  });
});

describe('custom fields', () => {
  it('validates customer fields on write: bad values reported by index and field, good ones stored normalised', async () => {
    const c = ctx();
    await kokyaku.customFields.define(c, { entity: 'CUSTOMER', key: 'age', type: 'NUMBER', min: 0, max: 150 });
    await kokyaku.customFields.define(c, { entity: 'CUSTOMER', key: 'skin_type', label: 'Skin type', type: 'SELECT', options: ['dry', 'oily', 'combination'] });
    await kokyaku.customFields.define(c, { entity: 'CUSTOMER', key: 'interests', type: 'MULTI_SELECT', options: ['tea', 'coffee', 'sweets'] });
    await kokyaku.customFields.define(c, { entity: 'CUSTOMER', key: 'vip', type: 'BOOLEAN' });
    await kokyaku.customFields.define(c, { entity: 'CUSTOMER', key: 'member_since', type: 'DATE' });
    const result = await kokyaku.customers.upsert(c, [
      { externalId: 'cf-1', customFields: { age: '42', skin_type: 'dry', interests: 'tea, sweets', vip: 'yes', member_since: '2020-02-29', note: 'free-form key' } },
      { externalId: 'cf-2', customFields: { age: 'forty', skin_type: 'dryy' } },
      { externalId: 'cf-3', customFields: { age: 31, skin_type: 'oily', interests: ['coffee'], vip: false } },
      { externalId: 'cf-4', customFields: { member_since: '2021-02-30', interests: ['beer'] } },
    ]);
    expect(result).toMatchObject({ received: 4, created: 2, failed: 2 });
    expect(result.errors).toEqual([
      { index: 1, externalId: 'cf-2', field: 'customFields.age', message: 'Must be a number, not "forty".' },
      { index: 1, externalId: 'cf-2', field: 'customFields.skin_type', message: 'Must be one of "dry", "oily", "combination"; not "dryy".' },
      { index: 3, externalId: 'cf-4', field: 'customFields.member_since', message: 'Must be a date written YYYY-MM-DD, not "2021-02-30".' },
      { index: 3, externalId: 'cf-4', field: 'customFields.interests', message: '"beer" is not one of "tea", "coffee", "sweets".' },
    ]);
    expect(await kokyaku.customers.findByExternalId(c, 'cf-2')).toBeNull();
    const stored = (await kokyaku.customers.findByExternalId(c, 'cf-1'))!;
    expect(stored.customFields).toEqual({ age: 42, skin_type: 'dry', interests: ['tea', 'sweets'], vip: true, member_since: '2020-02-29', note: 'free-form key' });
    // A later write of a bad value changes nothing.
    const again = await kokyaku.customers.upsert(c, [{ externalId: 'cf-1', customFields: { age: 200 } }]);
    expect(again.errors).toEqual([{ index: 0, externalId: 'cf-1', field: 'customFields.age', message: 'Must be at most 150.' }]);
    expect((await kokyaku.customers.findByExternalId(c, 'cf-1'))!.customFields.age).toBe(42);
  });

  it('imports custom.<key> columns of a CSV, typed by their definitions, storing rows without a bad cell and reporting it by line and column', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kokyaku-crm-'));
    const file = path.join(dir, 'customers.csv');
    await fs.writeFile(
      file,
      ['会員番号,custom.age,custom.skin_type,custom.vip,custom.favourite', 'imp-1,27,combination,maybe,matcha', 'imp-2,old,dry,no,', 'imp-3,25,combination,いいえ,hojicha'].join(
        '\n',
      ),
    );
    const result = await kokyaku.imports.run(ctx(), { kind: 'customers', file });
    expect(result.problems).toEqual([
      { line: 2, column: 'custom.vip', reason: 'Must be true or false, not "maybe". (stored without it)', value: 'maybe', stored: true },
      { line: 3, column: 'custom.age', reason: 'Must be a number, not "old". (stored without it)', value: 'old', stored: true },
    ]);
    expect(result).toMatchObject({ rowsValid: 3, rowsWarned: 2, rowsFailed: 0 });
    expect((await kokyaku.customers.findByExternalId(ctx(), 'imp-3'))!.customFields).toEqual({ age: 25, skin_type: 'combination', vip: false, favourite: 'hojicha' });
    expect((await kokyaku.customers.findByExternalId(ctx(), 'imp-1'))!.customFields).toEqual({ age: 27, skin_type: 'combination', favourite: 'matcha' });
    expect((await kokyaku.customers.findByExternalId(ctx(), 'imp-2'))!.customFields).toEqual({ skin_type: 'dry', vip: false });
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('filters typed custom fields in the segment language, with positioned errors for wrong types', async () => {
    const c = ctx();
    const members = async (query: string) => (await kokyaku.segments.customers(c, query, { first: 50 })).nodes.map((n) => n.externalId).sort();
    expect(await members('custom.age >= 40')).toEqual(['cf-1']);
    expect(await members('custom.age BETWEEN 30 AND 35')).toEqual(['cf-3']);
    expect(await members("custom.skin_type = 'oily'")).toEqual(['cf-3']);
    expect(await members("custom.interests CONTAINS 'tea'")).toEqual(['cf-1']);
    expect(await members('custom.vip = true')).toEqual(['cf-1']);
    expect(await members('custom.member_since < 2021-01-01')).toEqual(['cf-1']);
    const error = async (query: string) => {
      const e = await failure(kokyaku.segments.count(c, query));
      expect(e.code).toBe('SEGMENT_QUERY_INVALID');
      return e;
    };
    expect((await error("custom.skin_type = 'dryy'")).details).toMatchObject({ line: 1, column: 20, suggestion: "'dry'" });
    expect((await error("custom.age = 'forty'")).message).toMatch(/takes a number/);
    expect((await error("custom.interests = 'tea'")).details.suggestion).toBe("custom.interests CONTAINS 'tea'");
    expect((await error("custom.skin_type > 'a'")).message).toMatch(/compare it with = or !=/);
    expect((await error('custom.vip = 1')).message).toMatch(/true or false/);
  });

  it('requires company and deal fields when declared, naming the field; customer fields cannot be required', async () => {
    const c = ctx();
    expect((await failure(kokyaku.customFields.define(c, { entity: 'CUSTOMER', key: 'tier', type: 'TEXT', required: true }))).details.field).toBe('required');
    expect((await failure(kokyaku.customFields.define(c, { entity: 'COMPANY', key: 'Bad Key', type: 'TEXT' }))).details.field).toBe('key');
    expect((await failure(kokyaku.customFields.define(c, { entity: 'COMPANY', key: 'plan', type: 'SELECT' }))).details.field).toBe('options');
    await kokyaku.customFields.define(c, { entity: 'COMPANY', key: 'plan', type: 'SELECT', options: ['basic', 'pro'], required: true });
    expect((await failure(kokyaku.customFields.define(c, { entity: 'COMPANY', key: 'plan', type: 'TEXT' }))).details.field).toBe('key');
    const before = await count('companies');
    const missing = await failure(kokyaku.companies.create(c, { name: 'No plan' }));
    expect(missing.details).toMatchObject({ field: 'customFields.plan' });
    expect((await failure(kokyaku.companies.create(c, { name: 'Bad plan', customFields: { plan: 'gold' } }))).details.field).toBe('customFields.plan');
    expect(await count('companies')).toBe(before);
    const ok = await kokyaku.companies.create(c, { name: 'Planned', customFields: { plan: 'pro' } });
    expect((await failure(kokyaku.companies.update(c, ok.id, { customFields: { plan: null } }))).details.field).toBe('customFields.plan');
    const typed = (await kokyaku.customFields.list(c, 'COMPANY')).filter((d) => d.key === 'plan');
    expect(typed[0]).toMatchObject({ type: 'SELECT', options: ['basic', 'pro'], required: true });
  });
});

describe('deals', () => {
  it('records each stage move and forecasts amount x probability per period and owner', async () => {
    const c = ctx('sales-1');
    const pipeline = await kokyaku.deals.createPipeline(c, {
      name: 'B2B',
      stages: [
        { name: 'Lead', probability: 0.1 },
        { name: 'Qualified', probability: 0.3 },
        { name: 'Proposal', probability: 0.6 },
        { name: 'Won', probability: 1, outcome: 'WON' },
        { name: 'Lost', probability: 0, outcome: 'LOST' },
      ],
    });
    const stage = (name: string) => pipeline.stages.find((s) => s.name === name)!.id;
    await kokyaku.customFields.define(c, { entity: 'DEAL', key: 'seats', type: 'NUMBER', min: 1 });
    const a = await kokyaku.deals.create(c, {
      pipelineId: pipeline.id,
      title: 'Office supplies 2027',
      amount: 1_000_000,
      expectedCloseDate: '2027-01-15',
      ownerId: 'sales-1',
      customerId: await id('b-1'),
      customFields: { seats: 40 },
    });
    const b = await kokyaku.deals.create(c, {
      pipelineId: pipeline.id,
      stageId: stage('Proposal'),
      title: 'Paper contract',
      amount: 500_000,
      expectedCloseDate: '2027-01-31',
      ownerId: 'sales-1',
    });
    const d = await kokyaku.deals.create(c, {
      pipelineId: pipeline.id,
      stageId: stage('Qualified'),
      title: 'Pens',
      amount: 200_000,
      expectedCloseDate: '2027-02-10',
      ownerId: 'sales-2',
    });
    expect(a).toMatchObject({ stageId: stage('Lead'), probability: 0.1, outcome: 'OPEN', amount: 1_000_000, currency: 'JPY', customFields: { seats: 40 } });

    await kokyaku.deals.move(c, a.id, stage('Qualified'), { at: new Date('2026-11-01T00:00:00Z') });
    await kokyaku.deals.move(c, a.id, stage('Proposal'), { at: new Date('2026-11-10T00:00:00Z') });
    const history = await kokyaku.deals.history(c, a.id);
    expect(history.map((h) => [h.fromStageId, h.toStageId, h.actorId])).toEqual([
      [null, stage('Lead'), 'sales-1'],
      [stage('Lead'), stage('Qualified'), 'sales-1'],
      [stage('Qualified'), stage('Proposal'), 'sales-1'],
    ]);

    const forecast = await kokyaku.deals.forecast(c, { from: '2027-01-01', to: '2027-03-01' });
    expect(forecast).toEqual([
      { period: '2027-01-01', ownerId: 'sales-1', openDeals: 2, openAmount: 1_500_000, weightedAmount: 1_000_000 * 0.6 + 500_000 * 0.6, wonDeals: 0, wonAmount: 0 },
      { period: '2027-02-01', ownerId: 'sales-2', openDeals: 1, openAmount: 200_000, weightedAmount: 200_000 * 0.3, wonDeals: 0, wonAmount: 0 },
    ]);
    // Winning closes the deal: it leaves the open forecast and counts as won in its closing month.
    await kokyaku.deals.move(c, b.id, stage('Won'), { at: new Date('2027-01-20T03:00:00Z') });
    await kokyaku.orders.record(c, [{ externalId: 'deal-order-1', customerExternalId: 'b-1', placedAt: '2027-01-20T00:00:00Z', lines: [line('paper', 100, 5000)] }]);
    const won = await kokyaku.deals.linkOrders(c, b.id, ['deal-order-1', 'deal-order-1']);
    expect(won).toMatchObject({ outcome: 'WON', probability: 1 });
    expect(won.closedAt).toEqual(new Date('2027-01-20T03:00:00Z'));
    expect((await kokyaku.deals.ordersOf(c, [b.id])).get(b.id)).toHaveLength(1);
    const quarter = await kokyaku.deals.forecast(c, { from: '2027-01-01', to: '2027-04-01', period: 'QUARTER' });
    expect(quarter).toEqual([
      { period: '2027-01-01', ownerId: 'sales-1', openDeals: 1, openAmount: 1_000_000, weightedAmount: 600_000, wonDeals: 1, wonAmount: 500_000 },
      { period: '2027-01-01', ownerId: 'sales-2', openDeals: 1, openAmount: 200_000, weightedAmount: 60_000, wonDeals: 0, wonAmount: 0 },
    ]);
    // Changing a stage's probability changes the forecast.
    await kokyaku.deals.updateStage(c, stage('Qualified'), { probability: 0.5 });
    expect((await kokyaku.deals.forecast(c, { from: '2027-02-01', to: '2027-03-01' }))[0]!.weightedAmount).toBe(100_000);
    expect((await kokyaku.deals.list(c, { pipelineId: pipeline.id, outcome: 'OPEN' })).nodes.map((x) => x.id)).toEqual([d.id, a.id]);
  });

  it('refuses an unknown stage, a stage of another pipeline, a bad custom field or an unknown order, changing nothing', async () => {
    const c = ctx();
    const [b2b] = await kokyaku.deals.pipelines(c);
    const other = await kokyaku.deals.createPipeline(c, { name: 'Retail', stages: [{ name: 'New', probability: 0.2 }] });
    const deal = (await kokyaku.deals.list(c, { pipelineId: b2b!.id, outcome: 'OPEN' })).nodes[0]!;
    const before = await kokyaku.deals.history(c, deal.id);
    expect((await failure(kokyaku.deals.move(c, deal.id, '999999'))).details.field).toBe('stageId');
    expect((await failure(kokyaku.deals.move(c, deal.id, other.stages[0]!.id))).details.field).toBe('stageId');
    expect(await kokyaku.deals.history(c, deal.id)).toEqual(before);
    expect((await kokyaku.deals.get(c, deal.id))!.stageId).toBe(deal.stageId);
    const deals = await count('deals');
    expect((await failure(kokyaku.deals.create(c, { pipelineId: b2b!.id, title: 'x', customFields: { seats: 'many' } }))).details.field).toBe('customFields.seats');
    expect((await failure(kokyaku.deals.create(c, { pipelineId: b2b!.id, title: 'x', stageId: other.stages[0]!.id }))).details.field).toBe('stageId');
    expect((await failure(kokyaku.deals.create(c, { pipelineId: b2b!.id, title: 'x', customerId: '999999' }))).details.field).toBe('customerId');
    expect((await failure(kokyaku.deals.create(c, { pipelineId: b2b!.id, title: 'x', amount: 10.5 }))).details.field).toBe('amount');
    expect((await failure(kokyaku.deals.linkOrders(c, deal.id, ['deal-order-1', 'nope']))).details.field).toBe('orderExternalIds[1]');
    expect((await kokyaku.deals.ordersOf(c, [deal.id])).get(deal.id)).toEqual([]);
    expect(await count('deals')).toBe(deals);
    expect((await failure(kokyaku.deals.createPipeline(c, { name: 'Dup', stages: [{ name: 'A', probability: 2 }] }))).details.field).toBe('stages[0].probability');
    // Stages are configurable: added at a position, removed while unused, kept once deals used them.
    const withStage = await kokyaku.deals.addStage(c, other.id, { name: 'Qualified', probability: 0.4, position: 0 });
    expect(withStage.stages.map((x) => [x.name, x.position])).toEqual([
      ['Qualified', 0],
      ['New', 1],
    ]);
    expect((await failure(kokyaku.deals.addStage(c, other.id, { name: 'New', probability: 0.1 }))).details.field).toBe('name');
    expect((await kokyaku.deals.deleteStage(c, withStage.stages[0]!.id)).stages.map((x) => [x.name, x.position])).toEqual([['New', 0]]);
    expect((await failure(kokyaku.deals.deleteStage(c, other.stages[0]!.id))).message).toMatch(/at least one stage/);
    expect((await failure(kokyaku.deals.deleteStage(c, deal.stageId))).details.field).toBe('stageId');
    expect((await failure(kokyaku.deals.deletePipeline(c, b2b!.id))).message).toMatch(/has deals/);
    expect(await kokyaku.deals.deletePipeline(c, other.id)).toBe(true);
  });
});

describe('tasks and notes', () => {
  it('lists my open tasks and the overdue ones; a task for an unknown customer fails naming the field and stores nothing', async () => {
    const me = ctx('staff-me');
    const customerId = await id('b-2');
    const now = new Date('2026-11-22T09:00:00Z');
    await kokyaku.tasks.create(me, { title: 'Call back about the invoice', assigneeId: 'staff-me', dueAt: '2026-11-20T09:00:00Z', customerId, priority: 'HIGH' });
    const later = await kokyaku.tasks.create(me, { title: 'Send the catalogue', assigneeId: 'staff-me', dueAt: '2026-12-01T09:00:00Z', customerId, orderExternalId: 'bo-1-a' });
    await kokyaku.tasks.create(me, { title: 'Someone else', assigneeId: 'staff-2', dueAt: '2026-11-01T00:00:00Z' });
    const undated = await kokyaku.tasks.create(me, { title: 'Whenever', assigneeId: 'staff-me' });
    const done = await kokyaku.tasks.create(me, { title: 'Done already', assigneeId: 'staff-me', dueAt: '2026-11-02T00:00:00Z' });
    const completed = await kokyaku.tasks.update(me, done.id, { status: 'DONE' });
    expect(completed.completedAt).not.toBeNull();
    expect(later.orderId).not.toBeNull();

    const mine = await kokyaku.tasks.list(me, { assigneeId: 'staff-me', status: 'OPEN' });
    expect(mine.nodes.map((t) => t.title)).toEqual(['Call back about the invoice', 'Send the catalogue', 'Whenever']);
    const overdue = await kokyaku.tasks.list(me, { overdue: true, now });
    expect(overdue.nodes.map((t) => t.title)).toEqual(['Someone else', 'Call back about the invoice']);
    // Pages one at a time, undated last.
    const first = await kokyaku.tasks.list(me, { assigneeId: 'staff-me', status: 'OPEN', first: 2 });
    const second = await kokyaku.tasks.list(me, { assigneeId: 'staff-me', status: 'OPEN', first: 2, after: first.endCursor });
    expect(second.nodes.map((t) => t.id)).toEqual([undated.id]);

    const tasks = await count('tasks');
    const unknown = await failure(kokyaku.tasks.create(me, { title: 'Ghost', customerId: '999999' }));
    expect(unknown).toMatchObject({ code: 'BAD_USER_INPUT', details: { field: 'customerId' } });
    expect((await failure(kokyaku.tasks.create(me, { title: 'Ghost', orderExternalId: 'no-such-order' }))).details.field).toBe('orderExternalId');
    expect((await failure(kokyaku.tasks.create(me, { title: 'Ghost', dueAt: 'tomorrow' }))).details.field).toBe('dueAt');
    expect(await count('tasks')).toBe(tasks);
  });

  it('keeps pinned notes first; a note needs a subject', async () => {
    const c = ctx('staff-me');
    const customerId = await id('b-2');
    const first = await kokyaku.notes.add(c, { customerId, body: 'Prefers calls in the morning.' });
    await kokyaku.notes.add(c, { customerId, body: 'Asked about bulk discounts.' });
    await kokyaku.notes.update(c, first.id, { pinned: true });
    const notes = await kokyaku.notes.list(c, { customerId });
    expect(notes.nodes.map((n) => [n.body, n.pinned, n.authorId])).toEqual([
      ['Prefers calls in the morning.', true, 'staff-me'],
      ['Asked about bulk discounts.', false, 'staff-me'],
    ]);
    expect((await failure(kokyaku.notes.add(c, { body: 'About nobody' }))).details.field).toBe('customerId');
  });
});

describe('inquiries', () => {
  it('measures first response and resolution times', async () => {
    const c = ctx('support-1');
    const t0 = new Date('2026-10-01T01:00:00Z');
    const minutes = (n: number) => new Date(t0.getTime() + n * 60_000);
    const first = await kokyaku.inquiries.open(c, {
      customerExternalId: 'b-3',
      orderExternalId: 'bo-2-a',
      kind: 'COMPLAINT',
      channel: 'EMAIL',
      category: 'delivery',
      subject: 'Box arrived damaged',
      body: 'The box was crushed.',
      openedAt: t0,
    });
    expect(first).toMatchObject({ status: 'OPEN', firstResponseAt: null, kind: 'COMPLAINT' });
    await kokyaku.inquiries.reply(c, first.id, { body: 'Sorry! A replacement is on its way.', at: minutes(30) });
    await kokyaku.inquiries.reply(c, first.id, { body: 'Thank you.', direction: 'INBOUND', at: minutes(60) });
    await kokyaku.inquiries.reply(c, first.id, { body: 'Tracking number: 123', at: minutes(90) });
    const resolved = await kokyaku.inquiries.update(c, first.id, { status: 'RESOLVED', at: minutes(180) });
    expect(resolved).toMatchObject({ status: 'RESOLVED', firstResponseMinutes: 30, resolutionMinutes: 180 });
    expect((await kokyaku.inquiries.messages(c, [first.id])).get(first.id)!.map((m) => [m.direction, m.authorId])).toEqual([
      ['INBOUND', null],
      ['OUTBOUND', 'support-1'],
      ['INBOUND', null],
      ['OUTBOUND', 'support-1'],
    ]);

    const second = await kokyaku.inquiries.open(c, { customerExternalId: 'b-4', channel: 'PHONE', subject: 'Invoice address', openedAt: minutes(0) });
    await kokyaku.inquiries.reply(c, second.id, { body: 'Updated.', at: minutes(10) });
    await kokyaku.inquiries.update(c, second.id, { status: 'CLOSED', at: minutes(20) });
    await kokyaku.inquiries.open(c, { customerExternalId: 'b-5', channel: 'CHAT', subject: 'Still waiting', openedAt: minutes(5) });

    const stats = await kokyaku.inquiries.stats(c, { from: new Date('2026-10-01T00:00:00Z'), to: new Date('2026-10-02T00:00:00Z') });
    expect(stats).toEqual({
      opened: 3,
      responded: 2,
      resolved: 2,
      unresolved: 1,
      averageFirstResponseMinutes: 20,
      medianFirstResponseMinutes: 20,
      p90FirstResponseMinutes: 28,
      averageResolutionMinutes: 100,
      medianResolutionMinutes: 100,
      p90ResolutionMinutes: 164,
    });
    expect((await kokyaku.inquiries.stats(c, { from: t0, to: minutes(60 * 24), kind: 'COMPLAINT' })).opened).toBe(1);
    // Reopening clears the resolution.
    expect((await kokyaku.inquiries.update(c, first.id, { status: 'OPEN' })).resolvedAt).toBeNull();
    const inquiries = await count('inquiries');
    expect((await failure(kokyaku.inquiries.open(c, { customerExternalId: 'nobody', channel: 'EMAIL', subject: 'x' }))).details.field).toBe('customerExternalId');
    expect((await failure(kokyaku.inquiries.open(c, { customerExternalId: 'b-3', channel: 'FAX' as never, subject: 'x' }))).details.field).toBe('channel');
    expect((await failure(kokyaku.inquiries.reply(c, first.id, { body: 'too early', at: minutes(-5) }))).details.field).toBe('at');
    expect(await count('inquiries')).toBe(inquiries);
  });
});

describe('timeline', () => {
  it('merges every kind in time order and pages stably while new entries arrive', async () => {
    const c = ctx('staff-tl');
    await kokyaku.segments.create(c, { name: 'Repeat buyers', query: 'number_of_orders >= 2' });
    const at = (day: number) => new Date(Date.UTC(2026, 8, day, 3));
    await kokyaku.orders.record(c, [{ externalId: 'tl-o1', customerExternalId: 'tl-1', placedAt: at(1), lines: [line('tea', 1, 1200)] }]);
    await kokyaku.events.track(c, [
      { eventId: 'tl-e1', type: 'product_viewed', customerExternalId: 'tl-1', productExternalId: 'tea', occurredAt: at(2) },
      // Two at the same instant: ordered by kind, then id.
      { eventId: 'tl-e2', type: 'added_to_cart', customerExternalId: 'tl-1', productExternalId: 'tea', occurredAt: at(3) },
      { eventId: 'tl-e3', type: 'checkout_started', customerExternalId: 'tl-1', occurredAt: at(3) },
    ]);
    await kokyaku.orders.record(c, [{ externalId: 'tl-o2', customerExternalId: 'tl-1', placedAt: at(3), lines: [line('cup', 1, 3000)] }]);
    const customerId = await id('tl-1');
    await kokyaku.inquiries.open(c, { customerId, channel: 'LINE', subject: 'Gift wrapping?', openedAt: at(4) });
    await kokyaku.notes.add(c, { customerId, body: 'Loves green tea.' });
    await kokyaku.tasks.create(c, { title: 'Send a sample', customerId });
    const pipeline = (await kokyaku.deals.pipelines(c))[0]!;
    await kokyaku.deals.create(c, { pipelineId: pipeline.id, title: 'Corporate gifts', customerId });

    const all = await kokyaku.timeline.timeline(c, { customerId }, { first: 100 });
    const kinds = all.nodes.map((e) => e.kind);
    expect(new Set(kinds)).toEqual(new Set(['ORDER', 'EVENT', 'INQUIRY', 'NOTE', 'TASK', 'DEAL_STAGE', 'SEGMENT_ENTERED']));
    const times = all.nodes.map((e) => e.at.getTime());
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(all.nodes.filter((e) => e.at.getTime() === at(3).getTime()).map((e) => e.summary)).toEqual(['Order tl-o2 placed: ￥3,000', 'checkout_started', 'added_to_cart tea']);
    expect(all.nodes.find((e) => e.kind === 'NOTE')).toMatchObject({ actorId: 'staff-tl', summary: 'Note: Loves green tea.' });
    expect(all.nodes.find((e) => e.kind === 'SEGMENT_ENTERED')!.summary).toBe('Entered segment Repeat buyers');

    // Two at a time, with new entries arriving between pages: every old entry exactly once, in order.
    const seen: TimelineEntry[] = [];
    let after: string | null = null;
    for (let page = 0; page < 20; page++) {
      const result = await kokyaku.timeline.timeline(c, { customerId }, { first: 2, after });
      seen.push(...result.nodes);
      if (page === 1) await kokyaku.notes.add(c, { customerId, body: 'Arrived while paging.' });
      if (page === 2) await kokyaku.events.track(c, [{ eventId: 'tl-e4', type: 'product_viewed', customerExternalId: 'tl-1', occurredAt: at(3) }]);
      if (!result.hasNextPage) break;
      after = result.endCursor;
    }
    const expected = all.nodes.map((e) => e.id);
    expect(seen.map((e) => e.id).filter((x) => expected.includes(x))).toEqual(expected);
    expect(new Set(seen.map((e) => e.id)).size).toBe(seen.length);
    // Only some kinds.
    const orders = await kokyaku.timeline.timeline(c, { customerId }, { kinds: ['ORDER'] });
    expect(orders.nodes.map((e) => e.data.externalId)).toEqual(['tl-o2', 'tl-o1']);
    expect(orders.nodes[0]!.data).toMatchObject({ total: 3000, status: 'PLACED' });
  });

  it("streams a company's own notes and its contacts' activity", async () => {
    const c = ctx();
    const company = await kokyaku.companies.create(c, { name: 'Timeline Co', customFields: { plan: 'basic' } });
    await kokyaku.companies.addContact(c, company.id, { externalId: 'tl-1' });
    await kokyaku.notes.add(c, { companyId: company.id, body: 'Annual review in March.' });
    const stream = await kokyaku.timeline.timeline(c, { companyId: company.id }, { first: 100 });
    expect(stream.nodes[0]).toMatchObject({ kind: 'NOTE', customerId: null, summary: 'Note: Annual review in March.' });
    expect(stream.nodes.filter((e) => e.kind === 'ORDER')).toHaveLength(2);
    // Only kinds of the contacts (no company branch): the same orders.
    const orders = await kokyaku.timeline.timeline(c, { companyId: company.id }, { kinds: ['ORDER'] });
    expect(orders.nodes.map((e) => e.data.externalId)).toEqual(['tl-o2', 'tl-o1']);
  });
});

describe('lead scoring', () => {
  it('rises with behaviour, moves segments, and decays over time', async () => {
    const c = ctx();
    await kokyaku.customers.upsert(c, [{ externalId: 'lead-1', emailConsent: true }, { externalId: 'lead-2' }]);
    await kokyaku.scoring.setBands(c, { hot: 45, warm: 20 });
    await kokyaku.scoring.createRule(c, {
      name: 'Viewed three times in two weeks',
      activity: 'EVENT',
      eventType: 'product_viewed',
      minCount: 3,
      withinDays: 14,
      halfLifeDays: 7,
      points: 40,
    });
    await kokyaku.scoring.createRule(c, { name: 'Subscribed', condition: 'email_subscription_status = SUBSCRIBED', points: 10 });
    await kokyaku.scoring.createRule(c, { name: 'Complained', activity: 'INQUIRY', withinDays: 30, points: -5 });
    const hot = await kokyaku.segments.create(c, { name: 'Hot leads', query: 'score_band = HOT' });
    const lead = await id('lead-1');
    const score = async () => (await kokyaku.scoring.scores(c, [lead])).get(lead)!;
    expect(await score()).toMatchObject({ score: 10, band: 'COLD' });

    const t0 = new Date(Date.now() - 60_000);
    const view = (n: number) => ({ eventId: `lead-v${n}`, type: 'product_viewed', customerExternalId: 'lead-1', productExternalId: 'tea', occurredAt: t0 });
    await kokyaku.events.track(c, [view(1), view(2)]);
    expect((await score()).score).toBe(10);
    await kokyaku.events.track(c, [view(3)]);
    const risen = await score();
    expect(risen.band).toBe('HOT');
    expect(risen.score).toBeCloseTo(50, 1);
    expect((await kokyaku.segments.customers(c, 'score >= 45')).nodes.map((n) => n.externalId)).toEqual(['lead-1']);
    expect((await kokyaku.segments.changes(c, { customerId: lead })).filter((x) => x.segmentId === hot.id).map((x) => x.change)).toEqual(['ENTERED']);
    expect((await kokyaku.scoring.explain(c, lead)).map((x) => [x.ruleName, Math.round(x.points)])).toEqual([
      ['Viewed three times in two weeks', 40],
      ['Subscribed', 10],
    ]);
    // An inquiry takes 5 points off at once.
    await kokyaku.inquiries.open(c, { customerId: lead, channel: 'EMAIL', subject: 'Where is my order?', openedAt: t0 });
    expect((await score()).score).toBeCloseTo(45, 1);

    // A week later: half the viewing points are gone; it leaves the segment.
    await kokyaku.refresh({ now: new Date(t0.getTime() + 7 * 86_400_000) });
    const week = await score();
    expect(week.score).toBeCloseTo(20 + 10 - 5, 1);
    expect(week.band).toBe('WARM');
    expect((await kokyaku.segments.changes(c, { customerId: lead })).filter((x) => x.segmentId === hot.id).map((x) => x.change)).toEqual(['ENTERED', 'LEFT']);
    // Past the two-week window the views no longer count at all.
    await kokyaku.refresh({ now: new Date(t0.getTime() + 15 * 86_400_000) });
    expect((await score()).score).toBeCloseTo(10 - 5, 1);
    expect((await kokyaku.scoring.scores(c, [await id('lead-2')])).get(await id('lead-2'))).toMatchObject({ score: 0, band: 'COLD' });
  });

  it('refuses rules that cannot work, naming the field', async () => {
    const c = ctx();
    const field = async (input: Parameters<Kokyaku['scoring']['createRule']>[1]) => (await failure(kokyaku.scoring.createRule(c, input))).details.field;
    expect(await field({ name: 'x', activity: 'EVENT', points: 5 })).toBe('eventType');
    expect(await field({ name: 'x', points: 5 })).toBe('condition');
    expect(await field({ name: 'x', points: 5, condition: 'amount_spent >' })).toBe('condition');
    expect(await field({ name: 'x', points: 5, condition: 'score > 3' })).toBe('condition');
    expect(await field({ name: 'x', points: 0, condition: 'amount_spent > 3' })).toBe('points');
    expect(await field({ name: 'Subscribed', points: 5, condition: 'amount_spent > 3' })).toBe('name');
    expect(await field({ name: 'x', points: 5, condition: 'amount_spent > 3', halfLifeDays: 3 })).toBe('halfLifeDays');
  });
});

describe('merges and erasure', () => {
  it('moves notes, tasks, inquiries, deals and companies to the survivor of a merge', async () => {
    const c = ctx();
    await kokyaku.customers.upsert(c, [{ externalId: 'm-keep' }, { externalId: 'm-gone' }]);
    const [keep, gone] = [await id('m-keep'), await id('m-gone')];
    const company = await kokyaku.companies.create(c, { name: 'Merge Co', customFields: { plan: 'basic' } });
    await kokyaku.companies.addContact(c, company.id, { id: gone }, { title: 'Owner' });
    await kokyaku.notes.add(c, { customerId: gone, body: 'Met at the fair.' });
    await kokyaku.tasks.create(c, { customerId: gone, title: 'Send the brochure' });
    await kokyaku.inquiries.open(c, { customerId: gone, channel: 'PHONE', subject: 'Opening hours' });
    const pipeline = (await kokyaku.deals.pipelines(c))[0]!;
    await kokyaku.deals.create(c, { pipelineId: pipeline.id, title: 'Fair order', customerId: gone });
    await kokyaku.identity.merge(c, keep, [gone]);
    expect((await kokyaku.notes.list(c, { customerId: keep })).nodes.map((n) => n.body)).toEqual(['Met at the fair.']);
    expect((await kokyaku.tasks.list(c, { customerId: keep })).nodes.map((t) => t.title)).toEqual(['Send the brochure']);
    expect((await kokyaku.inquiries.list(c, { customerId: keep })).nodes.map((i) => i.subject)).toEqual(['Opening hours']);
    expect((await kokyaku.deals.list(c, { customerId: keep })).nodes.map((d) => d.title)).toEqual(['Fair order']);
    expect((await kokyaku.companies.companiesOfCustomers(c, [keep])).get(keep)).toMatchObject([{ companyId: company.id, title: 'Owner' }]);
  });

  it('erases what was written about a customer, keeping inquiry times', async () => {
    const c = ctx();
    await kokyaku.customers.upsert(c, [{ externalId: 'e-1', email: 'erase.me@example.jp' }]);
    const customerId = await id('e-1');
    await kokyaku.notes.add(c, { customerId, body: 'Wrote from erase.me@example.jp' });
    const task = await kokyaku.tasks.create(c, { customerId, title: 'Call erase.me@example.jp' });
    const inquiry = await kokyaku.inquiries.open(c, {
      customerId,
      channel: 'EMAIL',
      subject: 'From erase.me@example.jp',
      body: 'Reach me at erase.me@example.jp',
      openedAt: new Date('2026-11-01T00:00:00Z'),
    });
    await kokyaku.inquiries.reply(c, inquiry.id, { body: 'Dear erase.me@example.jp', at: new Date('2026-11-01T01:00:00Z') });
    await kokyaku.privacy.eraseCustomer(c, { id: customerId });
    const found = await sql<{ n: number }>(
      c.em,
      `select (select count(*) from kokyaku.notes where body like '%erase.me%') + (select count(*) from kokyaku.tasks where title like '%erase.me%')
            + (select count(*) from kokyaku.inquiries where subject like '%erase.me%') + (select count(*) from kokyaku.inquiry_messages where body like '%erase.me%') as n`,
    );
    expect(Number(found[0]!.n)).toBe(0);
    expect((await kokyaku.inquiries.get(c, inquiry.id))!.firstResponseMinutes).toBe(60);
    expect((await kokyaku.tasks.get(c, task.id))!.title).toBe('(erased)');
  });
});

describe('shop erasure', () => {
  it('deletes every CRM record of a shop, children before parents, and leaves other shops alone', async () => {
    const c = kokyaku.context({ tenantId: 'leaving-shop', actor: { id: 'staff', roles: ['ADMIN'] } });
    await kokyaku.orders.record(c, [{ externalId: 'x-1', customerExternalId: 'x-c', placedAt: '2026-10-01T00:00:00Z', lines: [line('tea', 1, 500)] }]);
    const customerId = (await kokyaku.customers.findByExternalId(c, 'x-c'))!.id;
    await kokyaku.customFields.define(c, { entity: 'DEAL', key: 'seats', type: 'NUMBER' });
    const parent = await kokyaku.companies.create(c, { name: 'Parent' });
    const child = await kokyaku.companies.create(c, { name: 'Child', parentId: parent.id });
    await kokyaku.companies.addContact(c, child.id, { id: customerId });
    const pipeline = await kokyaku.deals.createPipeline(c, {
      name: 'P',
      stages: [
        { name: 'A', probability: 0.5 },
        { name: 'B', probability: 1, outcome: 'WON' },
      ],
    });
    const deal = await kokyaku.deals.create(c, { pipelineId: pipeline.id, title: 'D', companyId: child.id, customerId, customFields: { seats: 3 } });
    await kokyaku.deals.move(c, deal.id, pipeline.stages[1]!.id);
    await kokyaku.deals.linkOrders(c, deal.id, ['x-1']);
    await kokyaku.notes.add(c, { dealId: deal.id, body: 'n' });
    await kokyaku.tasks.create(c, { title: 't', dealId: deal.id, companyId: child.id, customerId, orderExternalId: 'x-1' });
    const inquiry = await kokyaku.inquiries.open(c, { customerId, channel: 'EMAIL', subject: 's', body: 'b' });
    await kokyaku.inquiries.reply(c, inquiry.id, { body: 'r' });
    await kokyaku.scoring.setBands(c, { hot: 5, warm: 1 });
    await kokyaku.scoring.createRule(c, { name: 'Ordered', activity: 'ORDER', points: 10 });
    const others = await count('companies');
    const { rows } = await kokyaku.privacy.eraseShop(c);
    expect(rows).toBeGreaterThan(15);
    const left = await sql<{ n: string }>(
      kokyaku.context({ tenantId: 'leaving-shop' }).em,
      `select (select count(*) from kokyaku.companies) + (select count(*) from kokyaku.deals) + (select count(*) from kokyaku.lead_scores)
            + (select count(*) from kokyaku.inquiry_messages) + (select count(*) from kokyaku.scoring_settings) + (select count(*) from kokyaku.customers) as n`,
    );
    expect(Number(left[0]!.n)).toBe(0);
    expect(await count('companies')).toBe(others);
  });
});
