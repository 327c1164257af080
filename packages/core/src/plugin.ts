import type { EntitySchema } from '@mikro-orm/core';
import type { StandardResult, StandardSchemaV1 } from './shared/standard-schema.js';
import type { AutomationStep, StepRun } from './module/steps.js';
export type { StandardResult, StandardSchemaV1 };
import type { CustomerTable, KokyakuModule, ModuleHooks, OrderChangeSummary } from './module/module.js';
import type { ChannelAdapter } from './automation/channels.js';
import type { Actor, KokyakuContext, Role } from './shared/context.js';
import type { ScoringRuleInput } from './crm/scoring.js';
import type { Kokyaku } from './kokyaku.js';
import type { SegmentAttribute, SegmentFunction } from './module/segment-language.js';
import semver from 'semver';

/**
 * A plugin extends Kokyaku through one typed object with explicit slots. Every slot is optional
 * but `name`, `version` and `compatibility`. List plugins in `createKokyaku({ plugins: [...] })`
 * (and the same list in the server's schema options); Kokyaku checks them all at start-up and
 * refuses to start with a message that says what to change.
 *
 * @example
 * export const loyalty = definePlugin({
 *   name: 'loyalty',
 *   version: '1.0.0',
 *   compatibility: '^0.1.0',
 *   migrations: [{ name: '001_ledger', up: 'create table kokyaku.loyalty_ledger (...)' }],
 *   tenantTables: ['loyalty_ledger'],
 *   segmentAttributes: [{ name: 'points_balance', type: 'integer', sql: '...', description: '...', example: 'points_balance >= 500' }],
 *   hooks: { orderRecorded: async (ctx, orders) => { ... } },
 *   services: (kokyaku) => new LoyaltyService(kokyaku),
 * });
 */
export interface KokyakuPlugin<Services = unknown> extends KokyakuModule<Kokyaku> {
  /** Lower case letters, digits and `_` (e.g. `loyalty`); the prefix of its tables. */
  readonly name: string;
  /** The plugin's own version (semver), shown in errors and in `kokyaku.plugins`. */
  readonly version: string;
  /** The versions of `@kokyaku/core` it works with, as a semver range (e.g. `^0.1.0`). */
  readonly compatibility: string;
  /**
   * SQL migrations, applied in order after core's and recorded like them (as
   * `plugin:<name>:<migration>`): never edit one that has shipped, add another.
   */
  readonly migrations?: readonly PluginMigration[];
  /**
   * Tables of the plugin (in schema `kokyaku`, named `<plugin>_...`) that have a `tenant_id`:
   * they get the tenant isolation policy, and erasing a shop deletes their rows.
   */
  readonly tenantTables?: readonly string[];
  /**
   * The tenant tables keyed by customer: merge, erasure, the data export and shop erasure cover
   * them without a hook (rows moved to the survivor, deleted, listed under `plugins.<name>`); say
   * `custom` where your hook does it instead (docs/architecture.md).
   */
  readonly customerTables?: readonly CustomerTable[];
  /**
   * MikroORM entities over the plugin's tables (`defineEntity` from `@kokyaku/core`), for
   * `em.find` and friends. Use them inside `transaction(ctx, (em) => ...)`: the transaction enters
   * the shop, so row-level security holds for what MikroORM reads and writes.
   */
  readonly entities?: readonly EntitySchema<any, any>[];
  /** Attributes of customers in the segment language (usable in segments, conditions and scoring rules). */
  readonly segmentAttributes?: readonly PluginSegmentAttribute[];
  /** MATCHES functions over the plugin's tables (`loyalty_entries MATCHES (kind = 'REDEEM', count >= 2)`). */
  readonly segmentFunctions?: readonly PluginSegmentFunction[];
  /** Lead scoring rules that apply in every shop, next to the shop's own (docs/crm.md). */
  readonly scoringRules?: readonly PluginScoringRule[];
  /** Step types journeys can use (`{ "id": "award", "type": "AWARD_POINTS", "points": 100 }`). */
  readonly automationSteps?: readonly PluginAutomationStep[];
  /** Transports for the built-in channels (e.g. email through a provider's API instead of SMTP). */
  readonly channels?: Partial<Record<'EMAIL' | 'LINE' | 'SMS', ChannelAdapter>>;
  readonly hooks?: PluginHooks;
  /** The plugin's own services, made once when Kokyaku starts: `kokyaku.plugin(myPlugin)` returns them. */
  readonly services?: (kokyaku: Kokyaku) => Services;
  /** GraphQL: new types, fields on Kokyaku's types, queries and mutations. */
  readonly graphql?: PluginGraphQL;
}

export interface PluginMigration {
  /** Unique within the plugin, sorted by you: `001_ledger`, `002_expiry`. */
  name: string;
  /** One or more SQL statements. They run in one transaction with every other pending migration. */
  up: string | readonly string[];
}

/**
 * An attribute of customers in the segment language, as core's modules declare theirs. Its `sql`
 * may read `f.customer_id` (the customer), `$1` (the tenant id), and the alias of `join`: a scalar
 * subquery over your tables, or a column of the joined table, e.g.
 * `{ table: 'kokyaku.loyalty_accounts', alias: 'loyalty_acc', on: 'loyalty_acc.customer_id = f.customer_id' }`
 * (one row per customer at most; the alias must start with the plugin's name). A join lets a count
 * over many customers read the table once instead of once per customer.
 */
export type PluginSegmentAttribute = SegmentAttribute;

/**
 * A MATCHES function over one of the plugin's tables (with `tenant_id` and `customer_id`): rows
 * narrowed by filter arguments and totalled per customer (`count`, and `totals` of your own), as
 * for `orders_placed MATCHES (...)`.
 */
export type PluginSegmentFunction = SegmentFunction;

export type PluginScoringRule = ScoringRuleInput;

export type PluginStepRun<Options> = StepRun<Options>;

/**
 * A step type journeys can use, as core's modules declare theirs (TASK, TAG, FIELD, WEBHOOK): an
 * UPPER_SNAKE_CASE `type` that is not a core step's, an `options` schema (a Standard Schema such as
 * a zod object) checked when a journey is saved, and `run`, inside the step's transaction.
 */
export type PluginAutomationStep<Options = any> = AutomationStep<Options, Kokyaku>;

/** An order whose contribution changed: newly placed, cancelled, or placed again. */
export type PluginOrderChange = OrderChangeSummary;

/**
 * Lifecycle hooks: the hooks of every module (docs/architecture.md has their order). Each runs
 * inside the transaction of the change it reports (but `segmentEntered`, `segmentChanged` and
 * `refresh`, which run where segments are re-evaluated): a hook that throws rolls the change
 * back. Hooks of several plugins run in the order the plugins are listed, after core's data
 * modules and before lead scores, segments and automation; merge, erasure and shop erasure run
 * the other way. Each gets the Kokyaku instance last, for its services (`kokyaku.segments`,
 * `kokyaku.plugin(...)`).
 */
export type PluginHooks = ModuleHooks<Kokyaku>;

/** What a plugin's GraphQL resolvers receive as context (the server's request context has these). */
export interface PluginResolverContext {
  kokyaku: Kokyaku;
  core: KokyakuContext;
  actor: Actor | null;
  /**
   * A batching loader for this request, made on first use under `name` (DataLoader): a field of
   * every customer in a list costs one call of `batch`, not one per customer.
   */
  loader<K, V>(name: string, batch: (keys: readonly K[]) => Promise<readonly V[]>): { load(key: K): Promise<V> };
}

export type PluginResolver = (source: any, args: any, context: PluginResolverContext, info: unknown) => unknown;

export interface PluginGraphQL {
  /**
   * SDL. New types, and extensions: `extend type Customer { loyalty: LoyaltyAccount! }`,
   * `extend type Query { ... }`, `extend type Mutation { ... }`. Name new types after the plugin
   * (`LoyaltyAccount`) so that two plugins cannot collide.
   */
  typeDefs: string;
  resolvers: Record<string, Record<string, PluginResolver>>;
  /**
   * Who may use each field the plugin adds (`'Query.loyaltyLedger': ['ADMIN', 'SUPPORT']`,
   * `'LoyaltyAccount.balance': 'inherit'`). Root fields name roles; fields of objects name roles
   * or `inherit` (whoever reached the object). The schema refuses to build while a field has none.
   */
  access: Record<string, 'inherit' | readonly Role[]>;
}

export class PluginError extends Error {
  override name = 'PluginError';
}

const NAME = /^[a-z][a-z0-9_]{1,30}$/;
const STEP_TYPE = /^[A-Z][A-Z0-9_]{1,40}$/;

/**
 * Declares a plugin, checking its shape at once (names, ranges, tables) so that a mistake shows
 * where the plugin is written rather than when a shop starts.
 */
export function definePlugin<Services = unknown>(plugin: KokyakuPlugin<Services>): KokyakuPlugin<Services> {
  const where = `Plugin "${String(plugin?.name)}"`;
  if (typeof plugin?.name !== 'string' || !NAME.test(plugin.name)) {
    throw new PluginError(`${where}: name must be 2-31 lower case letters, digits or "_", starting with a letter (e.g. "loyalty").`);
  }
  if (typeof plugin.version !== 'string' || !semver.valid(plugin.version)) {
    throw new PluginError(`${where}: version "${String(plugin.version)}" is not a semver version (e.g. "1.0.0").`);
  }
  if (typeof plugin.compatibility !== 'string' || !semver.validRange(plugin.compatibility)) {
    throw new PluginError(`${where}: compatibility "${String(plugin.compatibility)}" is not a semver range of @kokyaku/core versions (e.g. "^0.1.0").`);
  }
  const migrationNames = new Set<string>();
  for (const m of plugin.migrations ?? []) {
    if (!/^[A-Za-z0-9_.-]{1,100}$/.test(m.name ?? '')) throw new PluginError(`${where}: migration name "${String(m.name)}" must be 1-100 letters, digits, "_", "." or "-".`);
    if (migrationNames.has(m.name)) throw new PluginError(`${where}: two migrations are named "${m.name}".`);
    migrationNames.add(m.name);
  }
  for (const table of plugin.tenantTables ?? []) {
    if (!new RegExp(`^${plugin.name}_[a-z0-9_]{1,40}$`).test(table)) {
      throw new PluginError(`${where}: tenant table "${table}" must be named "${plugin.name}_<something>" (lower case), so that plugins and core never share a table name.`);
    }
  }
  for (const t of plugin.customerTables ?? []) {
    if (!plugin.tenantTables?.includes(t.table)) throw new PluginError(`${where}: customer table "${String(t.table)}" must be one of its tenantTables.`);
    if (t.column !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(t.column))
      throw new PluginError(`${where}: customer table "${t.table}": column "${String(t.column)}" is not a column name.`);
  }
  for (const entity of plugin.entities ?? []) {
    const meta = (entity as { meta?: { schema?: string; tableName?: string; className?: string } }).meta;
    if (meta?.schema !== 'kokyaku' || !meta.tableName?.startsWith(`${plugin.name}_`)) {
      throw new PluginError(
        `${where}: entity ${String(meta?.className)} must map a table of schema "kokyaku" named "${plugin.name}_<something>" (schema: 'kokyaku', tableName: '${plugin.name}_...').`,
      );
    }
  }
  for (const a of plugin.segmentAttributes ?? []) {
    if (!/^[a-z][a-z0-9_]{1,62}$/.test(a.name ?? '')) throw new PluginError(`${where}: segment attribute "${String(a.name)}" must be snake_case.`);
    if (typeof a.sql !== 'string' || !a.sql.trim()) throw new PluginError(`${where}: segment attribute "${a.name}" needs its sql.`);
    if (a.type === 'enum' && (!a.values || Object.keys(a.values).length === 0)) throw new PluginError(`${where}: enum attribute "${a.name}" needs its values.`);
    if (a.join) {
      if (!new RegExp(`^${plugin.name}_[a-z0-9_]{0,40}$`).test(a.join.alias ?? '')) {
        throw new PluginError(
          `${where}: segment attribute "${a.name}": join alias "${String(a.join.alias)}" must start with "${plugin.name}_" (lower case), so that it meets no other alias.`,
        );
      }
      if (!/^kokyaku\.[a-z][a-z0-9_]*$/.test(a.join.table ?? ''))
        throw new PluginError(`${where}: segment attribute "${a.name}": join table must be a table of schema kokyaku ("kokyaku.${plugin.name}_...").`);
    }
  }
  for (const f of plugin.segmentFunctions ?? []) {
    const at = `${where}: segment function "${String(f.name)}"`;
    if (!/^[a-z][a-z0-9_]{1,62}$/.test(f.name ?? '')) throw new PluginError(`${at} must be snake_case.`);
    if (!new RegExp(`^kokyaku\\.${plugin.name}_[a-z0-9_]{1,40}$`).test(f.table ?? ''))
      throw new PluginError(`${at}: table must be one of the plugin's ("kokyaku.${plugin.name}_...").`);
    const names = new Set<string>(['count']);
    for (const arg of [...(f.filters ?? []), ...(f.totals ?? [])]) {
      if (!/^[a-z][a-z0-9_]{0,62}$/.test(arg.name ?? '') || names.has(arg.name))
        throw new PluginError(`${at}: argument "${String(arg.name)}" must be snake_case and used once ("count" is always there).`);
      names.add(arg.name);
    }
    for (const filter of f.filters ?? []) {
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(filter.column ?? '')) throw new PluginError(`${at}: filter "${filter.name}" must name a column of the table.`);
    }
  }
  for (const s of plugin.automationSteps ?? []) {
    if (!STEP_TYPE.test(s.type ?? '')) throw new PluginError(`${where}: step type "${String(s.type)}" must be UPPER_SNAKE_CASE (e.g. "AWARD_POINTS").`);
    if (typeof s.options?.['~standard']?.validate !== 'function') {
      throw new PluginError(`${where}: step type "${s.type}" needs an options schema (a Standard Schema such as a zod object).`);
    }
    if (typeof s.run !== 'function') throw new PluginError(`${where}: step type "${s.type}" needs a run function.`);
  }
  return plugin;
}

/** Throws unless `version` of @kokyaku/core is within the plugin's compatibility range. */
export function checkCompatibility(plugin: KokyakuPlugin, coreVersion: string): void {
  if (!semver.satisfies(coreVersion, plugin.compatibility, { includePrerelease: true })) {
    throw new PluginError(
      `Plugin "${plugin.name}" ${plugin.version} works with @kokyaku/core ${plugin.compatibility}, but this is @kokyaku/core ${coreVersion}. ` +
        `Install a version of "${plugin.name}" made for ${coreVersion}, or a version of @kokyaku/core within ${plugin.compatibility}.`,
    );
  }
}
