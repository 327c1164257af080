import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { KokyakuContext } from '../shared/context.js';
import type { CustomerRecord, CustomerService } from '../customers/customer.service.js';
import type { AuditService } from '../audit/audit.service.js';
import type { SegmentService } from '../segments/segment.service.js';
import { KokyakuError } from '../shared/errors.js';
import { toMajorUnits } from '../shared/money.js';
import type { Page } from '../shared/pagination.js';
import { asDate, sql } from '../shared/sql.js';
import { csvCell } from '../shared/cells.js';

export const EXPORT_KINDS = ['customers', 'orders', 'segments'] as const;
export type ExportKind = (typeof EXPORT_KINDS)[number];
export type ExportFormat = 'csv' | 'json';

export interface ExportOptions {
  kind: ExportKind;
  format: ExportFormat;
  /** Customers only: just those a segment query selects. */
  segment?: string | null;
  /** CSV: start with a byte order mark, so that spreadsheet programs read UTF-8 (default true). */
  bom?: boolean;
  onProgress?: (rows: number) => void;
}

type Row = Record<string, string | number | boolean | null>;

/** Rows per page: the largest page the lists give out. */
const PAGE = 500;

function customerRow(c: CustomerRecord, segments: string[]): Row {
  const m = c.metrics;
  return {
    externalId: c.externalId,
    email: c.email,
    phone: c.phone,
    lastName: c.lastName,
    firstName: c.firstName,
    lastNameKana: c.lastNameKana,
    firstNameKana: c.firstNameKana,
    birthday: c.birthday,
    region: c.region,
    city: c.city,
    country: c.country,
    tags: c.tags.join(';'),
    customFields: Object.keys(c.customFields).length ? JSON.stringify(c.customFields) : null,
    emailConsent: c.emailConsent,
    createdAt: c.createdAt.toISOString(),
    ordersCount: m.ordersCount,
    totalSpent: m.totalSpent,
    averageOrderValue: m.averageOrderValue,
    firstOrderAt: m.firstOrderAt?.toISOString() ?? null,
    lastOrderAt: m.lastOrderAt?.toISOString() ?? null,
    rfmGroup: m.rfm.group,
    decile: m.decile,
    predictedClv: m.predictedClv,
    churnRisk: m.churnRisk,
    segments: segments.join(';'),
  };
}

/**
 * Streams customers (with their metrics and segments), orders (a row per line) or segments to CSV
 * or JSON, a page at a time. Text that a spreadsheet would take for a formula is written with a
 * leading apostrophe. An export of customers is one entry in the audit log.
 */
export class ExportService {
  constructor(
    private readonly customers: CustomerService,
    private readonly segments: SegmentService,
    private readonly audit: AuditService,
  ) {}

  async export(ctx: KokyakuContext, out: Writable, options: ExportOptions): Promise<{ rows: number }> {
    if (!EXPORT_KINDS.includes(options.kind)) throw KokyakuError.badInput(`Unknown kind "${options.kind}"; one of ${EXPORT_KINDS.join(', ')}.`, { field: 'kind' });
    if (options.format !== 'csv' && options.format !== 'json') throw KokyakuError.badInput('format is csv or json.', { field: 'format' });
    const writer = new RowWriter(out, options.format, options.bom ?? true);
    let rows = 0;
    const emit = async (batch: Row[]) => {
      for (const row of batch) await writer.write(row);
      rows += batch.length;
      options.onProgress?.(rows);
    };
    if (options.kind === 'customers') {
      let after: string | null = null;
      for (;;) {
        const page: Page<CustomerRecord> = options.segment
          ? await this.segments.customers(ctx, options.segment, { first: PAGE, after })
          : await this.customers.list(ctx, { first: PAGE, after });
        const memberships = await this.segments.segmentsOfCustomers(
          ctx,
          page.nodes.map((c) => c.id),
        );
        await emit(
          page.nodes.map((c) =>
            customerRow(
              c,
              (memberships.get(c.id) ?? []).map((s) => s.name),
            ),
          ),
        );
        if (!page.hasNextPage) break;
        after = page.endCursor;
      }
      await this.audit.record(ctx, [{ action: 'EXPORT', customerId: null, detail: { kind: 'customers', rows, segment: options.segment ?? null } }]);
    } else if (options.kind === 'orders') {
      let after = '0';
      for (;;) {
        const lines = await sql<{
          order_id: string;
          id: string;
          customer: string;
          placed_at: Date | string;
          status: string;
          currency: string;
          sku: string;
          product: string;
          quantity: number;
          unit_price_minor: string;
        }>(
          ctx.em,
          `select o.external_id as order_id, o.id::text as id, c.external_id as customer, o.placed_at, o.status, o.currency,
                  p.external_id as sku, p.name as product, l.quantity, l.unit_price_minor::text
           from (select * from kokyaku.orders where tenant_id = $1 and id > $2::bigint order by id limit $3) o
           join kokyaku.customers c on c.tenant_id = $1 and c.id = o.customer_id
           join kokyaku.order_lines l on l.tenant_id = $1 and l.order_id = o.id
           join kokyaku.products p on p.tenant_id = $1 and p.id = l.product_id
           order by o.id, l.position`,
          [ctx.tenantId, after, PAGE],
        );
        if (lines.length === 0) break;
        await emit(
          lines.map((l) => {
            const unitPrice = toMajorUnits(Number(l.unit_price_minor), l.currency);
            return {
              orderId: l.order_id,
              customerId: l.customer,
              placedAt: asDate(l.placed_at).toISOString(),
              status: l.status,
              currency: l.currency,
              sku: l.sku,
              productName: l.product,
              quantity: l.quantity,
              unitPrice,
              lineTotal: toMajorUnits(Number(l.unit_price_minor) * l.quantity, l.currency),
            };
          }),
        );
        after = lines.at(-1)!.id;
      }
    } else {
      let after: string | null = null;
      for (;;) {
        const page = await this.segments.list(ctx, { first: PAGE, after });
        const rowsOut: Row[] = [];
        for (const s of page.nodes) {
          rowsOut.push({ id: s.id, name: s.name, query: s.query, customers: await this.segments.count(ctx, s.query), createdAt: s.createdAt.toISOString() });
        }
        await emit(rowsOut);
        if (!page.hasNextPage) break;
        after = page.endCursor;
      }
    }
    await writer.end();
    return { rows };
  }
}

/** CSV (header from the first row, values made formula-safe) or a JSON array, written as it goes. */
class RowWriter {
  private columns: string[] | null = null;
  private first = true;

  constructor(
    private readonly out: Writable,
    private readonly format: ExportFormat,
    private readonly bom: boolean,
  ) {}

  private async put(text: string): Promise<void> {
    if (!this.out.write(text)) await once(this.out, 'drain');
  }

  async write(row: Row): Promise<void> {
    if (this.format === 'json') {
      await this.put(`${this.first ? '[\n' : ',\n'}${JSON.stringify(row)}`);
      this.first = false;
      return;
    }
    if (!this.columns) {
      this.columns = Object.keys(row);
      await this.put(`${this.bom ? '\uFEFF' : ''}${this.columns.map(csvCell).join(',')}\r\n`);
    }
    await this.put(`${this.columns.map((c) => csvCell(row[c])).join(',')}\r\n`);
  }

  async end(): Promise<void> {
    if (this.format === 'json') await this.put(this.first ? '[]\n' : '\n]\n');
    else if (!this.columns && this.bom) await this.put('\uFEFF');
  }
}
