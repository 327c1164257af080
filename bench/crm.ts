import { type Kokyaku, sql } from '@kokyaku/core';
import { eventStream } from './ingestion.js';
import { percentile, time } from './stats.js';

/**
 * CRM records on the seeded shop, each against a baseline measured in the same run:
 *
 * - timeline: the first page (20) and the tenth page of a busy customer's timeline (orders, 3,000
 *   events, 200 notes, 100 tasks, segment changes) against the plain way: read every entry of
 *   each kind for the customer, merge and sort in JavaScript, slice the page;
 * - company rollup: `companies.subtree` of the root of a tree of 11,111 companies (depth 4, ten
 *   children each) with up to 50,000 contact customers, against the app-side way: one query for
 *   the tree, one for each company's contacts' revenue, and the sums rolled up in JavaScript;
 * - lead scoring on ingestion: the same stream of events through `events.track` with three
 *   scoring rules and a score-reading segment, against none;
 * - a full rescore of every customer, against the RFM scoring of every customer.
 */
export interface CrmBenchRow {
  name: string;
  kokyaku: string;
  baseline: string;
  ratio: string;
}

const fmt = (n: number) => (n < 10 ? `${n.toFixed(2)} ms` : `${n.toFixed(1)} ms`);

export async function benchCrm(
  kokyaku: Kokyaku,
  options: { customers: number; products: number; rounds: number; events: number },
  log: (line: string) => void,
): Promise<CrmBenchRow[]> {
  const ctx = kokyaku.context({ actor: { id: 'bench', roles: ['ADMIN'] } });
  const rows: CrmBenchRow[] = [];

  // Timeline of one busy customer.
  const busy = `C${Math.min(options.customers, 7)}`;
  const customerId = (await kokyaku.customers.findByExternalId(ctx, busy))!.id;
  for (let b = 0; b < 3; b++) {
    await kokyaku.events.track(
      ctx,
      Array.from({ length: 1000 }, (_, k) => ({
        eventId: `tl-${b}-${k}`,
        type: k % 3 ? 'product_viewed' : 'added_to_cart',
        customerExternalId: busy,
        productExternalId: `P${1 + ((k * 31) % options.products)}`,
        occurredAt: new Date(Date.now() - (b * 1000 + k) * 60_000),
      })),
    );
  }
  for (let n = 0; n < 200; n++) await kokyaku.notes.add(ctx, { customerId, body: `Note ${n}: called about the order.`, pinned: n % 50 === 0 });
  for (let n = 0; n < 100; n++) await kokyaku.tasks.create(ctx, { customerId, title: `Follow up ${n}`, dueAt: new Date(Date.now() + n * 86_400_000) });
  // Statistics, as autovacuum would gather them (a tenant role may not analyze): without any, the
  // planner reads all 3,000 events of the customer through a bitmap and sorts them (12 ms, not 2).
  await kokyaku.orm.em.getKnex().raw('analyze kokyaku.events, kokyaku.notes, kokyaku.tasks');
  const firstPage: number[] = [];
  const tenthPage: number[] = [];
  const naive: number[] = [];
  for (let round = 0; round < options.rounds; round++) {
    firstPage.push(await time(() => kokyaku.timeline.timeline(ctx, { customerId }, { first: 20 })));
    let after: string | null = null;
    for (let page = 0; page < 9; page++) after = (await kokyaku.timeline.timeline(ctx, { customerId }, { first: 20, after })).endCursor;
    tenthPage.push(await time(() => kokyaku.timeline.timeline(ctx, { customerId }, { first: 20, after })));
    naive.push(await time(() => naiveTimeline(kokyaku, customerId)));
  }
  const [f, t, n] = [percentile(firstPage, 50), percentile(tenthPage, 50), percentile(naive, 50)];
  rows.push({ name: 'timeline, first page of 20 (3,300+ entries)', kokyaku: fmt(f), baseline: `${fmt(n)} (read all, sort in JS)`, ratio: `${(n / f).toFixed(1)}x` });
  rows.push({ name: 'timeline, tenth page of 20', kokyaku: fmt(t), baseline: `${fmt(n)} (read all, sort in JS)`, ratio: `${(n / t).toFixed(1)}x` });
  log(`  timeline: first page ${fmt(f)}, tenth ${fmt(t)}, read-all ${fmt(n)}`);

  // A company tree of depth 4, ten children each, seeded in SQL.
  const em = ctx.em;
  const [root] = await sql<{ id: string }>(em, `insert into kokyaku.companies (tenant_id, name) values ('default', 'Bench group') returning id::text as id`);
  let level = [root!.id];
  for (let depth = 1; depth <= 4; depth++) {
    level = (
      await sql<{ id: string }>(
        em,
        `insert into kokyaku.companies (tenant_id, name, parent_id)
       select 'default', 'Bench ' || p || '-' || k, p from unnest(kokyaku.json_bigints($1::jsonb)) as p, generate_series(1, 10) as k returning id::text as id`,
        [JSON.stringify(level)],
      )
    ).map((r) => r.id);
  }
  const contacts = Math.min(options.customers, 50_000);
  await sql(
    em,
    `insert into kokyaku.company_contacts (tenant_id, company_id, customer_id)
     select 'default', co.id, c.id from (select id, row_number() over (order by id) as n from kokyaku.companies where tenant_id = 'default' and name like 'Bench %') co
     join (select id, row_number() over (order by id) as n from kokyaku.customers where tenant_id = 'default' limit $1) c on c.n % 11111 = co.n % 11111
     on conflict do nothing`,
    [contacts],
  );
  await kokyaku.orm.em.getKnex().raw('analyze kokyaku.companies, kokyaku.company_contacts');
  const rollup: number[] = [];
  const breakdown: number[] = [];
  const appSide: number[] = [];
  const appSidePerNode: number[] = [];
  const check = { ours: 0, tree: 0, theirs: 0, perNode: 0 };
  for (let round = 0; round < Math.max(3, Math.ceil(options.rounds / 3)); round++) {
    rollup.push(await time(async () => (check.ours = (await kokyaku.companies.rollup(ctx, root!.id)).revenue)));
    breakdown.push(await time(async () => (check.tree = (await kokyaku.companies.subtree(ctx, root!.id))[0]!.subtreeRevenue)));
    appSide.push(await time(async () => (check.theirs = (await appSideRollup(kokyaku, root!.id)).get(root!.id)!)));
    appSidePerNode.push(await time(async () => (check.perNode = (await appSideRollup(kokyaku, root!.id, { everyNode: true })).get(root!.id)!)));
  }
  if (new Set(Object.values(check)).size !== 1) throw new Error(`company rollup: the figures differ: ${JSON.stringify(check)}`);
  const [r, b, a, ap] = [percentile(rollup, 50), percentile(breakdown, 50), percentile(appSide, 50), percentile(appSidePerNode, 50)];
  rows.push({
    name: `company rollup, one figure (11,111 companies, ${contacts.toLocaleString('en')} contacts)`,
    kokyaku: fmt(r),
    baseline: `${fmt(a)} (app-side rollup)`,
    ratio: `${(a / r).toFixed(1)}x`,
  });
  rows.push({ name: 'company subtree, every company with its rollup', kokyaku: fmt(b), baseline: `${fmt(ap)} (app-side, every company)`, ratio: `${(ap / b).toFixed(1)}x` });
  log(`  company rollup ${fmt(r)} (app-side ${fmt(a)}), subtree ${fmt(b)} (app-side ${fmt(ap)})`);

  // Lead scoring on ingestion: the same events with three rules and a segment reading the score, and without.
  const send = async (prefix: string) => {
    const events = eventStream(options.events, options.customers, options.products, prefix);
    return time(async () => {
      for (let i = 0; i < events.length; i += 1000) await kokyaku.events.track(ctx, events.slice(i, i + 1000));
    });
  };
  await send('warm-');
  const without = await send('plain-');
  const rules = [
    await kokyaku.scoring.createRule(ctx, {
      name: 'Viewed 3 times this week',
      activity: 'EVENT',
      eventType: 'product_viewed',
      minCount: 3,
      withinDays: 7,
      halfLifeDays: 7,
      points: 30,
    }),
    await kokyaku.scoring.createRule(ctx, { name: 'Ordered', activity: 'ORDER', halfLifeDays: 30, points: 20 }),
    await kokyaku.scoring.createRule(ctx, { name: 'Subscribed', condition: 'email_subscription_status = SUBSCRIBED', points: 10 }),
  ];
  const segment = await kokyaku.segments.create(ctx, { name: 'Bench hot leads', query: 'score_band = HOT' });
  const withRules = await send('scored-');
  rows.push({
    name: `${options.events.toLocaleString('en')} events through events.track with 3 scoring rules`,
    kokyaku: `${(withRules / 1000).toFixed(2)} s`,
    baseline: `${(without / 1000).toFixed(2)} s (no rules)`,
    ratio: `${(without / withRules).toFixed(2)}x`,
  });
  log(`  events with scoring: ${(withRules / 1000).toFixed(2)} s, without ${(without / 1000).toFixed(2)} s`);

  const rescore = await time(() => kokyaku.scoring.score(ctx, null));
  const rfm = await time(() => kokyaku.analytics.refreshScores(ctx));
  rows.push({
    name: `full rescore of ${options.customers.toLocaleString('en')} customers (3 rules)`,
    kokyaku: fmt(rescore),
    baseline: `${fmt(rfm)} (RFM scoring of everyone)`,
    ratio: `${(rfm / rescore).toFixed(2)}x`,
  });
  log(`  full rescore ${fmt(rescore)}, RFM ${fmt(rfm)}`);
  for (const rule of rules) await kokyaku.scoring.deleteRule(ctx, rule.id);
  await kokyaku.segments.delete(ctx, segment.id);
  return rows;
}

/** Every entry of each kind for the customer, merged and sorted in JavaScript. */
async function naiveTimeline(kokyaku: Kokyaku, customerId: string) {
  const ctx = kokyaku.context();
  const p = [ctx.tenantId, customerId];
  const all = [
    ...(await sql<{ at: Date }>(ctx.em, `select placed_at as at, id, external_id, total_minor, status from kokyaku.orders where tenant_id = $1 and customer_id = $2::bigint`, p)),
    ...(await sql<{ at: Date }>(ctx.em, `select occurred_at as at, id, type, properties from kokyaku.events where tenant_id = $1 and customer_id = $2::bigint`, p)),
    ...(await sql<{ at: Date }>(ctx.em, `select created_at as at, id, body from kokyaku.notes where tenant_id = $1 and customer_id = $2::bigint`, p)),
    ...(await sql<{ at: Date }>(ctx.em, `select created_at as at, id, title from kokyaku.tasks where tenant_id = $1 and customer_id = $2::bigint`, p)),
    ...(await sql<{ at: Date }>(ctx.em, `select opened_at as at, id, subject from kokyaku.inquiries where tenant_id = $1 and customer_id = $2::bigint`, p)),
    ...(await sql<{ at: Date }>(ctx.em, `select occurred_at as at, id, change from kokyaku.segment_changes where tenant_id = $1 and customer_id = $2::bigint`, p)),
  ];
  return all.sort((x, y) => new Date(y.at).getTime() - new Date(x.at).getTime()).slice(0, 20);
}

/**
 * The app-side way: the whole tree in one query, every contact's spend in another, the sums rolled
 * up in JavaScript (a customer counted once per subtree). The root's figure, or every company's.
 */
async function appSideRollup(kokyaku: Kokyaku, rootId: string, options: { everyNode?: boolean } = {}): Promise<Map<string, number>> {
  const ctx = kokyaku.context();
  const companies = await sql<{ id: string; parent_id: string | null; name: string }>(
    ctx.em,
    `select id::text as id, parent_id::text as parent_id, name from kokyaku.companies where tenant_id = $1`,
    [ctx.tenantId],
  );
  const spend = await sql<{ company_id: string; customer_id: string; minor: string }>(
    ctx.em,
    `select ct.company_id::text as company_id, ct.customer_id::text as customer_id, coalesce(f.total_spent_minor, 0)::text as minor
     from kokyaku.company_contacts ct left join kokyaku.customer_facts f on f.customer_id = ct.customer_id where ct.tenant_id = $1`,
    [ctx.tenantId],
  );
  const children = new Map<string, string[]>();
  for (const c of companies) if (c.parent_id) children.set(c.parent_id, [...(children.get(c.parent_id) ?? []), c.id]);
  const byCompany = new Map<string, { customer: string; minor: number }[]>();
  for (const s of spend) byCompany.set(s.company_id, [...(byCompany.get(s.company_id) ?? []), { customer: s.customer_id, minor: Number(s.minor) }]);
  const totals = new Map<string, number>();
  // Post-order: each company's customers are its own plus its children's.
  const customersOf = (id: string): Map<string, number> => {
    const seen = new Map<string, number>();
    for (const s of byCompany.get(id) ?? []) seen.set(s.customer, s.minor);
    for (const child of children.get(id) ?? []) {
      for (const [customer, minor] of customersOf(child)) seen.set(customer, minor);
    }
    if (options.everyNode || id === rootId)
      totals.set(
        id,
        [...seen.values()].reduce((sum, minor) => sum + minor, 0),
      );
    return seen;
  };
  customersOf(rootId);
  return totals;
}
