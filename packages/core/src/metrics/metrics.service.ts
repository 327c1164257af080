import type { KokyakuContext } from '../shared/context.js';
import { sql } from '../shared/sql.js';

const RECOMPUTE = (filter: string) => `
  update kokyaku.customer_facts f
  set orders_count = a.orders_count, total_spent_minor = a.total_spent_minor,
      average_order_value_minor = a.average_order_value_minor,
      first_order_at = a.first_order_at, last_order_at = a.last_order_at,
      average_days_between_orders = a.average_days_between_orders
  from (
    select x.customer_id, count(o.id)::int as orders_count, coalesce(sum(o.total_minor), 0)::bigint as total_spent_minor,
           coalesce(round(sum(o.total_minor)::numeric / nullif(count(o.id), 0)), 0)::bigint as average_order_value_minor,
           min(o.placed_at) as first_order_at, max(o.placed_at) as last_order_at,
           (extract(epoch from max(o.placed_at) - min(o.placed_at)) / 86400 / nullif(count(o.id) - 1, 0))::real as average_days_between_orders
    from kokyaku.customer_facts x
    left join kokyaku.orders o on o.tenant_id = $1 and o.customer_id = x.customer_id and o.status = 'PLACED'
    where x.tenant_id = $1 ${filter}
    group by x.customer_id
  ) a
  where f.tenant_id = $1 and f.customer_id = a.customer_id
    and (f.orders_count, f.total_spent_minor, f.first_order_at, f.last_order_at)
      is distinct from (a.orders_count, a.total_spent_minor, a.first_order_at, a.last_order_at)`;

/** The small profile values segments filter on, copied into customer_facts. */
const PROFILE_COPY_LIST = ['added_at', 'email_consent', 'country', 'region', 'city', 'email_domain', 'birthday', 'tags'] as const;
const PROFILE_COPIES = PROFILE_COPY_LIST.join(', ');
const PROFILE_VALUES = `c.created_at, c.email_consent, c.country, c.region, c.city, nullif(split_part(c.email, '@', 2), ''), c.birthday, c.tags`;

/** Creates missing facts rows and brings the profile copies in step with the customer rows. */
const SYNC_PROFILES = (filter: string) => `
  insert into kokyaku.customer_facts as f (customer_id, tenant_id, ${PROFILE_COPIES})
  select c.id, c.tenant_id, ${PROFILE_VALUES}
  from kokyaku.customers c
  where c.tenant_id = $1 ${filter}
  on conflict (customer_id, tenant_id) do update
    set ${PROFILE_COPY_LIST.map((column) => `${column} = excluded.${column}`).join(', ')}
    where (${PROFILE_COPY_LIST.map((column) => `f.${column}`).join(', ')})
      is distinct from (${PROFILE_COPY_LIST.map((column) => `excluded.${column}`).join(', ')})`;
const SYNC_SOME = SYNC_PROFILES(`and c.id = any(kokyaku.json_bigints($2::jsonb))`);
const SYNC_ALL = SYNC_PROFILES('');

/**
 * Facts rows for customers that have none (written by a bulk load, say), complete with their
 * metrics, so that a refresh after a load writes each row once.
 */
const CREATE_MISSING = `
  insert into kokyaku.customer_facts (customer_id, tenant_id, orders_count, total_spent_minor, average_order_value_minor,
                                      first_order_at, last_order_at, average_days_between_orders, ${PROFILE_COPIES})
  select c.id, c.tenant_id, count(o.id)::int, coalesce(sum(o.total_minor), 0)::bigint,
         coalesce(round(sum(o.total_minor)::numeric / nullif(count(o.id), 0)), 0)::bigint,
         min(o.placed_at), max(o.placed_at),
         (extract(epoch from max(o.placed_at) - min(o.placed_at)) / 86400 / nullif(count(o.id) - 1, 0))::real,
         ${PROFILE_VALUES}
  from kokyaku.customers c
  left join kokyaku.orders o on o.tenant_id = $1 and o.customer_id = c.id and o.status = 'PLACED'
  where c.tenant_id = $1 and not exists (select 1 from kokyaku.customer_facts x where x.tenant_id = $1 and x.customer_id = c.id)
  group by c.id, c.tenant_id`;

const RECOMPUTE_SOME = RECOMPUTE(`and x.customer_id = any(kokyaku.json_bigints($2::jsonb))`);
const RECOMPUTE_ALL = RECOMPUTE('');

/**
 * Per-customer order metrics in customer_facts (orders count, total spent, average order value,
 * first and last order; cancelled orders never count). Ingestion recomputes the customers a batch
 * touched, inside its transaction; `refresh` recomputes a whole tenant from the orders.
 */
export class MetricsService {
  /**
   * Locks the given customers until the transaction ends, so that two batches touching the same
   * customer take turns and each recomputes from the other's committed orders. Call it inside
   * the ingestion transaction before writing orders. `FOR NO KEY UPDATE` does not conflict with
   * the key-share locks that inserting orders takes on their customers, so it cannot deadlock
   * with them; ids are locked in ascending order so batches cannot deadlock with each other.
   */
  async lockCustomers(ctx: KokyakuContext, customerIds: Iterable<string>): Promise<void> {
    const ids = sortIds(customerIds);
    if (ids.length === 0) return;
    await sql(
      ctx.em,
      `select id from kokyaku.customers
       where tenant_id = $1 and id = any(kokyaku.json_bigints($2::jsonb))
       order by id for no key update`,
      [ctx.tenantId, JSON.stringify(ids)],
    );
  }

  /** Brings the facts of the given customers in step with their profiles (after an upsert). */
  async syncProfiles(ctx: KokyakuContext, customerIds: readonly string[]): Promise<void> {
    if (customerIds.length === 0) return;
    await sql(ctx.em, SYNC_SOME, [ctx.tenantId, JSON.stringify(customerIds)]);
  }

  /** Recomputes the metrics of the given customers from their orders (one statement). */
  async recomputeForCustomers(ctx: KokyakuContext, customerIds: Iterable<string>): Promise<void> {
    const ids = sortIds(customerIds);
    if (ids.length === 0) return;
    await sql(ctx.em, RECOMPUTE_SOME, [ctx.tenantId, JSON.stringify(ids)]);
  }

  /**
   * Recomputes the facts of every customer of the context's tenant from the customer rows and the
   * orders (also repairing customers written behind Kokyaku's back, e.g. by a bulk load).
   */
  async refresh(ctx: KokyakuContext): Promise<{ customers: number }> {
    await sql(ctx.em, CREATE_MISSING, [ctx.tenantId]);
    await sql(ctx.em, SYNC_ALL, [ctx.tenantId]);
    await sql(ctx.em, RECOMPUTE_ALL, [ctx.tenantId]);
    const [row] = await sql<{ n: number }>(ctx.em, `select count(*)::int as n from kokyaku.customers where tenant_id = $1`, [ctx.tenantId]);
    return { customers: row?.n ?? 0 };
  }
}

function sortIds(ids: Iterable<string>): string[] {
  return [...new Set(ids)].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : BigInt(a) > BigInt(b) ? 1 : 0));
}
