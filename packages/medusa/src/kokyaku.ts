import {
  BACKFILL_PHASES,
  type BackfillPhase,
  type BackfillState,
  type Kokyaku,
  type KokyakuContext,
  type KokyakuUserConfig,
  ROLES,
  type Role,
  backfillToRun,
  createKokyaku,
  idleBackfill,
  mergeConfig,
  runBackfill,
  writeShopBatch,
} from '@kokyaku/core';
import pg from 'pg';
import { type MedusaCustomer, type MedusaOrder, type MedusaVariant, customerInput, orderInput, productInput } from './mapping.js';

/** What the plugin takes in `medusa-config`'s `plugins: [{ resolve: '@kokyaku/medusa', options }]`. */
export interface KokyakuMedusaOptions {
  /**
   * Where Kokyaku keeps its data: `'medusa'` (default) is Medusa's own database, in Kokyaku's
   * schema `kokyaku`; a connection string is a database of its own; `'embedded'` an embedded PostgreSQL.
   */
  database?: 'medusa' | 'embedded' | (string & {});
  /** Kokyaku's own settings; the shop currency defaults to the store's default currency. */
  config?: KokyakuUserConfig;
  tenant?: string;
  /** Serve the staff console at /kokyaku/console/ (needs @kokyaku/console). Default true. */
  console?: boolean;
  /**
   * Kokyaku roles of a Medusa admin user. Default: the user's `metadata.kokyaku_roles` (a list or
   * comma-separated, e.g. "SUPPORT"), else `defaultRoles`.
   */
  roles?: (user: { id: string; email?: string | null; metadata?: Record<string, unknown> | null }) => Role[];
  /** Roles of an admin user whose metadata names none (default ADMIN: every Medusa admin runs the shop). */
  defaultRoles?: Role[];
  delivery?: { batchSize?: number; intervalMs?: number; maxBackoffMs?: number };
}

/** The parts of Medusa's container the plugin uses. */
export interface MedusaScope {
  resolve<T = unknown>(key: string): T;
}
type Query = {
  graph: (q: {
    entity: string;
    fields: string[];
    filters?: Record<string, unknown>;
    pagination?: Record<string, unknown>;
  }) => Promise<{ data: any[]; metadata?: { count?: number } }>;
};
type Logger = { info(m: string): void; warn(m: string): void; error(m: string): void };

const ENTITY: Record<BackfillPhase, string> = { customers: 'customer', products: 'product_variant', orders: 'order' };
const CUSTOMER_FIELDS = [
  'id',
  'email',
  'first_name',
  'last_name',
  'phone',
  'created_at',
  'addresses.city',
  'addresses.province',
  'addresses.country_code',
  'addresses.is_default_shipping',
];
const VARIANT_FIELDS = [
  'id',
  'title',
  'sku',
  'manage_inventory',
  'allow_backorder',
  'prices.amount',
  'prices.currency_code',
  'inventory_items.inventory.location_levels.available_quantity',
  'product.title',
  'product.status',
  'product.categories.name',
  'product.collection.title',
  'product.type.value',
  'product.tags.value',
];
// `total` and `items.*` make Medusa compute the items' totals (tax in, discounts out).
const ORDER_FIELDS = ['id', 'status', 'customer_id', 'currency_code', 'created_at', 'canceled_at', 'total', 'items.*', 'items.detail.*'];

const OUTBOX_DDL = `
  create table if not exists kokyaku_outbox (
    id bigserial primary key, kind text not null, ref text not null, payload jsonb,
    attempts int not null default 0, due_at timestamptz not null default now(), last_error text,
    created_at timestamptz not null default now(), updated_at timestamptz not null default now());
  create index if not exists kokyaku_outbox_due on kokyaku_outbox (due_at);
  create table if not exists kokyaku_sync_state (key text primary key, value jsonb not null)`;

let shared: Promise<KokyakuMedusa> | null = null;

/**
 * Kokyaku inside a Medusa application: one per process, started on first use by a subscriber,
 * the delivery job or a request. Reads Medusa's records through its Query, keeps the outbox in
 * Medusa's database and delivers it.
 */
export class KokyakuMedusa {
  private timer: NodeJS.Timeout | null = null;
  private delivering: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private backfillRun: Promise<BackfillState> | null = null;
  private pauseRequested = false;

  private constructor(
    readonly kokyaku: Kokyaku,
    readonly options: KokyakuMedusaOptions,
    private readonly pool: pg.Pool,
    private readonly query: Query,
    private readonly logger: Logger,
    readonly currency: string,
  ) {}

  /** The process's instance (started on first call). */
  static from(scope: MedusaScope): Promise<KokyakuMedusa> {
    shared ??= KokyakuMedusa.start(scope).catch((error) => {
      shared = null;
      throw error;
    });
    return shared;
  }

  private static async start(scope: MedusaScope): Promise<KokyakuMedusa> {
    const configModule = scope.resolve<{ projectConfig: { databaseUrl?: string }; plugins?: Array<string | { resolve: string; options?: KokyakuMedusaOptions }> }>('configModule');
    const logger = scope.resolve<Logger>('logger');
    const query = scope.resolve<Query>('query');
    const entry = configModule.plugins?.find((p) => typeof p !== 'string' && p.resolve === '@kokyaku/medusa');
    const options: KokyakuMedusaOptions = (typeof entry === 'object' ? entry.options : undefined) ?? {};
    const medusaUrl = configModule.projectConfig.databaseUrl;
    if (!medusaUrl) throw new Error('@kokyaku/medusa: projectConfig.databaseUrl is not set');
    const pool = new pg.Pool({ connectionString: medusaUrl, max: 4 });
    pool.on('error', (error) => logger.warn(`Kokyaku outbox connection: ${error.message}`));
    await pool.query(OUTBOX_DDL);
    const { data: stores } = await query.graph({ entity: 'store', fields: ['supported_currencies.currency_code', 'supported_currencies.is_default'] });
    const currencies = (stores[0]?.supported_currencies ?? []) as Array<{ currency_code: string; is_default: boolean }>;
    const currency = (options.config?.shop?.currency ?? (currencies.find((c) => c.is_default) ?? currencies[0])?.currency_code ?? 'usd').toUpperCase();
    const database = options.database ?? 'medusa';
    const url = database === 'embedded' ? undefined : database === 'medusa' ? medusaUrl : database;
    const kokyaku = await createKokyaku(mergeConfig<KokyakuUserConfig>({ shop: { currency }, ...(url ? { database: { url } } : {}) }, options.config ?? {}));
    const instance = new KokyakuMedusa(kokyaku, options, pool, query, logger, currency);
    instance.timer = setInterval(() => instance.nudge(), options.delivery?.intervalMs ?? 2000);
    instance.timer.unref();
    logger.info(
      `Kokyaku started (${database === 'medusa' ? "Medusa's database, schema kokyaku" : database === 'embedded' ? 'embedded PostgreSQL' : 'its own database'}, ${currency})`,
    );
    // A backfill that was running when the process stopped resumes.
    const state = await instance.backfillState();
    if (state.status === 'running') void instance.startBackfill({}).catch(() => undefined);
    instance.nudge();
    return instance;
  }

  /** Stop the delivery loop and Kokyaku (tests, graceful shutdown). */
  static async stop(): Promise<void> {
    const current = await shared?.catch(() => null);
    shared = null;
    if (!current) return;
    current.stopped = true;
    if (current.timer) clearInterval(current.timer);
    await current.delivering?.catch(() => undefined);
    await current.backfillRun?.catch(() => undefined);
    await current.kokyaku.close();
    await current.pool.end();
  }

  context(): KokyakuContext {
    return this.kokyaku.context({ tenantId: this.options.tenant });
  }

  /** Kokyaku roles of a Medusa admin user (see `roles` and `defaultRoles`). */
  async rolesOf(userId: string): Promise<Role[]> {
    const { data } = await this.query.graph({ entity: 'user', fields: ['id', 'email', 'metadata'], filters: { id: userId } });
    const user = data[0] as { id: string; email?: string | null; metadata?: Record<string, unknown> | null } | undefined;
    if (!user) return [];
    if (this.options.roles) return this.options.roles(user);
    const named = user.metadata?.kokyaku_roles;
    if (named === undefined || named === null) return this.options.defaultRoles ?? ['ADMIN'];
    const list = Array.isArray(named) ? named.map(String) : String(named).split(',');
    return list.map((r) => r.trim().toUpperCase()).filter((r): r is Role => (ROLES as readonly string[]).includes(r));
  }

  // ---- the outbox -------------------------------------------------------------------------

  /** Rows for the delivery; written right after Medusa emitted the event that names them. */
  async enqueue(rows: ReadonlyArray<{ kind: string; ref: string; payload?: Record<string, unknown> | null }>): Promise<void> {
    if (rows.length === 0) return;
    await this.pool.query(
      `insert into kokyaku_outbox (kind, ref, payload) select r.kind, r.ref, r.payload from jsonb_to_recordset($1::jsonb) as r(kind text, ref text, payload jsonb)`,
      [JSON.stringify(rows.map((r) => ({ kind: r.kind, ref: r.ref, payload: r.payload ?? null })))],
    );
    this.nudge();
  }

  nudge(): void {
    if (this.stopped) return;
    if (this.delivering) {
      this.again = true;
      return;
    }
    this.delivering = (async () => {
      try {
        do {
          this.again = false;
          while (!this.stopped && (await this.deliverBatch()) > 0) {
            /* drain */
          }
        } while (this.again && !this.stopped);
      } catch (error) {
        this.logger.warn(`Kokyaku delivery stopped for now: ${(error as Error).message}`);
      } finally {
        this.delivering = null;
      }
    })();
  }

  async drain(): Promise<void> {
    for (;;) {
      await this.delivering;
      if ((await this.deliverBatch()) === 0) return;
    }
  }

  async syncStatus() {
    const { rows } = await this.pool.query(
      `select count(*)::int as pending, count(*) filter (where attempts > 0)::int as failing, min(created_at) as "oldestPendingAt",
              (select last_error from kokyaku_outbox where last_error is not null order by updated_at desc limit 1) as "lastError"
       from kokyaku_outbox`,
    );
    return { ...rows[0], backfill: await this.backfillState() };
  }

  /** Lock due rows, read what they name, send it, delete what Kokyaku stored, push back what failed. */
  async deliverBatch(): Promise<number> {
    const client = await this.pool.connect();
    try {
      await client.query('begin');
      const { rows } = await client.query<{ id: string; kind: string; ref: string; payload: Record<string, unknown> | null; attempts: number }>(
        'select id::text, kind, ref, payload, attempts from kokyaku_outbox where due_at <= now() order by id limit $1 for update skip locked',
        [this.options.delivery?.batchSize ?? 500],
      );
      if (rows.length === 0) {
        await client.query('commit');
        return 0;
      }
      const failures = new Map<string, string>();
      try {
        const refused = await this.send(rows);
        for (const [id, message] of refused) failures.set(id, message);
      } catch (error) {
        for (const r of rows) failures.set(r.id, (error as Error).message);
      }
      const done = rows.filter((r) => !failures.has(r.id)).map((r) => r.id);
      if (done.length) await client.query('delete from kokyaku_outbox where id = any($1::bigint[])', [done]);
      const maxBackoff = this.options.delivery?.maxBackoffMs ?? 300_000;
      for (const r of rows) {
        const message = failures.get(r.id);
        if (message === undefined) continue;
        await client.query(
          `update kokyaku_outbox set attempts = attempts + 1, last_error = $2, due_at = now() + ($3::int * interval '1 millisecond'), updated_at = now() where id = $1::bigint`,
          [r.id, message.slice(0, 2000), Math.min(maxBackoff, 1000 * 2 ** Math.min(r.attempts, 20))],
        );
      }
      await client.query('commit');
      if (failures.size) this.logger.warn(`Kokyaku delivery: ${failures.size} of ${rows.length} outbox rows failed, tried again later: ${[...failures.values()][0]}`);
      return done.length;
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /** Read the current state of what the rows name and send it; returns the rows Kokyaku refused. */
  private async send(rows: ReadonlyArray<{ id: string; kind: string; ref: string; payload: Record<string, unknown> | null; attempts: number }>): Promise<Map<string, string>> {
    const refs = (kind: string) => [...new Set(rows.filter((r) => r.kind === kind).map((r) => r.ref))];
    const variantIds = new Set(refs('variant'));
    const productIds = refs('product');
    if (productIds.length) {
      const { data } = await this.query.graph({ entity: 'product', fields: ['id', 'variants.id'], filters: { id: productIds } });
      for (const p of data) for (const v of p.variants ?? []) variantIds.add(v.id);
    }
    // Cart additions: every item of a customer's cart is an `added_to_cart` event keyed by the item.
    const events = [];
    const cartIds = refs('cart');
    if (cartIds.length) {
      const { data } = await this.query.graph({
        entity: 'cart',
        fields: ['id', 'customer_id', 'completed_at', 'items.id', 'items.variant_id', 'items.quantity', 'items.created_at'],
        filters: { id: cartIds },
      });
      for (const cart of data) {
        if (!cart.customer_id) continue;
        for (const item of cart.items ?? []) {
          if (!item.variant_id) continue;
          events.push({
            eventId: `medusa-${item.id}`,
            type: 'added_to_cart',
            customerExternalId: cart.customer_id,
            productExternalId: item.variant_id,
            occurredAt: item.created_at,
            properties: { quantity: Number(item.quantity), cartId: cart.id },
          });
        }
      }
    }
    for (const r of rows.filter((x) => x.kind === 'view' && x.payload)) {
      events.push({
        eventId: `medusa-view-${r.id}`,
        type: 'product_viewed',
        customerExternalId: r.ref,
        productExternalId: String(r.payload!.variantId),
        occurredAt: String(r.payload!.occurredAt),
        properties: {},
      });
    }
    const refused = new Map<string, string>();
    const customers = await this.loadCustomers(refs('customer'));
    const products = await this.loadVariants([...variantIds]);
    const orderIds = refs('order');
    const { data: orderRows } = orderIds.length ? await this.query.graph({ entity: 'order', fields: ORDER_FIELDS, filters: { id: orderIds } }) : { data: [] };
    // A record Medusa does not show yet (an event can run ahead of what other connections see) is
    // tried again, three times; after that it is taken as deleted.
    const found = new Set([...customers.map((c) => c.externalId), ...products.map((p) => p.externalId), ...orderRows.map((o: { id: string }) => o.id)]);
    for (const r of rows) {
      if ((r.kind === 'customer' || r.kind === 'variant' || r.kind === 'order') && !found.has(r.ref) && r.attempts < 3) {
        refused.set(r.id, `${r.kind} ${r.ref} not found (yet)`);
      }
    }
    const delivered = await writeShopBatch(
      this.kokyaku,
      this.context(),
      { customers, products, orders: (orderRows as MedusaOrder[]).map((o) => orderInput(o, this.currency)).filter((o) => o !== null), events, erase: refs('erase') },
      { erasureReason: 'Customer deleted in Medusa' },
    );
    for (const warning of delivered.warnings) this.logger.warn(`Kokyaku: ${warning}`);
    for (const { kind, ref, message } of delivered.refused) {
      // A refused view keeps its own row (its event id names it); a record keeps every row naming it.
      if (kind === 'event' && ref.startsWith('medusa-view-')) refused.set(ref.slice('medusa-view-'.length), message);
      for (const r of rows) if (r.ref === ref && (r.kind === kind || (kind === 'product' && r.kind === 'variant'))) refused.set(r.id, message);
    }
    return refused;
  }

  async loadCustomers(ids: readonly string[]) {
    if (ids.length === 0) return [];
    const { data } = await this.query.graph({ entity: 'customer', fields: CUSTOMER_FIELDS, filters: { id: [...ids] } });
    return (data as MedusaCustomer[]).map(customerInput);
  }

  async loadVariants(ids: readonly string[]) {
    if (ids.length === 0) return [];
    const { data } = await this.query.graph({ entity: 'product_variant', fields: VARIANT_FIELDS, filters: { id: [...ids] } });
    return (data as MedusaVariant[]).map((v) => productInput(v, this.currency));
  }

  async loadOrders(ids: readonly string[]) {
    if (ids.length === 0) return [];
    const { data } = await this.query.graph({ entity: 'order', fields: ORDER_FIELDS, filters: { id: [...ids] } });
    return (data as MedusaOrder[]).map((o) => orderInput(o, this.currency)).filter((o) => o !== null);
  }

  // ---- the backfill -------------------------------------------------------------------------

  async backfillState(): Promise<BackfillState> {
    const { rows } = await this.pool.query<{ value: BackfillState }>(`select value from kokyaku_sync_state where key = 'backfill'`);
    return rows[0] ? { ...idleBackfill(), ...rows[0].value } : idleBackfill();
  }

  private async saveBackfill(state: BackfillState): Promise<void> {
    await this.pool.query(`insert into kokyaku_sync_state (key, value) values ('backfill', $1) on conflict (key) do update set value = excluded.value`, [JSON.stringify(state)]);
  }

  /** Start or resume the history backfill in the background (see docs/medusa.md). */
  async startBackfill(options: { restart?: boolean; batchSize?: number; onProgress?: (s: BackfillState) => void }): Promise<BackfillState> {
    if (this.backfillRun) return this.backfillState();
    const saved = await this.backfillState();
    if (saved.status === 'done' && !options.restart) return saved;
    const state = backfillToRun(saved, options);
    await this.saveBackfill(state);
    this.pauseRequested = false;
    this.backfillRun = this.runBackfill(state, options.onProgress).finally(() => {
      this.backfillRun = null;
    });
    return state;
  }

  async pauseBackfill(): Promise<BackfillState> {
    this.pauseRequested = true;
    if (this.backfillRun) return this.backfillRun;
    const state = await this.backfillState();
    if (state.status === 'running') await this.saveBackfill({ ...state, status: 'paused' });
    return this.backfillState();
  }

  async waitBackfill(): Promise<BackfillState> {
    return (await this.backfillRun) ?? (await this.backfillState());
  }

  private async runBackfill(initial: BackfillState, onProgress?: (s: BackfillState) => void): Promise<BackfillState> {
    const lock = await this.pool.connect();
    try {
      const { rows } = await lock.query<{ locked: boolean }>('select pg_try_advisory_lock($1) as locked', [0x6b6f6b79]);
      if (!rows[0]!.locked) return initial;
      const state = await runBackfill(
        this.kokyaku,
        this.context(),
        {
          count: async (phase) => (await this.query.graph({ entity: ENTITY[phase], fields: ['id'], pagination: { take: 1, skip: 0 } })).metadata?.count ?? 0,
          nextIds: async (phase, cursor, take) => {
            const { data } = await this.query.graph({
              entity: ENTITY[phase],
              fields: ['id'],
              filters: cursor ? { id: { $gt: cursor } } : {},
              pagination: { take, skip: 0, order: { id: 'ASC' } },
            });
            return data.map((r) => String(r.id));
          },
          load: async (phase, ids) =>
            phase === 'customers'
              ? { customers: await this.loadCustomers(ids) }
              : phase === 'products'
                ? { products: await this.loadVariants(ids) }
                : { orders: await this.loadOrders(ids) },
        },
        initial,
        {
          save: (s) => this.saveBackfill(s),
          stop: () => (this.stopped ? 'exit' : this.pauseRequested ? 'pause' : null),
          onProgress,
          erasureReason: 'Customer deleted in Medusa',
        },
      );
      if (state.status === 'done')
        this.logger.info(`Kokyaku backfill done: ${state.done.customers} customers, ${state.done.products} products, ${state.done.orders} orders in ${state.seconds.toFixed(1)} s`);
      if (state.status === 'failed') this.logger.error(`Kokyaku backfill failed (start it again to resume): ${state.error}`);
      return state;
    } finally {
      await lock.query('select pg_advisory_unlock($1)', [0x6b6f6b79]).catch(() => undefined);
      lock.release();
    }
  }
}
