import type { KokyakuContext } from '../shared/context.js';
import { sql, sqlOne } from '../shared/sql.js';
import type { CustomerTable, KokyakuModule, ModuleHooks, RecordedOrder, RefreshRun, StoredEmail, TimelineSource, TrackedEvents } from './module.js';

/** A module as the dispatcher runs it: core's, or a plugin's (whose export goes under `plugins`). */
export interface DispatchedModule extends KokyakuModule<any> {
  readonly plugin?: boolean;
}

const TABLE = /^[a-z][a-z0-9_]{0,62}$/;

/**
 * Calls the modules' hooks, one after the other, in one order: the order of the list for what
 * flows forward (orders, events, changes, segments, refresh), and the reverse order, dependents
 * first, for what removes or moves a customer (merge, erasure) or a shop. Before a module's
 * `customerMerged` / `customerErased` hook, its declared customer tables get their default
 * treatment (rows moved or deleted); the export lists their rows unless the module exports them
 * itself. It is the only place core's domains meet: no domain calls another's reaction directly.
 */
export class HookDispatcher {
  private instance: unknown = null;
  private readonly reversed: readonly DispatchedModule[];

  constructor(readonly modules: readonly DispatchedModule[]) {
    for (const m of modules) {
      for (const t of m.customerTables ?? []) {
        if (!TABLE.test(t.table) || (t.column && !TABLE.test(t.column))) throw new Error(`Module "${m.name}": "${t.table}" is not a table name of schema kokyaku.`);
      }
    }
    this.reversed = [...modules].reverse();
  }

  /** Gives the hooks the instance they belong to (once it is built). */
  attach(instance: unknown): void {
    this.instance = instance;
  }

  private get kokyaku(): unknown {
    if (this.instance === null) throw new Error('HookDispatcher: not attached to a Kokyaku instance yet.');
    return this.instance;
  }

  /** Whether any module has this hook. */
  has(hook: keyof ModuleHooks): boolean {
    return this.modules.some((m) => m.hooks?.[hook]);
  }

  /** Whether a plugin has this hook. */
  pluginHas(hook: keyof ModuleHooks): boolean {
    return this.modules.some((m) => m.plugin && m.hooks?.[hook]);
  }

  /** Every module's timeline sources, in module order. */
  timelineSources(): TimelineSource[] {
    return this.modules.flatMap((m) => [...(m.timeline ?? [])]);
  }

  /** The modules' maintenance statements for before or after `refresh`, in module order. */
  maintenance(when: 'before' | 'after'): { module: string; statement: string }[] {
    return this.modules.flatMap((m) => (m.maintenance?.[when] ? [{ module: m.name, statement: m.maintenance[when] }] : []));
  }

  /** Every tenant table, dependents first: what erasing a shop deletes, in this order. */
  tenantTables(): string[] {
    return this.reversed.flatMap((m) => [...(m.tenantTables ?? [])]);
  }

  private async each<H extends keyof ModuleHooks>(
    hook: H,
    run: (fn: NonNullable<ModuleHooks[H]>, module: DispatchedModule) => Promise<unknown>,
    order: readonly DispatchedModule[] = this.modules,
  ): Promise<void> {
    for (const m of order) {
      const fn = m.hooks?.[hook];
      if (fn) await run(fn.bind(m.hooks) as NonNullable<ModuleHooks[H]>, m);
    }
  }

  async customersChanged(ctx: KokyakuContext, customerIds: readonly string[]): Promise<void> {
    if (customerIds.length === 0) return;
    await this.each('customersChanged', (fn) => fn(ctx, { customerIds }, this.kokyaku));
  }

  async orderRecorded(ctx: KokyakuContext, orders: readonly RecordedOrder[]): Promise<void> {
    if (orders.length === 0) return;
    await this.each('orderRecorded', (fn) => fn(ctx, orders, this.kokyaku));
  }

  async eventsTracked(ctx: KokyakuContext, events: TrackedEvents): Promise<void> {
    await this.customersChanged(ctx, events.newCustomerIds);
    await this.each('eventsTracked', (fn) => fn(ctx, events, this.kokyaku));
  }

  async emailsStored(ctx: KokyakuContext, messages: readonly StoredEmail[]): Promise<void> {
    await this.each('emailsStored', (fn) => fn(ctx, { messages }, this.kokyaku));
  }

  async inquiryActivity(ctx: KokyakuContext, inquiryId: string, customerIds: readonly string[]): Promise<void> {
    await this.each('inquiryActivity', (fn) => fn(ctx, { inquiryId, customerIds }, this.kokyaku));
  }

  /**
   * The saved segments whose entries or exits someone hears of: `'all'` when a module hears of
   * every entry (`segmentEntered`), else the segments the modules watch.
   */
  async segmentListeners(ctx: KokyakuContext): Promise<'all' | ReadonlySet<string>> {
    if (this.has('segmentEntered')) return 'all';
    const ids = new Set<string>();
    await this.each('watchedSegments', async (fn) => {
      for (const id of await fn(ctx, this.kokyaku)) ids.add(id);
    });
    return ids;
  }

  async segmentChanged(ctx: KokyakuContext, segmentId: string, entered: readonly string[], left: readonly string[]): Promise<void> {
    if (entered.length > 0) await this.each('segmentEntered', (fn) => fn(ctx, { segmentId, customerIds: entered }, this.kokyaku));
    if (entered.length > 0 || left.length > 0) await this.each('segmentChanged', (fn) => fn(ctx, { segmentId, entered, left }, this.kokyaku));
  }

  /** Merge, dependents first: each module's customer tables move (unless custom), then its hook. */
  async customerMerged(ctx: KokyakuContext, survivorId: string, mergedIds: readonly string[]): Promise<void> {
    for (const m of this.reversed) {
      for (const t of m.customerTables ?? []) {
        if ((t.merge ?? 'move') !== 'move') continue;
        await sql(ctx.em, `update kokyaku.${t.table} set ${column(t)} = $2::bigint where tenant_id = $1 and ${column(t)} = any(kokyaku.json_bigints($3::jsonb))`, [
          ctx.tenantId,
          survivorId,
          JSON.stringify(mergedIds),
        ]);
      }
      await m.hooks?.customerMerged?.(ctx, { survivorId, mergedIds }, this.kokyaku);
    }
  }

  /** Erasure, dependents first: each module's customer tables lose the customer's rows (unless custom), then its hook. */
  async customerErased(ctx: KokyakuContext, customerId: string): Promise<void> {
    for (const m of this.reversed) {
      for (const t of m.customerTables ?? []) {
        if ((t.erase ?? 'delete') !== 'delete') continue;
        await sql(ctx.em, `delete from kokyaku.${t.table} where tenant_id = $1 and ${column(t)} = $2::bigint`, [ctx.tenantId, customerId]);
      }
      await m.hooks?.customerErased?.(ctx, customerId, this.kokyaku);
    }
  }

  /**
   * What every module holds about a customer: core's modules add their keys in module order, and
   * each plugin's part goes under `plugins.<name>` (when it holds anything).
   */
  async exportCustomer(ctx: KokyakuContext, customerId: string): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    const plugins: Record<string, unknown> = {};
    for (const m of this.modules) {
      const part: Record<string, unknown> = {};
      for (const t of m.customerTables ?? []) {
        if ((t.export ?? 'rows') !== 'rows') continue;
        part[t.table] = (
          await sqlOne<{ v: unknown }>(
            ctx.em,
            `select coalesce(jsonb_agg(to_jsonb(r) order by r.*::text), '[]') as v from kokyaku.${t.table} r where r.tenant_id = $1 and r.${column(t)} = $2::bigint`,
            [ctx.tenantId, customerId],
          )
        )?.v;
      }
      const own = m.hooks?.exportCustomer ? await m.hooks.exportCustomer(ctx, customerId, this.kokyaku) : undefined;
      if (m.plugin) {
        if (m.hooks?.exportCustomer) plugins[m.name] = own;
        else if (Object.keys(part).length > 0) plugins[m.name] = part;
      } else {
        Object.assign(out, part, own as Record<string, unknown> | undefined);
      }
    }
    if (Object.keys(plugins).length > 0) out.plugins = plugins;
    return out;
  }

  /** Deletes every row of the shop, dependents first; returns how many. */
  async shopErased(ctx: KokyakuContext): Promise<number> {
    let rows = 0;
    for (const m of this.reversed) {
      for (const table of m.tenantTables ?? []) {
        const [r] = await sql<{ n: number }>(ctx.em, `with d as (delete from kokyaku.${table} where tenant_id = $1 returning 1) select count(*)::int as n from d`, [ctx.tenantId]);
        rows += r?.n ?? 0;
      }
      await m.hooks?.shopErased?.(ctx, this.kokyaku);
    }
    return rows;
  }

  /** `refresh` for one shop, in module order; a plugin's hook is the step `plugins`. */
  async refresh(ctx: KokyakuContext, run: RefreshRun): Promise<void> {
    await this.each('refresh', (fn, m) => (m.plugin ? run.step('plugins', () => fn(ctx, run, this.kokyaku)) : fn(ctx, run, this.kokyaku)));
  }
}

function column(t: CustomerTable): string {
  return t.column ?? 'customer_id';
}
