import type { MikroORM } from '@mikro-orm/postgresql';
import { ProductService } from './catalog/product.service.js';
import { type KokyakuConfig, type KokyakuUserConfig, defineConfig } from './config.js';
import type { Actor, KokyakuContext } from './shared/context.js';
import { CustomerService } from './customers/customer.service.js';
import { type EmbeddedPostgres, startEmbeddedPostgres } from './database/embedded.js';
import { createOrm, migrate } from './database/orm.js';
import { Bus } from './database/bus.js';
import { ReadReplicas } from './database/replicas.js';
import { Telemetry } from './telemetry/telemetry.js';
import { type MoveOptions, type ShopMove, moveShop } from './tenancy/move.js';
import { EventService } from './events/event.service.js';
import { MetricsService } from './metrics/metrics.service.js';
import { OrderService } from './orders/order.service.js';
import { SegmentService } from './segments/segment.service.js';
import { vocabularyOf } from './segments/language.js';
import { AnalyticsService } from './analytics/analytics.service.js';
import { RecommendationService } from './recommendations/recommendation.service.js';
import { RecommendationStore } from './recommendations/recommendation.store.js';
import { KokyakuError } from './shared/errors.js';
import { AuditService } from './audit/audit.service.js';
import { PrivacyService } from './privacy/privacy.service.js';
import { ImportService } from './imports/import.service.js';
import { ExportService } from './imports/export.service.js';
import { IdentityService } from './customers/identity.service.js';
import { SYSTEM, bindTenant, installTenantSessions, routeReads, sql } from './shared/sql.js';
import { CustomFieldService } from './fields/custom-fields.js';
import { CompanyService } from './crm/companies.js';
import { DealService } from './crm/deals.js';
import { NoteService, TaskService } from './crm/notes-tasks.js';
import { InquiryService } from './crm/inquiries.js';
import { ScoringService } from './crm/scoring.js';
import { TimelineService } from './crm/timeline.js';
import { JourneyEngine } from './automation/engine.js';
import { JourneyService } from './automation/journeys.js';
import { AutomationWorker, JOURNEY_QUEUE } from './automation/worker.js';
import { MailboxService } from './mailbox/mailbox.service.js';
import { MailboxWorker } from './mailbox/worker.js';
import { MessageLinks } from './automation/links.js';
import type { KokyakuPlugin } from './plugin.js';
import { PluginRegistry } from './plugin-registry.js';
import { HookDispatcher } from './module/hooks.js';
import type { RefreshRun } from './module/module.js';
import { composeModules } from './modules.js';
import { KOKYAKU_VERSION } from './version.js';

export interface Kokyaku {
  readonly config: KokyakuConfig;
  readonly orm: MikroORM;
  /** Set when Kokyaku runs on its embedded PostgreSQL. */
  readonly embedded: EmbeddedPostgres | null;
  /** Connection string of the database in use. */
  readonly databaseUrl: string;
  /** The read replicas (`database.readReplicas`), or null when there are none (docs/scaling.md). */
  readonly replicas: ReadReplicas | null;
  /**
   * What the processes sharing this database tell each other (LISTEN/NOTIFY): cached figures
   * that changed, and where an actor's last write ended.
   */
  readonly bus: Bus;
  /**
   * Remembers that the context's actor just wrote: their next reads from a replica wait until it
   * has replayed the write (in every process, told through the bus). The GraphQL server calls it
   * after each mutation; a no-op without replicas.
   */
  wrote(ctx: KokyakuContext): Promise<void>;
  /** Prometheus metrics (`telemetry.metrics()`, `/metrics` of `kokyaku serve`) and OpenTelemetry spans (docs/scaling.md). */
  readonly telemetry: Telemetry;
  readonly products: ProductService;
  readonly customers: CustomerService;
  readonly orders: OrderService;
  readonly events: EventService;
  readonly metrics: MetricsService;
  readonly segments: SegmentService;
  readonly analytics: AnalyticsService;
  readonly recommendations: RecommendationService;
  /** Privacy requests: export, erase, consent, objection (GDPR, APPI). */
  readonly privacy: PrivacyService;
  /** Who read or changed whose personal data. */
  readonly audit: AuditService;
  /** CSV imports of customers, products, orders and events: streaming, resumable, idempotent. */
  readonly imports: ImportService;
  /** Identity resolution: duplicate candidates, merge previews and merges. */
  readonly identity: IdentityService;
  /** Streaming exports of customers (with metrics and segments), orders and segments to CSV or JSON. */
  readonly exports: ExportService;
  /** Typed custom field definitions of customers, companies and deals. */
  readonly customFields: CustomFieldService;
  /** B2B companies: a tree of any depth with contact customers and rolled-up revenue. */
  readonly companies: CompanyService;
  /** Pipelines, deals, stage history and the weighted forecast. */
  readonly deals: DealService;
  readonly notes: NoteService;
  readonly tasks: TaskService;
  /** Inquiries and complaints with reply threads and response/resolution times. */
  readonly inquiries: InquiryService;
  /** Lead scoring rules, bands, and each customer's score. */
  readonly scoring: ScoringService;
  /** One ordered stream per customer or company of everything that happened. */
  readonly timeline: TimelineService;
  /** Journeys (event-triggered automation), their runs, messages, policy and reports. */
  readonly journeys: JourneyService;
  /** The shop's mailboxes and the mail they hold about customers (docs/mailbox.md). */
  readonly mailbox: MailboxService;
  /**
   * Follows every active mailbox (IMAP IDLE, else polling). `kokyaku serve` starts one unless
   * `mailbox.worker` is false; `kokyaku worker` runs one too. Stop it before `close()`.
   */
  startMailboxWorker(options?: { log?: (message: string) => void }): Promise<MailboxWorker>;
  /**
   * The journey worker (pg-boss on the same database). `kokyaku serve` starts one unless
   * `automation.worker` is false; `kokyaku worker` runs one on its own. Stop it before `close()`.
   */
  startWorker(options?: { log?: (message: string) => void }): Promise<AutomationWorker>;
  /** A click on a tracked link: records it and returns where to send the browser (null: unknown link). */
  followLink(token: string, link: number): Promise<string | null>;
  /**
   * A provider's delivery report when the tenant is not known (a provider webhook): finds the
   * sent message by channel and provider id in any shop and marks it DELIVERED or FAILED.
   */
  recordDelivery(input: { channel: 'EMAIL' | 'LINE' | 'SMS'; providerId: string; status: 'DELIVERED' | 'FAILED'; error?: string | null }): Promise<boolean>;
  /** The unsubscribe link of a message: withdraws consent on the message's channel. */
  unsubscribe(token: string): Promise<{ channel: string; customerId: string } | null>;
  /** The plugins of this instance, checked at start-up (docs/plugins.md). */
  readonly plugins: PluginRegistry;
  /** The services of a listed plugin (what its `services` slot made). */
  plugin<S>(plugin: KokyakuPlugin<S>): S;
  /**
   * A context for one request or job: its own EntityManager fork, one tenant, one actor. With
   * `reads: 'replica'` its reads outside transactions go to a read replica when there is one
   * (after the actor's last write is replayed there); its writes, and its reads once it wrote,
   * go to the primary.
   */
  context(options?: { tenantId?: string; actor?: Actor | null; reads?: 'primary' | 'replica' }): KokyakuContext;
  /** Applies pending migrations; returns the names applied. */
  migrate(): Promise<string[]>;
  /**
   * Whether this Kokyaku can serve: PostgreSQL answers (within 2 s) and no migration is pending.
   * What a readiness probe (`/readyz` of every mount) asks; it never throws.
   */
  ready(): Promise<Readiness>;
  /**
   * Recomputes everything derived, for every tenant, synchronously: customer metrics, RFM scores
   * and deciles, the CLV models and their predictions, the recommendation counts and neighbour
   * lists, lead scores (fading points fade here), then the members of every saved segment
   * (recording who entered and left). When it returns, queries reflect all ingested data.
   */
  refresh(options?: { now?: Date }): Promise<{ tenants: number; customers: number; segmentChanges: number; clvFitted: number; failures: RefreshFailure[] }>;
  /**
   * Moves every row of one shop (core's tables and the plugins') to the database at `targetUrl`,
   * migrated alike, then erases it here (docs/scaling.md#moving-a-shop-to-another-database). Run
   * it again after a failure: a complete copy in the target goes on to the erasure.
   */
  moveShop(tenantId: string, targetUrl: string, options?: MoveOptions): Promise<ShopMove>;
  /** Closes the pool and stops the embedded database if this process started it. */
  close(): Promise<void>;
}

/** What `ready()` found. */
export interface Readiness {
  ready: boolean;
  /** PostgreSQL answered. */
  database: boolean;
  pendingMigrations: string[];
  error?: string;
}

/** A step of `refresh` that failed for a tenant; the other steps ran. */
export interface RefreshFailure {
  tenantId: string;
  step: string;
  message: string;
}

/**
 * Starts Kokyaku: connects to PostgreSQL (`database.url`, else `DATABASE_URL`, else an embedded
 * server it starts), applies migrations, and returns the core services.
 *
 * @example
 * const kokyaku = await createKokyaku({ shop: { currency: 'JPY', timeZone: 'Asia/Tokyo' } });
 * const ctx = kokyaku.context();
 * await kokyaku.orders.record(ctx, [{ externalId: 'o-1', customerExternalId: 'c-1', placedAt: new Date(),
 *   lines: [{ productExternalId: 'p-1', quantity: 1, unitPrice: 1200 }] }]);
 * await kokyaku.close();
 */
export async function createKokyaku(config: KokyakuConfig | KokyakuUserConfig = {}): Promise<Kokyaku> {
  const resolved = isComplete(config) ? config : defineConfig(config);
  // Plugins are checked before anything starts: a wrong one is a clear error, not a half-started shop.
  const plugins = new PluginRegistry(resolved.plugins, KOKYAKU_VERSION);
  const { orm, embedded, url } = await connect(resolved, plugins);
  // Core's domains and the plugins, each a module; their reactions go through one dispatcher.
  const modules = composeModules(resolved.plugins);
  const hooks = new HookDispatcher(modules);
  const services = makeServices(resolved, plugins, hooks);
  const { journeys } = services;
  const links = new MessageLinks({
    system: () => bindTenant(orm.em.fork(), SYSTEM),
    context: (tenantId, actor) => kokyaku.context({ tenantId, actor }),
    privacy: services.privacy,
    journeys,
  });
  const pluginServices = new Map<string, unknown>();
  const { bus, replicas, wrote } = await shareWithOtherProcesses(resolved, orm, url, services);
  const telemetry = new Telemetry(orm, replicas);
  const kokyaku: Kokyaku = {
    config: resolved,
    orm,
    embedded,
    databaseUrl: url,
    replicas,
    bus,
    wrote,
    telemetry,
    ...services,
    imports: new ImportService(
      {
        customers: (ctx, docs) => kokyaku.customers.upsert(ctx, docs as never),
        products: (ctx, docs) => kokyaku.products.upsert(ctx, docs as never),
        orders: (ctx, docs) => kokyaku.orders.record(ctx, docs as never),
        events: (ctx, docs) => kokyaku.events.track(ctx, docs as never),
        validate: (ctx, kind, docs) => kokyaku[kind].validate(ctx, docs),
      },
      resolved.imports,
    ),
    startWorker: async (options = {}) =>
      new AutomationWorker({
        orm,
        databaseUrl: url,
        config: resolved.automation,
        journeys,
        context: (tenantId) => kokyaku.context({ tenantId }),
        log: options.log,
        onJob: (outcome) => telemetry.jobs.inc({ queue: JOURNEY_QUEUE, outcome }),
      }).start(),
    startMailboxWorker: async (options = {}) =>
      new MailboxWorker({ databaseUrl: url, config: resolved.mailbox, mailbox: services.mailbox, context: (tenantId) => kokyaku.context({ tenantId }), log: options.log }).start(),
    followLink: (token, link) => links.follow(token, link),
    recordDelivery: (input) => links.recordDelivery(input),
    unsubscribe: (token) => links.unsubscribe(token),
    plugins,
    plugin: <S>(plugin: KokyakuPlugin<S>): S => {
      if (plugins.get(plugin.name) !== plugin) {
        throw KokyakuError.missing(`Plugin "${plugin.name}" is not in this Kokyaku's plugins: add it to createKokyaku({ plugins: [...] }).`, { plugin: plugin.name });
      }
      if (!pluginServices.has(plugin.name)) pluginServices.set(plugin.name, plugin.services?.(kokyaku));
      return pluginServices.get(plugin.name) as S;
    },
    context: (options = {}) => {
      const tenantId = options.tenantId ?? resolved.defaultTenant;
      const actor = options.actor ?? null;
      const em = bindTenant(orm.em.fork(), tenantId);
      if (replicas && options.reads === 'replica') routeReads(em, { replicas, key: readerKey(tenantId, actor), enabled: true });
      return { tenantId, actor, em, shop: resolved.shop };
    },
    migrate: () => migrate(orm, url),
    ready: () => readiness(orm),
    moveShop: (tenantId, targetUrl, options) =>
      moveShop({ sourceUrl: url, targetUrl, tenantId, tables: hooks.tenantTables(), erase: () => services.privacy.eraseShop(kokyaku.context({ tenantId })) }, options),
    refresh: (options = {}) => observedRefresh(telemetry, () => refreshEveryShop(kokyaku, hooks, options)),
    close: async () => {
      await journeys.engine.close();
      await bus.close();
      await replicas?.close();
      await orm.close(true);
      await embedded?.stop();
    },
  };
  plugins.attach(kokyaku);
  hooks.attach(kokyaku);
  return kokyaku;
}

/**
 * What this process shares with the others on the database: the bus (LISTEN/NOTIFY) for cache
 * drops and write positions, and the read replicas with the actors' write positions.
 */
async function shareWithOtherProcesses(resolved: KokyakuConfig, orm: MikroORM, url: string, services: ReturnType<typeof makeServices>) {
  const system = () => bindTenant(orm.em.fork(), SYSTEM);
  const bus = new Bus(url);
  const replicas = resolved.database.readReplicas.length
    ? new ReadReplicas(resolved.database.readReplicas, {
        poolSize: resolved.database.poolSize,
        waitMs: resolved.database.replicaWaitMs,
        primaryPosition: async () => (await sql<{ position: string }>(system(), 'select pg_current_wal_lsn()::text as position'))[0]!.position,
        log: (message) => console.warn(message),
      })
    : null;
  bus.subscribe((message) => {
    if (message.kind === 'wrote') replicas?.wrote(message.key, message.position);
  });
  services.recommendations.shareChanges(bus);
  await Promise.all([bus.ready, replicas?.check()]);
  const wrote = async (ctx: KokyakuContext): Promise<void> => {
    if (!replicas) return;
    const key = readerKey(ctx.tenantId, ctx.actor);
    const [row] = await sql<{ position: string }>(
      system(),
      `select position, pg_notify('kokyaku', json_build_object('kind', 'wrote', 'key', $1::text, 'position', position, 'origin', $2::text)::text)
         from (select pg_current_wal_lsn()::text as position) p`,
      [key, bus.origin],
    );
    replicas.wrote(key, row!.position);
  };
  return { bus, replicas, wrote };
}

/** The database: the configured one, else an embedded server started here; migrated unless told not to. */
async function connect(resolved: KokyakuConfig, plugins: PluginRegistry): Promise<{ orm: MikroORM; embedded: EmbeddedPostgres | null; url: string }> {
  const { database } = resolved;
  let embedded: EmbeddedPostgres | null = null;
  let url = database.url;
  if (!url) {
    embedded = await startEmbeddedPostgres(database.embedded);
    await embedded.ensureDatabase(database.embedded.databaseName);
    url = embedded.url(database.embedded.databaseName);
  }
  try {
    const orm = await createOrm({ url, poolSize: database.poolSize, onQuery: database.onQuery, migrations: plugins.migrations(), entities: plugins.entities() });
    try {
      await orm.em.getKnex().raw('select 1');
    } catch (error) {
      await orm.close(true);
      throw KokyakuError.databaseUnavailable(error);
    }
    if (database.migrate) await migrate(orm, url);
    installTenantSessions(orm.em, await tenantRole(orm));
    return { orm, embedded, url };
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
}

/** Core's services, each made once; what they tell each other goes through `hooks`. */
function makeServices(resolved: KokyakuConfig, plugins: PluginRegistry, hooks: HookDispatcher) {
  const metrics = new MetricsService();
  const segments = new SegmentService(vocabularyOf(composeModules(resolved.plugins)), hooks);
  const products = new ProductService();
  const recommendations = new RecommendationService(resolved.recommendations, products, segments, new RecommendationStore(), metrics);
  const customFields = new CustomFieldService();
  const audit = new AuditService();
  const customers = new CustomerService(metrics, hooks, audit);
  const tasks = new TaskService();
  const privacy = new PrivacyService(audit, metrics, hooks, customers);
  const engine = new JourneyEngine({ customers, segments, privacy, recommendations, messaging: resolved.messaging, plugins });
  const inquiries = new InquiryService(hooks);
  return {
    metrics,
    segments,
    analytics: new AnalyticsService(resolved.analytics),
    products,
    recommendations,
    customFields,
    audit,
    customers,
    tasks,
    privacy,
    journeys: new JourneyService({ segments, customers, recommendations, engine, plugins }),
    orders: new OrderService(metrics, hooks),
    events: new EventService(hooks),
    exports: new ExportService(customers, segments, audit),
    identity: new IdentityService(metrics, hooks, audit),
    companies: new CompanyService(customFields),
    deals: new DealService(customFields),
    notes: new NoteService(),
    inquiries,
    mailbox: new MailboxService(resolved.mailbox, customers, inquiries, hooks),
    scoring: new ScoringService(segments, plugins),
    timeline: new TimelineService(hooks),
  };
}

/** What `ready()` answers: PostgreSQL within 2 s, and no migration pending. */
async function readiness(orm: MikroORM): Promise<Readiness> {
  try {
    const answer = orm.em.getKnex().raw('select 1');
    await Promise.race([answer, new Promise((_, reject) => setTimeout(() => reject(new Error('PostgreSQL did not answer within 2 s')), 2000).unref())]);
  } catch (error) {
    return { ready: false, database: false, pendingMigrations: [], error: error instanceof Error ? error.message : String(error) };
  }
  const pending = (await orm.getMigrator().getPendingMigrations()).map((m) => m.name);
  return {
    ready: pending.length === 0,
    database: true,
    pendingMigrations: pending,
    ...(pending.length ? { error: `${pending.length} migration(s) pending: run kokyaku migrate` } : {}),
  };
}

/** A refresh in a span, timed and its failed steps counted (the refresh metrics). */
async function observedRefresh(telemetry: Telemetry, run: () => ReturnType<Kokyaku['refresh']>): ReturnType<Kokyaku['refresh']> {
  const timer = telemetry.refreshSeconds.startTimer();
  try {
    const result = await telemetry.span('kokyaku.refresh', {}, run);
    for (const failure of result.failures) telemetry.refreshFailures.inc({ step: failure.step });
    return result;
  } finally {
    timer();
  }
}

/** `refresh`: every module's refresh for every shop, each step on its own. */
async function refreshEveryShop(kokyaku: Kokyaku, hooks: HookDispatcher, options: { now?: Date }): ReturnType<Kokyaku['refresh']> {
  // Across tenants: as the database user itself.
  const em = bindTenant(kokyaku.orm.em.fork(), SYSTEM);
  const tenants = await sql<{ tenant_id: string }>(em, 'select distinct tenant_id from kokyaku.customers order by tenant_id');
  // Statistics first (the modules' `maintenance.before`, e.g. the recommendation rebuild's sources).
  for (const { module, statement } of hooks.maintenance('before')) await maintain(em, statement, `${module}: could not run "${statement}" before refresh`);
  const failures: RefreshFailure[] = [];
  const figures = { customers: 0, clvFitted: 0, segmentChanges: 0 };
  for (const { tenant_id } of tenants) {
    // Every module's refresh, in module order (metrics, RFM and CLV, recommendations, plugins, lead scores, segments).
    const run: RefreshRun = {
      now: options.now ?? new Date(),
      requestedNow: options.now,
      // Each step on its own: one that fails is reported and the others still run (a stale CLV
      // model must not leave every segment stale too).
      step: async (name, work) => {
        try {
          return await kokyaku.telemetry.span(`kokyaku.refresh.${name}`, { 'kokyaku.tenant_id': tenant_id }, () => work());
        } catch (error) {
          failures.push({ tenantId: tenant_id, step: name, message: error instanceof Error ? error.message : String(error) });
          console.warn(`[kokyaku] refresh of tenant ${tenant_id}: ${name} failed: ${String(error)}`);
          return undefined;
        }
      },
      count: (figure, n) => {
        figures[figure] += n;
      },
    };
    await hooks.refresh(kokyaku.context({ tenantId: tenant_id }), run);
  }
  // Then the modules' `maintenance.after` (a vacuum of the facts and scores the refresh rewrote).
  for (const { module, statement } of hooks.maintenance('after')) await maintain(em, statement, `${module}: could not run "${statement}" after refresh`);
  return { tenants: tenants.length, ...figures, failures };
}

/** A maintenance statement that may fail (a lock, rights) without failing the refresh. */
async function maintain(em: Parameters<typeof sql>[0], statement: string, warning: string): Promise<void> {
  try {
    await sql(em, statement);
  } catch (error) {
    console.warn(`[kokyaku] ${warning}: ${String(error)}`);
  }
}

/**
 * The role tenant statements run as: `kokyaku_tenant` (made by the tenant_isolation migration)
 * when this database user may take it on. Without it, row-level security binds only a database
 * user that is neither a superuser nor BYPASSRLS: say so rather than pretend.
 */
async function tenantRole(orm: MikroORM): Promise<string | null> {
  const rows = (await orm.em.getKnex().raw(
    `select r.rolname is not null and pg_has_role(current_user, r.oid, 'member') as usable, u.rolsuper or u.rolbypassrls as bypasses
       from pg_roles u left join pg_roles r on r.rolname = 'kokyaku_tenant' where u.rolname = current_user`,
  )) as { rows: { usable: boolean | null; bypasses: boolean }[] };
  const row = rows.rows[0];
  if (row?.usable) return 'kokyaku_tenant';
  if (row?.bypasses) {
    console.warn(
      '[kokyaku] the database user bypasses row-level security and cannot take on the role kokyaku_tenant: tenant isolation rests on the queries alone. Run the migrations as a user allowed to create roles.',
    );
  }
  return null;
}

/** Whose writes a replica read must see: one actor of one tenant. */
function readerKey(tenantId: string, actor: Actor | null): string {
  return `${tenantId}|${actor?.id ?? ''}`;
}

function isComplete(config: KokyakuConfig | KokyakuUserConfig): config is KokyakuConfig {
  return Boolean(
    config.database?.embedded?.dataDir &&
      config.shop?.currency &&
      config.shop.timeZone &&
      config.shop.defaultCountry &&
      config.defaultTenant &&
      config.analytics?.rfmGrid &&
      config.analytics.clv &&
      config.recommendations?.excludePurchased &&
      config.imports &&
      config.messaging &&
      config.automation &&
      config.plugins,
  );
}
