import { type Kokyaku, type KokyakuContext, type KokyakuUserConfig, type ShopBatchResult, createKokyaku, currencyDigits, mergeConfig, writeShopBatch } from '@kokyaku/core';
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import {
  ChannelService,
  ConfigService,
  Customer,
  Logger,
  Order,
  ProcessContext,
  ProductPriceApplicator,
  ProductVariant,
  ProductVariantService,
  type RequestContext,
  RequestContextService,
  TransactionalConnection,
  TranslatorService,
} from '@vendure/core';
import { type EntityManager, In } from 'typeorm';
import { KokyakuOutboxItem } from './entities.js';
import { customerInput, eventInput, orderInput, productInput } from './mapping.js';
import { KOKYAKU_PLUGIN_OPTIONS, type ResolvedOptions } from './options.js';

export const loggerCtx = 'KokyakuPlugin';

/**
 * Starts Kokyaku inside the Vendure server, reads Vendure's records as Kokyaku inputs, and
 * delivers the outbox. The only place that talks to both.
 */
@Injectable()
export class KokyakuService implements OnApplicationBootstrap, OnApplicationShutdown {
  private instance: Kokyaku | null = null;
  private starting: Promise<Kokyaku> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private delivering: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private digits = 2;

  constructor(
    @Inject(KOKYAKU_PLUGIN_OPTIONS) private readonly options: ResolvedOptions,
    @Inject(TransactionalConnection) private readonly connection: TransactionalConnection,
    @Inject(ConfigService) private readonly configService: ConfigService,
    @Inject(ProcessContext) private readonly processContext: ProcessContext,
    @Inject(ChannelService) private readonly channelService: ChannelService,
    @Inject(RequestContextService) private readonly requestContexts: RequestContextService,
    @Inject(ProductPriceApplicator) private readonly prices: ProductPriceApplicator,
    @Inject(ProductVariantService) private readonly variants: ProductVariantService,
    @Inject(TranslatorService) private readonly translator: TranslatorService,
  ) {}

  /** Kokyaku runs in the server process (the worker only writes outbox rows). */
  async onApplicationBootstrap(): Promise<void> {
    if (!this.processContext.isServer) return;
    await this.kokyaku();
    this.timer = setInterval(() => this.nudge(), this.options.intervalMs);
    this.timer.unref();
    this.nudge();
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.delivering?.catch(() => undefined);
    const instance = this.instance ?? (await this.starting?.catch(() => null));
    this.instance = null;
    await instance?.close();
  }

  /** The running Kokyaku (started on first use). */
  kokyaku(): Promise<Kokyaku> {
    if (this.instance) return Promise.resolve(this.instance);
    this.starting ??= this.start().then(
      (k) => (this.instance = k),
      (error) => {
        this.starting = null;
        throw error;
      },
    );
    return this.starting;
  }

  get running(): Kokyaku | null {
    return this.instance;
  }

  /** A core context for this shop's tenant. */
  async context(): Promise<KokyakuContext> {
    const kokyaku = await this.kokyaku();
    return kokyaku.context({ tenantId: this.options.tenant });
  }

  private async start(): Promise<Kokyaku> {
    const channel = await this.channelService.getDefaultChannel();
    const currency = this.options.config.shop?.currency ?? channel.defaultCurrencyCode;
    this.digits = currencyDigits(currency);
    const database = this.databaseUrl();
    const config = mergeConfig<KokyakuUserConfig>({ shop: { currency }, ...(database ? { database: { url: database } } : {}) }, this.options.config);
    const kokyaku = await createKokyaku(config);
    Logger.info(
      `Kokyaku started (${database ? (this.options.database === 'vendure' ? "Vendure's database, schema kokyaku" : 'its own database') : 'embedded PostgreSQL'}, ${currency})`,
      loggerCtx,
    );
    return kokyaku;
  }

  /** Vendure's database as a connection string, when Kokyaku is to share it. */
  private databaseUrl(): string | undefined {
    const choice = this.options.database;
    if (choice === 'embedded') return undefined;
    if (choice !== 'vendure') return choice;
    const db = this.configService.dbConnectionOptions as { type: string; url?: string; host?: string; port?: number; username?: string; password?: string; database?: string };
    if (db.type !== 'postgres') {
      throw new Error(`KokyakuPlugin: Vendure runs on ${db.type}; Kokyaku needs PostgreSQL. Give KokyakuPlugin.init({ database: 'postgres://…' }) or 'embedded'.`);
    }
    if (db.url) return db.url;
    const url = new URL('postgres://localhost');
    url.hostname = db.host ?? 'localhost';
    if (db.port) url.port = String(db.port);
    url.username = db.username ?? '';
    url.password = db.password ?? '';
    url.pathname = `/${db.database ?? ''}`;
    return url.toString();
  }

  get currencyDigits(): number {
    return this.digits;
  }

  /** A RequestContext of the default channel, for reading prices and translations outside a request. */
  systemContext(): Promise<RequestContext> {
    return this.requestContexts.create({ apiType: 'admin' });
  }

  /** Deliver due outbox rows soon (after the change that wrote them committed). */
  nudge(): void {
    if (this.stopped || !this.processContext.isServer) return;
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
        Logger.warn(`Kokyaku delivery stopped for now: ${(error as Error).message}`, loggerCtx);
      } finally {
        this.delivering = null;
      }
    })();
  }

  /** Wait for the outbox to be empty of due rows (tests and the example's seed use it). */
  async drain(): Promise<void> {
    for (;;) {
      await this.delivering;
      const sent = await this.deliverBatch();
      if (sent === 0) return;
    }
  }

  /**
   * One batch: lock due rows (other processes skip them), read what they point at, send it,
   * delete what Kokyaku stored, push back what failed. Returns how many rows were delivered.
   */
  async deliverBatch(): Promise<number> {
    const table = this.connection.rawConnection.getMetadata(KokyakuOutboxItem).tableName;
    return this.connection.rawConnection.transaction(async (manager) => {
      const rows: Array<{ id: number; kind: string; ref: string; payload: string | null; attempts: number }> = await manager.query(
        `select id, kind, ref, payload, attempts from "${table}" where "dueAt" <= now() order by id limit $1 for update skip locked`,
        [this.options.batchSize],
      );
      if (rows.length === 0) return 0;
      const failures = new Map<number, string>();
      try {
        const result = await this.send(
          manager,
          rows.map((r) => ({ ...r, payload: r.payload ? (JSON.parse(r.payload) as Record<string, unknown>) : null })),
        );
        for (const [id, message] of result.refusedRows) failures.set(id, message);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        for (const r of rows) failures.set(r.id, message);
      }
      const done = rows.filter((r) => !failures.has(r.id)).map((r) => r.id);
      if (done.length) await manager.query(`delete from "${table}" where id = any($1::int[])`, [done]);
      for (const r of rows) {
        const message = failures.get(r.id);
        if (message === undefined) continue;
        const wait = Math.min(this.options.maxBackoffMs, 1000 * 2 ** Math.min(r.attempts, 20));
        await manager.query(
          `update "${table}" set attempts = attempts + 1, "lastError" = $2, "dueAt" = now() + ($3::int * interval '1 millisecond'), "updatedAt" = now() where id = $1`,
          [r.id, message.slice(0, 2000), wait],
        );
      }
      if (failures.size) Logger.warn(`Kokyaku delivery: ${failures.size} of ${rows.length} outbox rows failed, tried again later: ${[...failures.values()][0]}`, loggerCtx);
      return done.length;
    });
  }

  /**
   * Read the current state of what the rows name (inside the delivery's transaction) and send it
   * to Kokyaku (`writeShopBatch`: customers first). Returns the rows whose record Kokyaku refused,
   * with the reason; the others are stored.
   */
  async send(
    manager: EntityManager,
    rows: ReadonlyArray<{ id: number; kind: string; ref: string; payload: Record<string, unknown> | null }>,
  ): Promise<{ delivered: ShopBatchResult; refusedRows: Map<number, string> }> {
    const ids = (kind: string) => [...new Set(rows.filter((r) => r.kind === kind).map((r) => r.ref))];
    const events = rows.filter((r) => r.kind === 'event' && r.payload).map((r) => ({ row: r, input: eventInput(r.id, r.ref, r.payload!) }));
    const delivered = await writeShopBatch(
      await this.kokyaku(),
      await this.context(),
      {
        customers: await this.loadCustomers(manager, ids('customer')),
        products: await this.loadProducts(manager, ids('product')),
        orders: await this.loadOrders(manager, ids('order')),
        events: events.map((e) => e.input),
        erase: ids('erase'),
      },
      { erasureReason: 'Customer deleted in Vendure' },
    );
    for (const warning of delivered.warnings) Logger.warn(`Kokyaku: ${warning}`, loggerCtx);
    const refusedRows = new Map<number, string>();
    for (const { kind, ref, message } of delivered.refused) {
      if (kind === 'event') {
        const e = events.find((x) => x.input.eventId === ref);
        if (e) refusedRows.set(e.row.id, message);
      } else for (const r of rows) if (r.kind === kind && r.ref === ref) refusedRows.set(r.id, message);
    }
    return { delivered, refusedRows };
  }

  async loadCustomers(manager: EntityManager, ids: readonly string[]) {
    if (ids.length === 0) return [];
    const found = await manager.getRepository(Customer).find({ where: { id: In([...ids]) }, relations: { addresses: { country: true } } });
    return found.map(customerInput);
  }

  async loadProducts(manager: EntityManager, ids: readonly string[]) {
    if (ids.length === 0) return [];
    const ctx = await this.systemContext();
    const found = await manager.getRepository(ProductVariant).find({
      where: { id: In([...ids]) },
      withDeleted: true,
      relations: {
        translations: true,
        productVariantPrices: true,
        taxCategory: true,
        collections: { translations: true },
        facetValues: { translations: true, facet: { translations: true } },
        product: { translations: true, facetValues: { translations: true, facet: { translations: true } } },
      },
    });
    const inputs = [];
    for (const variant of found) {
      try {
        await this.prices.applyChannelPriceAndTax(variant, ctx);
      } catch {
        // No price in this channel: the product is sent without a price.
      }
      const translated = this.translator.translate(variant, ctx, ['product', 'collections', ['facetValues', 'facet'], ['product', 'facetValues']]);
      const saleable = variant.deletedAt ? 0 : await this.variants.getSaleableStockLevel(ctx, variant).catch(() => null);
      inputs.push(productInput(translated, { digits: this.digits, saleable: variant.trackInventory === 'FALSE' ? null : saleable }));
    }
    return inputs;
  }

  async loadOrders(manager: EntityManager, ids: readonly string[]) {
    if (ids.length === 0) return [];
    const found = await manager.getRepository(Order).find({ where: { id: In([...ids]) }, relations: { lines: true, payments: { refunds: true } } });
    return found.map((o) => orderInput(o, this.digits)).filter((o) => o !== null);
  }
}
