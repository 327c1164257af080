import { HookDispatcher } from '../module/hooks.js';
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { mapPrefixedProduct, type ProductRecord, productColumns } from '../catalog/product.service.js';
import type { KokyakuContext } from '../shared/context.js';
import type { RecordedOrder } from '../module/module.js';
import { type BatchItemError, type BatchResult, type OrderState, emptyResult, lastPerKey, validateBatch } from '../ingestion/batch.js';
import { ensureCustomers } from '../customers/placeholders.js';
import { ensureProducts } from '../catalog/placeholders.js';
import type { MetricsService } from '../metrics/metrics.service.js';
import { KokyakuError } from '../shared/errors.js';
import { MAX_MINOR, moneyProblem, toMajorUnits, toMinorUnits } from '../shared/money.js';
import { decodeCursor, encodeCursor, type Page, pageSize, type PageArgs } from '../shared/pagination.js';
import { asDate, prepared, sql, transaction } from '../shared/sql.js';
import { externalIdSchema, instantSchema } from '../shared/validation.js';
import { ORDER_STATUSES, type OrderStatus } from './statuses.js';

export interface OrderLineInput {
  productExternalId: string;
  quantity: number;
  /** Unit price in major units of the order currency. */
  unitPrice: number;
}

export interface OrderInput {
  externalId: string;
  customerExternalId: string;
  placedAt: Date | string;
  /** ISO 4217; defaults to the shop currency (the only one accepted for now). */
  currency?: string | null;
  /** PLACED (default) or CANCELLED; record the order again with CANCELLED to cancel it. */
  status?: OrderStatus | null;
  lines: OrderLineInput[];
}

export interface OrderRecord {
  id: string;
  externalId: string;
  customerId: string;
  placedAt: Date;
  currency: string;
  status: OrderStatus;
  total: number;
  totalMinor: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface OrderLineRecord {
  id: string;
  orderId: string;
  position: number;
  productId: string;
  quantity: number;
  unitPrice: number;
  unitPriceMinor: number;
  total: number;
  totalMinor: number;
  currency: string;
  /** The line's product, read in the same statement. */
  product: ProductRecord;
}

function orderSchema(shopCurrency: string) {
  const line = z.strictObject({
    productExternalId: externalIdSchema,
    quantity: z.number({ error: 'Must be a whole number.' }).int('Must be a whole number.').positive('Must be at least 1.').max(1_000_000, 'At most 1,000,000.'),
    unitPrice: z.number({ error: 'Must be a number.' }).finite('Must be a finite number.').nonnegative('Must not be negative.'),
  });
  return z
    .strictObject({
      externalId: externalIdSchema,
      customerExternalId: externalIdSchema,
      placedAt: instantSchema,
      currency: z
        .string({ error: 'Must be an ISO 4217 currency code.' })
        .trim()
        .toUpperCase()
        .nullable()
        .optional()
        .transform((v) => v ?? shopCurrency)
        .refine((v) => v === shopCurrency, `Orders must be in the shop currency ${shopCurrency}; multi-currency shops are not supported yet.`),
      status: z
        .enum(ORDER_STATUSES, { error: `Must be one of ${ORDER_STATUSES.join(', ')}.` })
        .nullable()
        .optional()
        .transform((v) => v ?? 'PLACED'),
      lines: z.array(line, { error: 'Must be a list of order lines.' }).min(1, 'An order needs at least one line.').max(1000, 'At most 1000 lines.'),
    })
    .superRefine((order, ctx) => {
      let total = 0;
      order.lines.forEach((l, i) => {
        const problem = moneyProblem(l.unitPrice, order.currency);
        if (problem) {
          ctx.addIssue({ code: 'custom', path: ['lines', i, 'unitPrice'], message: problem });
          return;
        }
        const line = l.quantity * toMinorUnits(l.unitPrice, order.currency)!;
        total += line;
        if (!Number.isSafeInteger(line))
          ctx.addIssue({
            code: 'custom',
            path: ['lines', i, 'quantity'],
            message: `quantity x unitPrice is more than ${MAX_MINOR.toLocaleString('en')} minor units of ${order.currency}.`,
          });
      });
      if (Number.isSafeInteger(total) === false && order.lines.every((l) => Number.isSafeInteger(l.quantity * (toMinorUnits(l.unitPrice, order.currency) ?? 0)))) {
        ctx.addIssue({ code: 'custom', path: ['lines'], message: `The order's total is more than ${MAX_MINOR.toLocaleString('en')} minor units of ${order.currency}.` });
      }
    });
}

interface OrderRow {
  id: string;
  external_id: string;
  customer_id: string;
  placed_at: Date;
  currency: string;
  status: OrderStatus;
  total_minor: string;
  created_at: Date;
  updated_at: Date;
}

function mapOrder(row: OrderRow): OrderRecord {
  const totalMinor = Number(row.total_minor);
  return {
    id: row.id,
    externalId: row.external_id,
    customerId: row.customer_id,
    placedAt: asDate(row.placed_at),
    currency: row.currency,
    status: row.status,
    totalMinor,
    total: toMajorUnits(totalMinor, row.currency),
    createdAt: asDate(row.created_at),
    updatedAt: asDate(row.updated_at),
  };
}

const ORDER_COLUMNS = `o.id::text as id, o.external_id, o.customer_id::text as customer_id, o.placed_at, o.currency,
  o.status, o.total_minor, o.created_at, o.updated_at`;

/** A page of each customer's orders, newest first, with the number of all their orders. */
const ORDERS_OF_CUSTOMERS = prepared(`
  select * from (
    select counted.*, row_number() over (partition by counted.customer_id order by counted.sort_at desc, counted.sort_id desc) as rn
    from (
      select ${ORDER_COLUMNS}, o.placed_at as sort_at, o.id as sort_id,
             (count(*) over (partition by o.customer_id))::int as total
      from kokyaku.orders o
      where o.tenant_id = $1 and o.customer_id = any(kokyaku.json_bigints($2::jsonb))
    ) counted
    where ($3::timestamptz is null or (counted.sort_at, counted.sort_id) < ($3::timestamptz, $4::bigint))
  ) ranked
  where rn <= $5
  order by customer_id, rn`);

const LINES_OF_ORDERS = prepared(`
  select l.id::text as id, l.order_id::text as order_id, l.position, l.product_id::text as product_id,
         l.quantity, l.unit_price_minor, o.currency, ${productColumns('product_')}
  from kokyaku.order_lines l join kokyaku.orders o on o.tenant_id = l.tenant_id and o.id = l.order_id
  join kokyaku.products p on p.tenant_id = l.tenant_id and p.id = l.product_id
  where l.tenant_id = $1 and l.order_id = any(kokyaku.json_bigints($2::jsonb))
  order by l.order_id, l.position`);

const UPSERT_ORDERS = `
  insert into kokyaku.orders as t (tenant_id, external_id, customer_id, placed_at, currency, status, total_minor, lines_digest)
  select $1, i.doc->>'externalId', (i.doc->>'customerId')::bigint, (i.doc->>'placedAt')::timestamptz,
         i.doc->>'currency', i.doc->>'status', (i.doc->>'totalMinor')::bigint, i.doc->>'linesDigest'
  from jsonb_array_elements($2::jsonb) as i(doc)
  on conflict (tenant_id, external_id) do update
    set customer_id = excluded.customer_id, placed_at = excluded.placed_at, currency = excluded.currency,
        status = excluded.status, total_minor = excluded.total_minor, lines_digest = excluded.lines_digest,
        updated_at = now()
    where (t.customer_id, t.placed_at, t.currency, t.status, t.total_minor, t.lines_digest)
      is distinct from (excluded.customer_id, excluded.placed_at, excluded.currency, excluded.status,
                        excluded.total_minor, excluded.lines_digest)
  returning t.id::text as id, t.external_id, t.customer_id::text as customer_id, (t.xmax::text = '0') as inserted`;

const DELETE_LINES = `
  delete from kokyaku.order_lines
  where tenant_id = $1 and order_id = any(kokyaku.json_bigints($2::jsonb))`;

const INSERT_LINES = `
  insert into kokyaku.order_lines (tenant_id, order_id, position, product_id, quantity, unit_price_minor)
  select $1, (l->>'orderId')::bigint, (l->>'position')::int, (l->>'productId')::bigint,
         (l->>'quantity')::int, (l->>'unitPriceMinor')::bigint
  from jsonb_array_elements($2::jsonb) as l`;

export class OrderService {
  constructor(
    private readonly metrics: MetricsService,
    private readonly hooks: HookDispatcher = new HookDispatcher([]),
  ) {}

  /** The errors `record` would report for these items, writing nothing (import dry runs). */
  validate(ctx: KokyakuContext, orders: readonly unknown[]): BatchItemError[] {
    return validateBatch(orders, orderSchema(ctx.shop.currency), 'externalId').errors;
  }

  /**
   * Records orders, idempotent on their shop id: the same order again changes nothing; the
   * same id with a new status (CANCELLED) or new lines updates it. Unknown customers and products
   * are created as placeholders. Metrics of every touched customer are recomputed in the same
   * transaction.
   */
  async record(ctx: KokyakuContext, orders: readonly OrderInput[]): Promise<BatchResult> {
    const { valid, errors } = validateBatch(orders, orderSchema(ctx.shop.currency), 'externalId');
    const result = emptyResult(orders.length, errors);
    const items = lastPerKey(valid, (o) => o.externalId).sort((a, b) => (a.value.externalId < b.value.externalId ? -1 : a.value.externalId > b.value.externalId ? 1 : 0));
    if (items.length === 0) return result;

    await transaction(ctx, async (em) => {
      const tx: KokyakuContext = { ...ctx, em };
      const customerIds = await ensureCustomers(
        tx,
        items.map((i) => i.value.customerExternalId),
      );
      const productIds = await ensureProducts(
        tx,
        items.flatMap((i) => i.value.lines.map((l) => l.productExternalId)),
      );
      // Customers first: a concurrent batch recording the same orders holds them until it
      // commits, so the stored state read next is the state after it.
      await this.metrics.lockCustomers(tx, [...customerIds.values()]);
      // The stored state of these orders: their customers must be locked and recomputed too
      // (an order may move to another customer), and unchanged lines need no rewrite.
      const stored = await storedOrders(
        tx,
        items.map((i) => i.value.externalId),
      );
      await this.metrics.lockCustomers(
        tx,
        [...stored.values()].map((r) => r.customer_id),
      );
      const { docs, linesByOrder } = orderDocs(
        items.map((i) => i.value),
        customerIds,
        productIds,
      );
      const docByExternalId = new Map(docs.map((d) => [d.externalId, d]));
      const { changed, before } = await contributionsBefore(tx, stored, docByExternalId);

      const written = await sql<WrittenOrder>(em, UPSERT_ORDERS, [ctx.tenantId, JSON.stringify(docs)]);
      await rewriteLines(tx, written, stored, docByExternalId, linesByOrder);

      const touched = new Set<string>();
      for (const w of written) {
        touched.add(w.customer_id);
        const previous = stored.get(w.external_id);
        if (previous) touched.add(previous.customer_id);
      }
      await this.metrics.recomputeForCustomers(tx, touched);
      await this.hooks.orderRecorded(tx, recordedOrders(written, stored, docByExternalId, changed, before, linesByOrder));
      await this.hooks.customersChanged(tx, [...touched]);

      result.created = written.filter((w) => w.inserted).length;
      result.updated = written.length - result.created;
      result.unchanged -= written.length;
    });
    return result;
  }

  async findByExternalId(ctx: KokyakuContext, externalId: string): Promise<OrderRecord | null> {
    const rows = await sql<OrderRow>(ctx.em, `select ${ORDER_COLUMNS} from kokyaku.orders o where o.tenant_id = $1 and o.external_id = $2`, [ctx.tenantId, externalId]);
    return rows[0] ? mapOrder(rows[0]) : null;
  }

  /**
   * The orders of many customers, newest first, one page per customer, in one statement
   * (for DataLoaders). Cancelled orders are included with their status. `totalCount` is the
   * number of all the customer's orders (the window that ranks them counts them for free).
   */
  async listForCustomers(ctx: KokyakuContext, customerIds: readonly string[], args: PageArgs = {}): Promise<Map<string, Page<OrderRecord> & { totalCount: number }>> {
    const first = pageSize(args.first);
    let after: [string, string] | null = null;
    if (args.after) {
      const [placedAt, id] = decodeCursor(args.after, 'o');
      if (!placedAt || !id || !/^\d{1,18}$/.test(id) || Number.isNaN(Date.parse(placedAt))) throw KokyakuError.invalidCursor(args.after);
      after = [placedAt, id];
    }
    const pages = new Map<string, Page<OrderRecord> & { totalCount: number }>(customerIds.map((id) => [id, { nodes: [], hasNextPage: false, endCursor: null, totalCount: 0 }]));
    if (customerIds.length === 0) return pages;
    const rows = await sql<OrderRow & { total: number }>(ctx.em, ORDERS_OF_CUSTOMERS, [
      ctx.tenantId,
      JSON.stringify(customerIds),
      after?.[0] ?? null,
      after?.[1] ?? null,
      first + 1,
    ]);
    for (const row of rows) {
      const page = pages.get(row.customer_id);
      if (!page) continue;
      page.totalCount = row.total;
      if (page.nodes.length < first) page.nodes.push(mapOrder(row));
      else page.hasNextPage = true;
    }
    for (const page of pages.values()) {
      const last = page.nodes.at(-1);
      page.endCursor = last ? encodeCursor('o', [last.placedAt.toISOString(), last.id]) : null;
    }
    return pages;
  }

  /** The lines of many orders, in order, with their products, in one statement (for DataLoaders). */
  async linesForOrders(ctx: KokyakuContext, orderIds: readonly string[]): Promise<Map<string, OrderLineRecord[]>> {
    const lines = new Map<string, OrderLineRecord[]>(orderIds.map((id) => [id, []]));
    if (orderIds.length === 0) return lines;
    const rows = await sql<{
      id: string;
      order_id: string;
      position: number;
      product_id: string;
      quantity: number;
      unit_price_minor: string;
      currency: string;
    }>(ctx.em, LINES_OF_ORDERS, [ctx.tenantId, JSON.stringify(orderIds)]);
    for (const row of rows) {
      const unitPriceMinor = Number(row.unit_price_minor);
      const totalMinor = unitPriceMinor * row.quantity;
      lines.get(row.order_id)?.push({
        id: row.id,
        orderId: row.order_id,
        position: row.position,
        productId: row.product_id,
        quantity: row.quantity,
        unitPriceMinor,
        unitPrice: toMajorUnits(unitPriceMinor, row.currency),
        totalMinor,
        total: toMajorUnits(totalMinor, row.currency),
        currency: row.currency,
        product: mapPrefixedProduct(row, 'product_'),
      });
    }
    return lines;
  }
}

interface StoredOrder {
  id: string;
  external_id: string;
  customer_id: string;
  lines_digest: string;
  status: OrderStatus;
  placed_at: Date | string;
}

interface WrittenOrder {
  id: string;
  external_id: string;
  customer_id: string;
  inserted: boolean;
}

interface OrderLineDoc {
  position: number;
  productExternalId: string;
  productId: string;
  quantity: number;
  unitPriceMinor: number;
}

type OrderDoc = ReturnType<typeof orderDocs>['docs'][number];

/** The stored state of these orders, by the shop's id. */
async function storedOrders(ctx: KokyakuContext, externalIds: readonly string[]): Promise<Map<string, StoredOrder>> {
  const rows = await sql<StoredOrder>(
    ctx.em,
    `select id::text as id, external_id, customer_id::text as customer_id, lines_digest, status, placed_at from kokyaku.orders
     where tenant_id = $1 and external_id = any(kokyaku.json_texts($2::jsonb))`,
    [ctx.tenantId, JSON.stringify(externalIds)],
  );
  return new Map(rows.map((row) => [row.external_id, row]));
}

/** The rows to write: each order with its total and a digest of its lines (unchanged lines are not rewritten). */
function orderDocs(orders: readonly z.output<ReturnType<typeof orderSchema>>[], customerIds: ReadonlyMap<string, string>, productIds: ReadonlyMap<string, string>) {
  const linesByOrder = new Map<string, OrderLineDoc[]>();
  const docs = orders.map((o) => {
    const lines = o.lines.map((l, position) => ({
      position,
      productExternalId: l.productExternalId,
      productId: productIds.get(l.productExternalId)!,
      quantity: l.quantity,
      unitPriceMinor: toMinorUnits(l.unitPrice, o.currency)!,
    }));
    linesByOrder.set(o.externalId, lines);
    const digest = createHash('sha256')
      .update(JSON.stringify(lines.map((l) => [l.productExternalId, l.quantity, l.unitPriceMinor])))
      .digest('base64url');
    return {
      externalId: o.externalId,
      customerId: customerIds.get(o.customerExternalId)!,
      placedAt: o.placedAt.toISOString(),
      currency: o.currency,
      status: o.status,
      totalMinor: lines.reduce((sum, l) => sum + l.quantity * l.unitPriceMinor, 0),
      linesDigest: digest,
    };
  });
  return { docs, linesByOrder };
}

/**
 * The stored orders whose contribution changes (placed or not, lines, customer, date), and what
 * those placed contributed, read before their lines go.
 */
async function contributionsBefore(ctx: KokyakuContext, stored: ReadonlyMap<string, StoredOrder>, docs: ReadonlyMap<string, OrderDoc>) {
  const changed = [...stored.values()].filter((s) => {
    const d = docs.get(s.external_id)!;
    const wasPlaced = s.status === 'PLACED';
    const isPlaced = d.status === 'PLACED';
    if (!wasPlaced && !isPlaced) return false;
    return wasPlaced !== isPlaced || s.lines_digest !== d.linesDigest || s.customer_id !== d.customerId || asDate(s.placed_at).getTime() !== Date.parse(d.placedAt);
  });
  const before = new Map<string, OrderState>();
  const placedBefore = changed.filter((s) => s.status === 'PLACED');
  if (placedBefore.length > 0) {
    const oldLines = await sql<{ order_id: string; product_id: string; quantity: number }>(
      ctx.em,
      `select order_id::text as order_id, product_id::text as product_id, quantity from kokyaku.order_lines
       where tenant_id = $1 and order_id = any(kokyaku.json_bigints($2::jsonb))`,
      [ctx.tenantId, JSON.stringify(placedBefore.map((s) => s.id))],
    );
    for (const s of placedBefore) before.set(s.external_id, { orderId: s.id, customerId: s.customer_id, placedAt: asDate(s.placed_at), lines: [] });
    const byId = new Map(placedBefore.map((s) => [s.id, before.get(s.external_id)!]));
    for (const line of oldLines) byId.get(line.order_id)?.lines.push({ productId: line.product_id, quantity: line.quantity });
  }
  return { changed, before };
}

/** New lines for the orders whose lines changed (the old ones deleted first). */
async function rewriteLines(
  ctx: KokyakuContext,
  written: readonly WrittenOrder[],
  stored: ReadonlyMap<string, StoredOrder>,
  docs: ReadonlyMap<string, OrderDoc>,
  linesByOrder: ReadonlyMap<string, OrderLineDoc[]>,
): Promise<void> {
  const relines = written.filter((w) => stored.get(w.external_id)?.lines_digest !== docs.get(w.external_id)?.linesDigest);
  if (relines.length === 0) return;
  const replaced = relines.filter((w) => !w.inserted).map((w) => w.id);
  if (replaced.length > 0) await sql(ctx.em, DELETE_LINES, [ctx.tenantId, JSON.stringify(replaced)]);
  const lines = relines.flatMap((w) => (linesByOrder.get(w.external_id) ?? []).map((l) => ({ ...l, orderId: w.id })));
  await sql(ctx.em, INSERT_LINES, [ctx.tenantId, JSON.stringify(lines)]);
}

/** The orders whose contribution changed, as `orderRecorded` hooks get them. */
function recordedOrders(
  written: readonly WrittenOrder[],
  stored: ReadonlyMap<string, StoredOrder>,
  docs: ReadonlyMap<string, OrderDoc>,
  changed: readonly StoredOrder[],
  before: ReadonlyMap<string, OrderState>,
  linesByOrder: ReadonlyMap<string, OrderLineDoc[]>,
): RecordedOrder[] {
  const out: RecordedOrder[] = [];
  for (const w of written) {
    const d = docs.get(w.external_id)!;
    const previous = stored.get(w.external_id);
    if (previous && !changed.includes(previous)) continue;
    const after: OrderState | null =
      d.status === 'PLACED'
        ? {
            orderId: w.id,
            customerId: w.customer_id,
            placedAt: new Date(d.placedAt),
            lines: (linesByOrder.get(w.external_id) ?? []).map((l) => ({ productId: l.productId, quantity: l.quantity })),
          }
        : null;
    const beforeState = before.get(w.external_id) ?? null;
    if (!after && !beforeState) continue;
    const state = (after ?? beforeState)!;
    out.push({ before: beforeState, after, orderId: state.orderId, customerId: state.customerId, placed: after !== null, wasPlaced: beforeState !== null });
  }
  return out;
}
