import { Migration } from '@mikro-orm/migrations';
import { tenantIsolation } from './Migration20261122080000_tenant_isolation.js';

/** The RFM cell of a scores row: bucket = R * 10 + FM (0 without scores), label = the group. */
const bucket = (s: string) => `coalesce(${s}.recency_score, 0) * 10 + coalesce((${s}.frequency_score + ${s}.monetary_score + 1) / 2, 0)`;
const group = (s: string) => `coalesce(${s}.rfm_group, 'PROSPECTS')`;
const cell = (s: string) => `${bucket(s)}, ${group(s)}`;
const CELL = (s: string) => `${bucket(s)} as bucket, ${group(s)} as label`;
const PROSPECT = `0, 'PROSPECTS'`;

/** Waits for a rebuild of the shops in a transition table (rebuilds hold the lock alone). */
const lock = (rows: string) => `
  perform pg_advisory_xact_lock_shared(hashtextextended('kokyaku.report_rollups:' || t.tenant_id, 0))
  from (select distinct tenant_id from ${rows}) t;`;

/**
 * Signed facts rows (tenant_id, customer_id, sign, spent) in the cells of their customers' scores.
 * Netted per customer first: a row rewritten with the same total spent adds up to nothing and is
 * not looked up.
 */
const rfmFromFacts = (changes: string, rows: string) => `${lock(rows)}
  insert into kokyaku.report_rollups (tenant_id, kind, bucket, label, revenue_minor, customers)
  select c.tenant_id, 'rfm', ${cell('s')}, sum(c.spent), sum(c.sign)
  from (
    select x.tenant_id, x.customer_id, sum(x.sign) as sign, sum(x.sign * coalesce(x.spent, 0)) as spent
    from (${changes}) x group by 1, 2 having sum(x.sign) <> 0 or sum(x.sign * coalesce(x.spent, 0)) <> 0
  ) c left join kokyaku.customer_scores s on s.customer_id = c.customer_id
  where exists (select 1 from kokyaku.analytics_state a where a.tenant_id = c.tenant_id and a.rollup_time_zone is not null)
  group by 1, 3, 4 having sum(c.spent) <> 0 or sum(c.sign) <> 0;`;

/**
 * Signed cells (customer_id, sign, bucket, label) with their customers' facts (no facts row: not
 * counted). Netted per customer and cell first: a scores row rewritten in the same cell (a CLV
 * update) adds up to nothing and is not looked up.
 */
const rfmFromScores = (changes: string, rows: string) => `${lock(rows)}
  insert into kokyaku.report_rollups (tenant_id, kind, bucket, label, revenue_minor, customers)
  select f.tenant_id, 'rfm', c.bucket, c.label, sum(c.sign * coalesce(f.total_spent_minor, 0)), sum(c.sign)
  from (
    select x.customer_id, x.bucket, x.label, sum(x.sign) as sign
    from (${changes}) x group by 1, 2, 3 having sum(x.sign) <> 0
  ) c join kokyaku.customer_facts f on f.customer_id = c.customer_id
  where exists (select 1 from kokyaku.analytics_state a where a.tenant_id = f.tenant_id and a.rollup_time_zone is not null)
  group by 1, 3, 4 having sum(c.sign * coalesce(f.total_spent_minor, 0)) <> 0 or sum(c.sign) <> 0;`;

/**
 * Rollups the reports read instead of the orders: each customer's purchase days (orders and
 * revenue per shop day), and what they add to the KPI, cohort and repeat-purchase reports, kept
 * as signed deltas that the refresh folds together; the RFM grid's from triggers on the facts and
 * scores. `rollup_time_zone` says in which time zone
 * the days were cut (null: not built yet; the next refresh builds them).
 */
export class Migration20261205010000_report_rollups extends Migration {
  override async up(): Promise<void> {
    this.addSql(`
      create table kokyaku.customer_days (
        tenant_id text not null,
        customer_id bigint not null references kokyaku.customers (id) on delete cascade,
        day date not null,
        orders integer not null,
        revenue_minor bigint not null,
        primary key (tenant_id, customer_id, day)
      )`);
    this.addSql(`
      create table kokyaku.report_rollups (
        tenant_id text not null,
        id bigint generated always as identity,
        kind text not null check (kind in ('day', 'week', 'month', 'cohort', 'buyers', 'gap', 'rfm')),
        period date,
        bucket integer not null default 0,
        label text,
        orders bigint not null default 0,
        revenue_minor bigint not null default 0,
        customers bigint not null default 0,
        new_customers bigint not null default 0,
        primary key (tenant_id, id)
      )`);
    this.addSql(`create index report_rollup_period_idx on kokyaku.report_rollups (tenant_id, kind, period)`);
    this.addSql(`alter table kokyaku.analytics_state add column rollup_time_zone text, add column rollups_built_at timestamptz`);
    for (const table of ['customer_days', 'report_rollups']) {
      this.addSql(`do $$ begin ${tenantIsolation('%I', `'${table}'`)} end $$`);
    }
    // The RFM grid: a customer (a facts row) counts in the cell and group of its scores (none:
    // PROSPECTS) with its total spent. Whatever writes facts or scores, these triggers add the
    // change as signed rows, once the shop's rollups are built.
    this.addSql(`
      create function kokyaku.report_rollups_facts() returns trigger language plpgsql as $fn$
      begin
        if tg_op = 'INSERT' then
          ${rfmFromFacts('select n.tenant_id, n.customer_id, 1 as sign, n.total_spent_minor as spent from new_rows n', 'new_rows')}
        elsif tg_op = 'DELETE' then
          ${rfmFromFacts('select o.tenant_id, o.customer_id, -1 as sign, o.total_spent_minor as spent from old_rows o', 'old_rows')}
        else
          -- Old and new rows without joining the two (transition tables have no index): what did
          -- not change adds up to nothing and is left out.
          ${rfmFromFacts(
            `select n.tenant_id, n.customer_id, 1 as sign, n.total_spent_minor as spent from new_rows n
             union all
             select o.tenant_id, o.customer_id, -1, o.total_spent_minor from old_rows o`,
            'new_rows',
          )}
        end if;
        return null;
      end $fn$`);
    this.addSql(`
      create function kokyaku.report_rollups_scores() returns trigger language plpgsql as $fn$
      begin
        if tg_op = 'INSERT' then
          ${rfmFromScores(`select n.customer_id, 1 as sign, ${CELL('n')} from new_rows n union all select n.customer_id, -1, ${PROSPECT} from new_rows n`, 'new_rows')}
        elsif tg_op = 'DELETE' then
          ${rfmFromScores(`select o.customer_id, -1 as sign, ${CELL('o')} from old_rows o union all select o.customer_id, 1, ${PROSPECT} from old_rows o`, 'old_rows')}
        else
          ${rfmFromScores(`select n.customer_id, 1 as sign, ${CELL('n')} from new_rows n union all select o.customer_id, -1, ${CELL('o')} from old_rows o`, 'new_rows')}
        end if;
        return null;
      end $fn$`);
    for (const [table, fn] of [
      ['customer_facts', 'report_rollups_facts'],
      ['customer_scores', 'report_rollups_scores'],
    ] as const) {
      this.addSql(`create trigger ${fn}_insert after insert on kokyaku.${table} referencing new table as new_rows for each statement execute function kokyaku.${fn}()`);
      this.addSql(
        `create trigger ${fn}_update after update on kokyaku.${table} referencing old table as old_rows new table as new_rows for each statement execute function kokyaku.${fn}()`,
      );
      this.addSql(`create trigger ${fn}_delete after delete on kokyaku.${table} referencing old table as old_rows for each statement execute function kokyaku.${fn}()`);
    }
  }

  override async down(): Promise<void> {
    for (const [table, fn] of [
      ['customer_facts', 'report_rollups_facts'],
      ['customer_scores', 'report_rollups_scores'],
    ]) {
      for (const op of ['insert', 'update', 'delete']) this.addSql(`drop trigger if exists ${fn}_${op} on kokyaku.${table}`);
      this.addSql(`drop function if exists kokyaku.${fn}()`);
    }
    this.addSql(`drop table if exists kokyaku.report_rollups, kokyaku.customer_days`);
    this.addSql(`alter table kokyaku.analytics_state drop column if exists rollup_time_zone, drop column if exists rollups_built_at`);
  }
}
