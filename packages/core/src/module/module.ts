import type { KokyakuContext, ShopConfig } from '../shared/context.js';
import type { SegmentAttribute, SegmentCustomFields, SegmentFunction } from './segment-language.js';
import type { AutomationStep } from './steps.js';

/**
 * A table keyed by customer (it has `tenant_id` and a customer column). Declaring it is enough for
 * merge, erasure, the data export and shop erasure to cover it: by default a merge moves its rows
 * to the survivor, an erasure deletes the customer's rows, and the export lists them under the
 * table's name. A module whose rows need more (added up, blanked instead of deleted) says `custom`
 * and does it in its hook.
 */
export interface CustomerTable {
  /** The table in schema `kokyaku`, without the schema: `loyalty_ledger`. */
  table: string;
  /** The column naming the customer (default `customer_id`). */
  column?: string;
  /** On a merge: `move` the merged-away customers' rows to the survivor (default), or `custom` (the module's `customerMerged` hook). */
  merge?: 'move' | 'custom';
  /** On erasure: `delete` the customer's rows (default), or `custom` (the module's `customerErased` hook blanks what is personal). */
  erase?: 'delete' | 'custom';
  /** In the data export: the rows as JSON under the table's name (default), or `custom` (the module's `exportCustomer` hook). */
  export?: 'rows' | 'custom';
}

/** An order whose contribution changed: newly placed, cancelled, or placed again. */
export interface OrderChangeSummary {
  orderId: string;
  customerId: string;
  /** Counts now (PLACED). */
  placed: boolean;
  /** Counted before this batch. */
  wasPlaced: boolean;
}

/** An order's contribution as placed (null when it did not exist or was not PLACED). */
export interface OrderState {
  orderId: string;
  customerId: string;
  placedAt: Date;
  lines: { productId: string; quantity: number }[];
}

/** An order whose contribution changed: recorded, cancelled, re-lined, moved or re-dated. */
export interface OrderChange {
  before: OrderState | null;
  after: OrderState | null;
}

/** What `orderRecorded` hooks get for each order: the summary, and the contribution before and after. */
export interface RecordedOrder extends OrderChangeSummary, OrderChange {}

/** What `eventsTracked` hooks get: who had events stored, of which types, and which of them are new placeholders. */
export interface TrackedEvents {
  customerIds: readonly string[];
  newCustomerIds: readonly string[];
  types: ReadonlyMap<string, ReadonlySet<string>>;
  /** The stored events that name a customer. */
  eventIds: readonly string[];
}

/** A stored mail message, as `emailsStored` hooks get it. */
export interface StoredEmail {
  /** The message's id in Kokyaku. */
  id: string;
  direction: 'RECEIVED' | 'SENT';
  /** Every customer it belongs to (sender and recipients). */
  customerIds: readonly string[];
  /** The customer who sent it (received mail), if any. */
  senderId: string | null;
  /** The inquiry whose thread it joined or opened. */
  inquiryId: string | null;
  sentAt: Date;
}

/** One step of `refresh` for one shop, reported on its own when it fails (the others still run). */
export interface RefreshRun {
  now: Date;
  /** The `now` the caller gave, if any (steps that default to the database's clock take this one). */
  requestedNow?: Date;
  step<T>(name: string, run: () => Promise<T>): Promise<T | undefined>;
  /** Adds to the figures `refresh` returns. */
  count(figure: 'customers' | 'clvFitted' | 'segmentChanges', n: number): void;
}

/**
 * Lifecycle hooks. Each runs inside the transaction of the change it reports (but
 * `segmentEntered`, `segmentChanged` and `refresh`, which run where segments are re-evaluated): a
 * hook that throws rolls the change back. The dispatcher calls them in module order (core's data
 * modules, then plugins in the order listed, then core's reacting modules: scoring, segments,
 * automation); merge, erasure and shop erasure go the other way, dependents first
 * (docs/architecture.md). Each gets the Kokyaku instance last.
 */
export interface ModuleHooks<K = unknown> {
  /** Customers' figures changed (orders, profiles, a merge or an erasure): derived scores and segments follow. */
  customersChanged?(ctx: KokyakuContext, change: { customerIds: readonly string[] }, kokyaku: K): Promise<void>;
  /** Orders were recorded: after they are stored and the customers' figures updated, before `customersChanged`. */
  orderRecorded?(ctx: KokyakuContext, orders: readonly RecordedOrder[], kokyaku: K): Promise<void>;
  /** Storefront events were stored (after `customersChanged` for the placeholders the batch created). */
  eventsTracked?(ctx: KokyakuContext, events: TrackedEvents, kokyaku: K): Promise<void>;
  /** An inquiry was opened or answered by its customer. */
  inquiryActivity?(ctx: KokyakuContext, activity: { inquiryId: string; customerIds: readonly string[] }, kokyaku: K): Promise<void>;
  /** Mail to or from customers was stored (mailbox sync, or sent from Kokyaku). */
  emailsStored?(ctx: KokyakuContext, mail: { messages: readonly StoredEmail[] }, kokyaku: K): Promise<void>;
  /** Customers entered a saved segment. */
  segmentEntered?(ctx: KokyakuContext, entered: { segmentId: string; customerIds: readonly string[] }, kokyaku: K): Promise<void>;
  /** Customers entered or left a saved segment the module watches (`watchedSegments`). */
  segmentChanged?(ctx: KokyakuContext, change: { segmentId: string; entered: readonly string[]; left: readonly string[] }, kokyaku: K): Promise<void>;
  /** The saved segments whose changes `segmentChanged` wants (the ids are collected only for these). */
  watchedSegments?(ctx: KokyakuContext, kokyaku: K): Promise<readonly string[]>;
  /** Customers were merged: before the merged-away customers' rows are deleted (move your rows to the survivor). */
  customerMerged?(ctx: KokyakuContext, merge: { survivorId: string; mergedIds: readonly string[] }, kokyaku: K): Promise<void>;
  /** A customer is being erased (right to be forgotten): remove or blank your personal data about them. */
  customerErased?(ctx: KokyakuContext, customerId: string, kokyaku: K): Promise<void>;
  /** What the module holds about a customer, for the data export (subject access request). */
  exportCustomer?(ctx: KokyakuContext, customerId: string, kokyaku: K): Promise<unknown>;
  /** A whole shop is being deleted: after the module's tenant tables are emptied. */
  shopErased?(ctx: KokyakuContext, kokyaku: K): Promise<void>;
  /** `refresh` for one shop. */
  refresh?(ctx: KokyakuContext, run: RefreshRun, kokyaku: K): Promise<void>;
}

/**
 * The one shape of every part of Kokyaku: each domain of core is a module, and a plugin is a
 * module from outside (`KokyakuPlugin` adds its version, compatibility, migrations, segment
 * language, steps, channels, services and GraphQL). `K` is what the module's hooks need of the
 * Kokyaku instance (core's modules name only the services they call).
 */
export interface KokyakuModule<K = unknown> {
  /** Lower case letters, digits and `_`. */
  readonly name: string;
  /**
   * Tables with a `tenant_id`, children before parents: they get the tenant isolation policy (for
   * plugins), and erasing a shop deletes their rows in this order.
   */
  readonly tenantTables?: readonly string[];
  /** The tenant tables keyed by customer: merge, erasure and the export cover them (see `CustomerTable`). */
  readonly customerTables?: readonly CustomerTable[];
  /**
   * Of its tenant tables, those other modules' SQL may read (joins, reports, the timeline): their
   * columns are a contract the module keeps, and a migration that changes one updates every
   * reader. Writes stay the module's own: other modules go through its services or the statements
   * it exports (`published.ts`). A test fails on any other use (docs/architecture.md).
   */
  readonly published?: readonly string[];
  readonly hooks?: ModuleHooks<K>;
  /** Where the module's entries of the customer timeline come from (a kind of `TIMELINE_KINDS` each). */
  readonly timeline?: readonly TimelineSource[];
  /** Attributes of customers in the segment language (usable in segments, conditions and scoring rules). */
  readonly segmentAttributes?: readonly SegmentAttribute[];
  /** MATCHES functions over the module's tables (`orders_placed MATCHES (date > -90d, count >= 2)`). */
  readonly segmentFunctions?: readonly SegmentFunction[];
  /** Where `custom.<key>` of the segment language reads (the customers module's). */
  readonly segmentCustomFields?: SegmentCustomFields;
  /**
   * Statements `refresh` runs once for all shops, as the database user, outside any transaction
   * (a failure is only warned about): `before` the shops' refresh (statistics the module's
   * rebuild depends on), `after` it (a vacuum of the rows it rewrote).
   */
  readonly maintenance?: { readonly before?: string; readonly after?: string };
  /** Step types journeys can use (`{ "id": "call", "type": "TASK", "title": "..." }`); each runs with the Kokyaku instance. */
  readonly automationSteps?: readonly AutomationStep<any, K>[];
}

/**
 * One kind of timeline entry: a keyset-ordered read of the module's own table, and how an entry
 * reads for people. `select` gives `actor_id`, `customer_id` and `data` (a JSON object); `where`
 * filters the tenant (`$1`) and, through `who`, the customer or a company's contacts.
 */
export interface TimelineSource {
  kind: string;
  /** The entry's time (a timestamptz column). */
  at: string;
  /** The record's id (a bigint column). */
  id: string;
  select: string;
  from: string;
  where(filter: { who: (column: string) => string; whoOrCompany: (customerColumn: string, companyColumn: string) => string }): string;
  /** The entry's one-line summary, and the data it shows (default: the selected data). */
  present(data: Record<string, unknown>, shop: ShopConfig): { summary: string; data?: Record<string, unknown> };
}

/** Declares a module of core (a plugin uses `definePlugin`). */
export function defineModule<K>(module: KokyakuModule<K>): KokyakuModule<K> {
  for (const t of module.published ?? []) {
    if (!module.tenantTables?.includes(t)) throw new Error(`Module "${module.name}": published table "${t}" must be one of its tenantTables.`);
  }
  for (const t of module.customerTables ?? []) {
    if (!module.tenantTables?.includes(t.table)) {
      throw new Error(`Module "${module.name}": customer table "${t.table}" must be one of its tenantTables.`);
    }
  }
  return module;
}
