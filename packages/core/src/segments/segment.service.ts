import { z } from 'zod';
import type { KokyakuContext } from '../shared/context.js';
import { CUSTOMER_ALIASES, CUSTOMER_COLUMNS, CUSTOMER_FROM, type CustomerRecord, mapCustomer } from '../customers/customer.service.js';
import { KokyakuError } from '../shared/errors.js';
import { decodeCursor, type Page, pageSize, type PageArgs, keysetPage } from '../shared/pagination.js';
import { asDate, prepared, sql, transaction } from '../shared/sql.js';
import { isId } from '../shared/validation.js';
import { unique } from '../shared/pg-errors.js';
import { type CompiledSegment, compileSegmentQuery, segmentFrom, segmentJoins } from './compiler.js';
import { type CustomFieldDefinition, loadDefinitions } from '../fields/custom-fields.js';
import { todayIn } from '../shared/dates.js';
import { CALLS, type SegmentVocabulary, vocabularyOf } from './language.js';
import { HookDispatcher } from '../module/hooks.js';

export interface SegmentRecord {
  id: string;
  name: string;
  query: string;
  createdAt: Date;
  updatedAt: Date;
}

/** What `SegmentService.language` lists (the completion source of the console's editor). */
export interface SegmentLanguage {
  attributes: { name: string; type: string; description: string; example: string; values: string[]; plugin: string | null }[];
  functions: {
    name: string;
    description: string;
    example: string;
    arguments: { name: string; type: string; role: 'filter' | 'aggregate'; description: string }[];
    plugin: string | null;
  }[];
  /** Subjects written as a call, e.g. `anniversary(birthday)`; `arguments` are the attributes it takes. */
  calls: { name: string; description: string; example: string; arguments: string[] }[];
  customFields: { key: string; label: string; type: string; options: string[] }[];
}

export interface SegmentInput {
  name: string;
  query: string;
}

export interface SegmentChange {
  segmentId: string;
  customerId: string;
  change: 'ENTERED' | 'LEFT';
  occurredAt: Date;
}

interface SegmentRow {
  id: string;
  name: string;
  query: string;
  created_at: Date | string;
  updated_at: Date | string;
}

const mapSegment = (row: SegmentRow): SegmentRecord => ({
  id: row.id,
  name: row.name,
  query: row.query,
  createdAt: asDate(row.created_at),
  updatedAt: asDate(row.updated_at),
});

const SEGMENT_COLUMNS = `s.id::text as id, s.name, s.query, s.created_at, s.updated_at`;
const SEGMENTS_OF_CUSTOMERS = prepared(`
  select m.customer_id::text as customer_id, ${SEGMENT_COLUMNS}
  from kokyaku.segment_members m join kokyaku.segments s on s.tenant_id = m.tenant_id and s.id = m.segment_id
  where m.tenant_id = $1 and m.customer_id = any(kokyaku.json_bigints($2::jsonb))
  order by s.id`);

const segmentInput = z.strictObject({
  name: z.string({ error: 'Required: a name.' }).trim().min(1, 'Must not be empty.').max(200, 'At most 200 characters.'),
  query: z.string({ error: 'Required: a segment query.' }).max(10_000, 'At most 10,000 characters.'),
});

/**
 * Segments: ad-hoc queries (count, preview, paginated customers) and saved segments whose
 * members are kept current as data arrives, with each entering and leaving recorded.
 */
export class SegmentService {
  constructor(
    /** The attributes and functions of the composed modules (`vocabularyOf(modules)`). */
    private readonly vocabulary: SegmentVocabulary = vocabularyOf([]),
    private readonly hooks: HookDispatcher = new HookDispatcher([]),
  ) {}

  /**
   * The vocabulary of this shop's segment language: core's attributes and MATCHES functions, the
   * plugins', and the customer custom fields (`custom.<key>`). Editors complete from it.
   */
  async language(ctx: KokyakuContext): Promise<SegmentLanguage> {
    const attributes = [...this.vocabulary.attributes.values()].map((a) => ({
      name: a.name,
      type: a.type,
      description: a.description,
      example: a.example,
      values: a.values ? Object.keys(a.values) : [],
      plugin: a.plugin,
    }));
    const functions = [...this.vocabulary.functions.values()].map((f) => ({
      name: f.name,
      description: f.description,
      example: f.example,
      arguments: f.args.map((a) => ({ name: a.name, type: a.type, role: a.role, description: a.description })),
      plugin: f.plugin,
    }));
    const customFields = [...(await loadDefinitions(ctx, 'CUSTOMER')).values()].map((d) => ({ key: d.key, label: d.label, type: d.type, options: d.options }));
    const calls = Object.entries(CALLS).map(([name, c]) => ({ name, description: c.description, example: c.example, arguments: [...this.vocabulary.anniversaryOf] }));
    return { attributes, functions, calls, customFields };
  }

  /**
   * Compiles a query for the context's shop (time zone, currency, today, and the definitions of
   * its customer custom fields when the query names one).
   */
  async compile(
    ctx: KokyakuContext,
    query: string,
    options: { firstParam?: number; scope?: (column: string) => string; now?: Date; customFields?: ReadonlyMap<string, CustomFieldDefinition> } = {},
  ): Promise<CompiledSegment> {
    const customFields = options.customFields ?? (typeof query === 'string' && query.includes('custom.') ? await loadDefinitions(ctx, 'CUSTOMER') : undefined);
    return compileSegmentQuery(query, {
      timeZone: ctx.shop.timeZone,
      currency: ctx.shop.currency,
      today: todayIn(ctx.shop.timeZone, options.now),
      firstParam: options.firstParam,
      scope: options.scope,
      customFields,
      vocabulary: this.vocabulary,
    });
  }

  /** Number of customers the query selects now. */
  async count(ctx: KokyakuContext, query: string): Promise<number> {
    const compiled = await this.compile(ctx, query);
    const [row] = await sql<{ n: number }>(ctx.em, `select count(*)::int as n from ${segmentFrom(compiled)} where f.tenant_id = $1 and ${compiled.where}`, [
      ctx.tenantId,
      ...compiled.params,
    ]);
    return row?.n ?? 0;
  }

  /** The customers the query selects, oldest first, one page at a time. */
  async customers(ctx: KokyakuContext, query: string, args: PageArgs = {}): Promise<Page<CustomerRecord>> {
    const first = pageSize(args.first);
    const afterId = args.after ? (decodeCursor(args.after, 'c')[0] ?? '') : null;
    if (afterId !== null && !isId(afterId)) throw KokyakuError.invalidCursor(args.after ?? '');
    const compiled = await this.compile(ctx, query, { firstParam: 4 });
    const rows = await sql<Parameters<typeof mapCustomer>[0]>(
      ctx.em,
      `select ${CUSTOMER_COLUMNS} from ${CUSTOMER_FROM}${segmentJoins(compiled, CUSTOMER_ALIASES)}
       where f.tenant_id = $1 and ($2::bigint is null or f.customer_id > $2::bigint) and ${compiled.where}
       order by f.customer_id limit $3`,
      [ctx.tenantId, afterId, first + 1, ...compiled.params],
    );
    return keysetPage(
      rows,
      first,
      (r) => mapCustomer(r, ctx.shop.currency),
      'c',
      (c) => [c.id],
    );
  }

  /** Count and first customers of a query, for trying it out before saving. */
  async preview(ctx: KokyakuContext, query: string, first = 10): Promise<{ count: number; customers: CustomerRecord[] }> {
    const [count, page] = await Promise.all([this.count(ctx, query), this.customers(ctx, query, { first })]);
    return { count, customers: page.nodes };
  }

  async create(ctx: KokyakuContext, input: SegmentInput): Promise<SegmentRecord> {
    const { name, query } = this.validate(input);
    await this.compile(ctx, query);
    return transaction(ctx, async (em) => {
      const tx = { ...ctx, em };
      const rows = await unique(
        () => sql<SegmentRow>(em, `insert into kokyaku.segments as s (tenant_id, name, query) values ($1, $2, $3) returning ${SEGMENT_COLUMNS}`, [ctx.tenantId, name, query]),
        'name',
        `A segment named "${name}" exists already; choose another name.`,
      );
      const segment = mapSegment(rows[0]!);
      await this.evaluate(tx, segment, null, { record: false });
      return segment;
    });
  }

  async update(ctx: KokyakuContext, id: string, input: Partial<SegmentInput>): Promise<SegmentRecord> {
    const current = await this.get(ctx, id);
    if (!current) throw KokyakuError.notFound('Segment', id);
    const { name, query } = this.validate({ name: input.name ?? current.name, query: input.query ?? current.query });
    await this.compile(ctx, query);
    return transaction(ctx, async (em) => {
      const tx = { ...ctx, em };
      const rows = await unique(
        () =>
          sql<SegmentRow>(em, `update kokyaku.segments s set name = $3, query = $4, updated_at = now() where s.tenant_id = $1 and s.id = $2::bigint returning ${SEGMENT_COLUMNS}`, [
            ctx.tenantId,
            id,
            name,
            query,
          ]),
        'name',
        `A segment named "${name}" exists already; choose another name.`,
      );
      const segment = mapSegment(rows[0]!);
      // A new definition gives the segment new members; that is an edit, not customers moving.
      if (query !== current.query) await this.evaluate(tx, segment, null, { record: false });
      return segment;
    });
  }

  async delete(ctx: KokyakuContext, id: string): Promise<boolean> {
    if (!isId(id)) return false;
    const rows = await sql(ctx.em, `delete from kokyaku.segments where tenant_id = $1 and id = $2::bigint returning id`, [ctx.tenantId, id]);
    return rows.length > 0;
  }

  async get(ctx: KokyakuContext, id: string): Promise<SegmentRecord | null> {
    return (await this.findByIds(ctx, [id])).get(id) ?? null;
  }

  async findByIds(ctx: KokyakuContext, ids: readonly string[]): Promise<Map<string, SegmentRecord>> {
    const wanted = ids.filter(isId);
    if (wanted.length === 0) return new Map();
    const rows = await sql<SegmentRow>(ctx.em, `select ${SEGMENT_COLUMNS} from kokyaku.segments s where s.tenant_id = $1 and s.id = any(kokyaku.json_bigints($2::jsonb))`, [
      ctx.tenantId,
      JSON.stringify(wanted),
    ]);
    return new Map(rows.map((r) => [r.id, mapSegment(r)]));
  }

  async list(ctx: KokyakuContext, args: PageArgs = {}): Promise<Page<SegmentRecord>> {
    const first = pageSize(args.first);
    const afterId = args.after ? (decodeCursor(args.after, 's')[0] ?? '') : null;
    if (afterId !== null && !isId(afterId)) throw KokyakuError.invalidCursor(args.after ?? '');
    const rows = await sql<SegmentRow>(
      ctx.em,
      `select ${SEGMENT_COLUMNS} from kokyaku.segments s where s.tenant_id = $1 and ($2::bigint is null or s.id > $2::bigint) order by s.id limit $3`,
      [ctx.tenantId, afterId, first + 1],
    );
    return keysetPage(rows, first, mapSegment, 's', (s) => [s.id]);
  }

  async countSaved(ctx: KokyakuContext): Promise<number> {
    const [row] = await sql<{ n: number }>(ctx.em, `select count(*)::int as n from kokyaku.segments where tenant_id = $1`, [ctx.tenantId]);
    return row?.n ?? 0;
  }

  /** The saved segments each customer is a member of (as of the last evaluation). */
  async segmentsOfCustomers(ctx: KokyakuContext, customerIds: readonly string[]): Promise<Map<string, SegmentRecord[]>> {
    const result = new Map<string, SegmentRecord[]>(customerIds.map((id) => [id, []]));
    const wanted = customerIds.filter(isId);
    if (wanted.length === 0) return result;
    const rows = await sql<SegmentRow & { customer_id: string }>(ctx.em, SEGMENTS_OF_CUSTOMERS, [ctx.tenantId, JSON.stringify(wanted)]);
    for (const row of rows) result.get(row.customer_id)?.push(mapSegment(row));
    return result;
  }

  /** Membership changes in order, after a change id (for automations and the timeline). */
  async changes(ctx: KokyakuContext, options: { afterId?: string; customerId?: string; limit?: number } = {}): Promise<(SegmentChange & { id: string })[]> {
    const rows = await sql<{ id: string; segment_id: string; customer_id: string; change: 'ENTERED' | 'LEFT'; occurred_at: Date | string }>(
      ctx.em,
      `select id::text as id, segment_id::text as segment_id, customer_id::text as customer_id, change, occurred_at
       from kokyaku.segment_changes
       where tenant_id = $1 and ($2::bigint is null or id > $2::bigint) and ($3::bigint is null or customer_id = $3::bigint)
       order by segment_changes.id limit $4`,
      [ctx.tenantId, options.afterId ?? null, options.customerId ?? null, Math.min(options.limit ?? 1000, 10_000)],
    );
    return rows.map((r) => ({ id: r.id, segmentId: r.segment_id, customerId: r.customer_id, change: r.change, occurredAt: asDate(r.occurred_at) }));
  }

  /**
   * Re-evaluates every saved segment for the given customers (all customers when null) and
   * records who entered and who left. Ingestion calls it in the transaction of each batch, so a
   * change is recorded with the order or event that caused it; `refresh` calls it for everyone
   * (relative dates such as `last_order_date < -90d` move with the calendar). With
   * `onlyReadingActivity`, only the segments whose query reads storefront events or the lead
   * score (what a batch of events, an inquiry or a scoring change can change for customers
   * already known).
   */
  async reevaluate(ctx: KokyakuContext, customerIds: readonly string[] | null, options: { onlyReadingActivity?: boolean } = {}): Promise<{ entered: number; left: number }> {
    if (customerIds && customerIds.length === 0) return { entered: 0, left: 0 };
    const segments = await sql<SegmentRow>(ctx.em, `select ${SEGMENT_COLUMNS} from kokyaku.segments s where s.tenant_id = $1 order by s.id`, [ctx.tenantId]);
    // The custom field definitions once for all the segments that name a custom field.
    const customFields = segments.some((s) => s.query.includes('custom.')) ? await loadDefinitions(ctx, 'CUSTOMER') : undefined;
    const total = { entered: 0, left: 0 };
    // Who hears of entries and exits (automation's segment journeys, plugins): the ids are collected only for them.
    const listeners = segments.length > 0 ? await this.hooks.segmentListeners(ctx) : new Set<string>();
    for (const segment of segments.map(mapSegment)) {
      const listened = listeners === 'all' || listeners.has(segment.id);
      const result = await this.evaluate(ctx, segment, customerIds, { record: true, listened, onlyReadingActivity: options.onlyReadingActivity, customFields });
      total.entered += result.entered;
      total.left += result.left;
    }
    return total;
  }

  private async evaluate(
    ctx: KokyakuContext,
    segment: SegmentRecord,
    customerIds: readonly string[] | null,
    {
      record,
      listened = false,
      onlyReadingActivity = false,
      customFields,
    }: { record: boolean; listened?: boolean; onlyReadingActivity?: boolean; customFields?: ReadonlyMap<string, CustomFieldDefinition> },
  ): Promise<{ entered: number; left: number }> {
    // $1 tenant, $2 segment id, $3 customer ids (JSON) or null for everyone, $4 record changes.
    const inScope = (column: string) => `($3::jsonb is null or ${column} = any(kokyaku.json_bigints($3::jsonb)))`;
    let compiled: CompiledSegment;
    try {
      compiled = await this.compile(ctx, segment.query, { firstParam: 5, scope: inScope, customFields });
    } catch (error) {
      // A saved query that no longer compiles (e.g. an attribute removed by a plugin) keeps its
      // members until it is fixed, rather than failing every ingestion batch.
      if (error instanceof KokyakuError && error.code === 'SEGMENT_QUERY_INVALID') return { entered: 0, left: 0 };
      throw error;
    }
    if (onlyReadingActivity && !compiled.activity) return { entered: 0, left: 0 };
    const [row] = await sql<{ entered: number; left: number; entered_ids: string[] | null; left_ids: string[] | null }>(
      ctx.em,
      `with matching as (
         select f.customer_id as id from ${segmentFrom(compiled)} where f.tenant_id = $1 and ${inScope('f.customer_id')} and ${compiled.where}
       ),
       entered as (
         insert into kokyaku.segment_members (segment_id, customer_id, tenant_id)
         select $2::bigint, id, $1 from matching
         on conflict do nothing
         returning customer_id
       ),
       gone as (
         delete from kokyaku.segment_members m
         where m.tenant_id = $1 and m.segment_id = $2::bigint and ${inScope('m.customer_id')} and m.customer_id not in (select id from matching)
         returning customer_id
       ),
       logged as (
         insert into kokyaku.segment_changes (tenant_id, segment_id, customer_id, change)
         select $1, $2::bigint, customer_id, 'ENTERED' from entered where $4::boolean
         union all
         select $1, $2::bigint, customer_id, 'LEFT' from gone where $4::boolean
       )
       select (select count(*) from entered)::int as entered, (select count(*) from gone)::int as left,
              case when $${4 + compiled.params.length + 1}::boolean then (select coalesce(jsonb_agg(customer_id::text), '[]') from entered) end as entered_ids,
              case when $${4 + compiled.params.length + 1}::boolean then (select coalesce(jsonb_agg(customer_id::text), '[]') from gone) end as left_ids`,
      [ctx.tenantId, segment.id, customerIds ? JSON.stringify(customerIds) : null, record, ...compiled.params, record && listened],
    );
    // The modules that listen hear of who entered and left, in this transaction.
    if (row?.entered_ids?.length || row?.left_ids?.length) await this.hooks.segmentChanged(ctx, segment.id, row.entered_ids ?? [], row.left_ids ?? []);
    return { entered: row?.entered ?? 0, left: row?.left ?? 0 };
  }

  private validate(input: SegmentInput): SegmentInput {
    const parsed = segmentInput.safeParse(input);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw KokyakuError.badInput(`${String(issue.path[0] ?? 'segment')}: ${issue.message}`, { field: String(issue.path[0] ?? '') });
    }
    return parsed.data;
  }
}
