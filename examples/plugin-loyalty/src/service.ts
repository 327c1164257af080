import { type KokyakuContext, KokyakuError, type PluginOrderChange, asDate, currencyDigits, sql, sqlOne, transaction } from '@kokyaku/core';

export interface LoyaltyOptions {
  /** Points per one unit of the shop currency spent (default 0.01: 1 point per ¥100 or per $100). */
  pointsPerUnit?: number;
  /** Days after which earned or awarded points expire, oldest first (default 365; null: never). */
  expiryDays?: number | null;
}

import { LedgerEntrySchema } from './entities.js';
import { ENTRY_KINDS, type EntryKind } from './kinds.js';

export { ENTRY_KINDS, type EntryKind };

export interface LoyaltyAccount {
  customerId: string;
  balance: number;
  lifetimeEarned: number;
}

export interface LedgerEntry {
  id: string;
  customerId: string;
  kind: EntryKind;
  points: number;
  orderId: string | null;
  reason: string | null;
  expiresAt: Date | null;
  createdAt: Date;
}

interface EntryRow {
  id: string;
  customer_id: string;
  kind: EntryKind;
  points: number;
  order_id: string | null;
  reason: string | null;
  expires_at: Date | string | null;
  created_at: Date | string;
}

const ENTRY_COLUMNS = `id::text as id, customer_id::text as customer_id, kind, points, order_id::text as order_id, reason, expires_at, created_at`;
const mapEntry = (r: EntryRow): LedgerEntry => ({
  id: r.id,
  customerId: r.customer_id,
  kind: r.kind,
  points: r.points,
  orderId: r.order_id,
  reason: r.reason,
  expiresAt: asDate(r.expires_at),
  createdAt: asDate(r.created_at)!,
});

/**
 * Books entries: `entries` is a data-modifying statement returning the new entries' customer_id,
 * kind and points; their sums are added to the accounts in the same statement. Balances move by
 * increments under the account's row lock, so two transactions booking for one customer at once
 * both count (a recomputation from each one's snapshot would let the later overwrite the earlier).
 */
const book = (entries: string) => `
  with entries as (${entries}),
  applied as (
    insert into kokyaku.loyalty_accounts as a (customer_id, tenant_id, balance, lifetime_earned, updated_at)
    select customer_id, $1, sum(points), coalesce(sum(points) filter (where kind in ('EARN', 'AWARD', 'REVERSE')), 0), now()
    from entries group by customer_id
    on conflict (customer_id, tenant_id) do update set balance = a.balance + excluded.balance, lifetime_earned = a.lifetime_earned + excluded.lifetime_earned, updated_at = excluded.updated_at
  )
  select distinct customer_id::text as customer_id from entries`;

/**
 * The points ledger. Every change is an entry with a key of its source (an order, a redemption's
 * idempotency key, a journey step), unique per shop: recording the same thing twice adds nothing.
 */
export class LoyaltyService {
  readonly pointsPerUnit: number;
  readonly expiryDays: number | null;

  constructor(options: LoyaltyOptions = {}) {
    this.pointsPerUnit = options.pointsPerUnit ?? 0.01;
    this.expiryDays = options.expiryDays === undefined ? 365 : options.expiryDays;
    if (!(this.pointsPerUnit > 0)) throw new Error('loyalty: pointsPerUnit must be more than 0.');
    if (this.expiryDays !== null && !(Number.isInteger(this.expiryDays) && this.expiryDays > 0)) throw new Error('loyalty: expiryDays must be a positive whole number or null.');
  }

  /** Accounts by customer id (a customer without entries has 0). */
  async accounts(ctx: KokyakuContext, customerIds: readonly string[]): Promise<LoyaltyAccount[]> {
    const rows = await sql<{ customer_id: string; balance: number; lifetime_earned: number }>(
      ctx.em,
      `select customer_id::text as customer_id, balance, lifetime_earned from kokyaku.loyalty_accounts
       where tenant_id = $1 and customer_id = any(kokyaku.json_bigints($2::jsonb))`,
      [ctx.tenantId, JSON.stringify(customerIds.filter((id) => /^\d{1,18}$/.test(id)))],
    );
    const found = new Map(rows.map((r) => [r.customer_id, r]));
    return customerIds.map((id) => ({ customerId: id, balance: found.get(id)?.balance ?? 0, lifetimeEarned: found.get(id)?.lifetime_earned ?? 0 }));
  }

  /** A customer's entries, newest first. */
  async ledger(ctx: KokyakuContext, customerId: string, first = 20): Promise<LedgerEntry[]> {
    const rows = await sql<EntryRow>(
      ctx.em,
      `select ${ENTRY_COLUMNS} from kokyaku.loyalty_ledger where tenant_id = $1 and customer_id = $2::bigint order by loyalty_ledger.id desc limit $3`,
      [ctx.tenantId, customerId, Math.min(Math.max(first, 1), 200)],
    );
    return rows.map(mapEntry);
  }

  private expiry(from: string): string {
    return this.expiryDays === null ? 'null::timestamptz' : `${from} + make_interval(days => ${this.expiryDays})`;
  }

  /**
   * Orders changed: each order's points become what it earns now (PLACED: its total times the
   * rate; cancelled: nothing), by an entry for the difference. Placed, cancelled and placed again
   * comes out right, and the same batch twice adds nothing.
   */
  async syncOrders(ctx: KokyakuContext, orders: readonly PluginOrderChange[]): Promise<string[]> {
    if (orders.length === 0) return [];
    const scale = 10 ** currencyDigits(ctx.shop.currency);
    // Runs in the orders' transaction, which holds their rows: batches of one order take turns.
    const rows = await sql<{ customer_id: string }>(
      ctx.em,
      book(`
        with wanted as (
          select o.id as order_id, o.customer_id, o.placed_at,
                 case when o.status = 'PLACED' then floor(o.total_minor::numeric / $3::numeric * $4::numeric)::int else 0 end as points
          from kokyaku.orders o where o.tenant_id = $1 and o.id = any(kokyaku.json_bigints($2::jsonb))
        ),
        -- Per order, a probe of the order index: what is booked for it so far.
        booked as (
          select w.*, b.booked, b.entries from wanted w
          cross join lateral (
            select coalesce(sum(l.points), 0)::int as booked, count(*)::int as entries
            from kokyaku.loyalty_ledger l where l.tenant_id = $1 and l.order_id = w.order_id and l.kind in ('EARN', 'REVERSE')
          ) b
        )
        insert into kokyaku.loyalty_ledger (tenant_id, customer_id, kind, points, order_id, source_key, expires_at)
        select $1, customer_id, case when points > booked then 'EARN' else 'REVERSE' end, points - booked, order_id,
               'order:' || order_id || ':' || entries, case when points > booked then ${this.expiry('placed_at')} end
        from booked where points <> booked
        on conflict (tenant_id, source_key) do nothing
        returning customer_id, kind, points`),
      [ctx.tenantId, JSON.stringify(orders.map((o) => o.orderId)), scale, this.pointsPerUnit],
    );
    return rows.map((r) => r.customer_id);
  }

  /**
   * Books the points of every order recorded before the plugin was installed (each order once:
   * running it again books nothing). Returns how many orders it looked at.
   */
  async backfill(ctx: KokyakuContext, batchSize = 10_000): Promise<number> {
    let after = '0';
    let seen = 0;
    for (;;) {
      const ids = (
        await sql<{ id: string }>(ctx.em, `select id::text as id from kokyaku.orders where tenant_id = $1 and id > $2::bigint order by orders.id limit $3`, [
          ctx.tenantId,
          after,
          batchSize,
        ])
      ).map((r) => r.id);
      if (ids.length === 0) return seen;
      await this.syncOrders(
        ctx,
        ids.map((orderId) => ({ orderId, customerId: '', placed: true, wasPlaced: false })),
      );
      seen += ids.length;
      after = ids.at(-1)!;
    }
  }

  /**
   * Adds points to a customer (a journey step, a goodwill gesture). `key` makes it idempotent:
   * the same key again adds nothing and returns false.
   */
  async award(ctx: KokyakuContext, input: { customerId: string; points: number; reason?: string | null; key: string }): Promise<boolean> {
    if (!Number.isInteger(input.points) || input.points < 1) throw KokyakuError.badInput('points: Must be a whole number of at least 1.', { field: 'points' });
    const rows = await sql(
      ctx.em,
      book(`
        insert into kokyaku.loyalty_ledger (tenant_id, customer_id, kind, points, reason, source_key, expires_at)
        select $1, c.id, 'AWARD', $3, $4, 'award:' || $5, ${this.expiry('now()')} from kokyaku.customers c where c.tenant_id = $1 and c.id = $2::bigint
        on conflict (tenant_id, source_key) do nothing
        returning customer_id, kind, points`),
      [ctx.tenantId, input.customerId, input.points, input.reason ?? null, input.key],
    );
    return rows.length > 0;
  }

  /**
   * Spends points. Fails with BAD_USER_INPUT (field `points`) when the balance is short. The same
   * `idempotencyKey` again changes nothing and answers the account as it is.
   */
  async redeem(ctx: KokyakuContext, input: { customerId: string; points: number; idempotencyKey: string; reason?: string | null }): Promise<LoyaltyAccount> {
    if (!Number.isInteger(input.points) || input.points < 1) throw KokyakuError.badInput('points: Must be a whole number of at least 1.', { field: 'points' });
    if (!input.idempotencyKey || input.idempotencyKey.length > 200) throw KokyakuError.badInput('idempotencyKey: 1-200 characters.', { field: 'idempotencyKey' });
    return transaction(ctx, async (em) => {
      const tx = { ...ctx, em };
      // The account row is the lock: two redemptions of one customer take turns, and the second
      // reads the balance the first left.
      await sql(
        em,
        `insert into kokyaku.loyalty_accounts (customer_id, tenant_id) select id, $1 from kokyaku.customers where tenant_id = $1 and id = $2::bigint on conflict (customer_id, tenant_id) do nothing`,
        [ctx.tenantId, input.customerId],
      );
      const account = await sqlOne<{ balance: number }>(em, `select balance from kokyaku.loyalty_accounts where tenant_id = $1 and customer_id = $2::bigint for update`, [
        ctx.tenantId,
        input.customerId,
      ]);
      if (!account) throw KokyakuError.notFound('Customer', input.customerId);
      const done = await sqlOne(em, `select 1 from kokyaku.loyalty_ledger where tenant_id = $1 and source_key = $2`, [ctx.tenantId, `redeem:${input.idempotencyKey}`]);
      if (!done) {
        if (account.balance < input.points) {
          throw KokyakuError.badInput(`points: ${input.points} points asked, ${account.balance} available.`, { field: 'points', available: account.balance });
        }
        await sql(
          em,
          book(
            `insert into kokyaku.loyalty_ledger (tenant_id, customer_id, kind, points, reason, source_key) values ($1, $2::bigint, 'REDEEM', $3, $4, $5) returning customer_id, kind, points`,
          ),
          [ctx.tenantId, input.customerId, -input.points, input.reason ?? null, `redeem:${input.idempotencyKey}`],
        );
      }
      return (await this.accounts(tx, [input.customerId]))[0]!;
    });
  }

  /**
   * Expires points, oldest first: what a customer earned or was awarded that has expired, less
   * everything spent, expired or reversed so far (which used the oldest points), goes. Returns the
   * customers whose balance fell.
   */
  async expire(ctx: KokyakuContext, now: Date): Promise<string[]> {
    if (this.expiryDays === null) return [];
    return transaction(ctx, async (em) => {
      // The accounts with points due first, locked: a redemption at the same moment waits, and
      // the expiry below counts what it spent.
      await sql(
        em,
        `select 1 from kokyaku.loyalty_accounts where tenant_id = $1 and balance > 0 and customer_id in (
           select customer_id from kokyaku.loyalty_ledger where tenant_id = $1 and kind in ('EARN', 'AWARD') and expires_at <= $2)
         order by customer_id for update`,
        [ctx.tenantId, now],
      );
      const rows = await sql<{ customer_id: string }>(
        em,
        book(`with due as (
         select customer_id,
                coalesce(sum(points) filter (where kind in ('EARN', 'AWARD') and expires_at <= $2), 0)
                  + coalesce(sum(points) filter (where kind in ('REDEEM', 'EXPIRE', 'REVERSE')), 0) as lapsing,
                sum(points) as balance
         from kokyaku.loyalty_ledger where tenant_id = $1 group by customer_id
       )
       insert into kokyaku.loyalty_ledger (tenant_id, customer_id, kind, points, source_key, created_at)
       select $1, customer_id, 'EXPIRE', -least(lapsing, balance), 'expire:' || customer_id || ':' || $3, $2
       from due where lapsing > 0 and balance > 0
       on conflict (tenant_id, source_key) do nothing
       returning customer_id, kind, points`),
        [ctx.tenantId, now, now.toISOString()],
      );
      return rows.map((r) => r.customer_id);
    });
  }

  /** Merged customers' entries move to the survivor. */
  async merge(ctx: KokyakuContext, survivorId: string, mergedIds: readonly string[]): Promise<void> {
    await sql(
      ctx.em,
      book(
        `update kokyaku.loyalty_ledger set customer_id = $2::bigint where tenant_id = $1 and customer_id = any(kokyaku.json_bigints($3::jsonb)) returning customer_id, kind, points`,
      ),
      [ctx.tenantId, survivorId, JSON.stringify(mergedIds)],
    );
    // Their own accounts go with their rows (on delete cascade).
  }

  /** Erasure: the amounts stay (the shop's liabilities must add up), the words staff wrote go. */
  async erase(ctx: KokyakuContext, customerId: string): Promise<void> {
    await sql(ctx.em, `update kokyaku.loyalty_ledger set reason = null where tenant_id = $1 and customer_id = $2::bigint and reason is not null`, [ctx.tenantId, customerId]);
  }

  /**
   * Everything the plugin holds about a customer, for the data export. Read through the plugin's
   * MikroORM entity, in a transaction: it enters the shop, so only this shop's rows are visible.
   */
  async export(ctx: KokyakuContext, customerId: string): Promise<{ account: LoyaltyAccount; entries: LedgerEntry[] }> {
    const entries = await transaction(ctx, (em) => em.find(LedgerEntrySchema, { customerId }, { orderBy: { id: 'asc' } }));
    return {
      account: (await this.accounts(ctx, [customerId]))[0]!,
      entries: entries.map((e) => ({
        id: e.id,
        customerId: e.customerId,
        kind: e.kind,
        points: e.points,
        orderId: e.orderId ?? null,
        reason: e.reason ?? null,
        expiresAt: e.expiresAt ?? null,
        createdAt: e.createdAt,
      })),
    };
  }
}
