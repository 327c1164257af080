import { HookDispatcher } from '../module/hooks.js';
import { z } from 'zod';
import type { KokyakuContext } from '../shared/context.js';
import { KokyakuError } from '../shared/errors.js';
import { decodeCursor, type Page, type PageArgs, pageSize, keysetPage } from '../shared/pagination.js';
import { asDate, sql, sqlOne, transaction } from '../shared/sql.js';
import { instantSchema, optionalText } from '../shared/validation.js';
import { actorId, idParam, isId, parseInput, requireCustomer, requireOrder } from './shared.js';
import { PRIORITIES, type Priority } from './notes-tasks.js';

export const INQUIRY_KINDS = ['INQUIRY', 'COMPLAINT'] as const;
export type InquiryKind = (typeof INQUIRY_KINDS)[number];
export const INQUIRY_CHANNELS = ['EMAIL', 'PHONE', 'CHAT', 'LINE', 'FORM', 'STORE', 'OTHER'] as const;
export type InquiryChannel = (typeof INQUIRY_CHANNELS)[number];
export const INQUIRY_STATUSES = ['OPEN', 'PENDING', 'RESOLVED', 'CLOSED'] as const;
export type InquiryStatus = (typeof INQUIRY_STATUSES)[number];
export type MessageDirection = 'INBOUND' | 'OUTBOUND';

export interface InquiryInput {
  customerId?: string | null;
  customerExternalId?: string | null;
  /** The shop's id of the order it is about. */
  orderExternalId?: string | null;
  kind?: InquiryKind | null;
  channel: InquiryChannel;
  category?: string | null;
  subject: string;
  /** The customer's first message. */
  body?: string | null;
  priority?: Priority | null;
  assigneeId?: string | null;
  /** When the customer got in touch (default now). */
  openedAt?: Date | string | null;
}

export interface InquiryRecord {
  id: string;
  customerId: string;
  orderId: string | null;
  kind: InquiryKind;
  channel: InquiryChannel;
  category: string | null;
  subject: string;
  status: InquiryStatus;
  priority: Priority;
  assigneeId: string | null;
  openedAt: Date;
  /** The first reply to the customer. */
  firstResponseAt: Date | null;
  resolvedAt: Date | null;
  /** Minutes from opening to the first reply (null until then). */
  firstResponseMinutes: number | null;
  /** Minutes from opening to resolution (null while unresolved). */
  resolutionMinutes: number | null;
  createdBy: string | null;
  updatedAt: Date;
}

export interface InquiryMessage {
  id: string;
  inquiryId: string;
  direction: MessageDirection;
  authorId: string | null;
  body: string;
  sentAt: Date;
}

export interface InquiryStats {
  opened: number;
  responded: number;
  resolved: number;
  /** Still OPEN or PENDING. */
  unresolved: number;
  averageFirstResponseMinutes: number | null;
  medianFirstResponseMinutes: number | null;
  p90FirstResponseMinutes: number | null;
  averageResolutionMinutes: number | null;
  medianResolutionMinutes: number | null;
  p90ResolutionMinutes: number | null;
}

const inquirySchema = z
  .strictObject({
    customerId: z.string().nullable().optional(),
    customerExternalId: z.string().nullable().optional(),
    orderExternalId: optionalText(255),
    kind: z
      .enum(INQUIRY_KINDS, { error: `One of ${INQUIRY_KINDS.join(', ')}.` })
      .nullable()
      .optional(),
    channel: z.enum(INQUIRY_CHANNELS, { error: `Required: one of ${INQUIRY_CHANNELS.join(', ')}.` }),
    category: optionalText(200),
    subject: z.string({ error: 'Required: a subject.' }).trim().min(1, 'Must not be empty.').max(500),
    body: optionalText(50_000),
    priority: z
      .enum(PRIORITIES, { error: `One of ${PRIORITIES.join(', ')}.` })
      .nullable()
      .optional(),
    assigneeId: optionalText(255),
    openedAt: instantSchema.nullable().optional(),
  })
  .refine((i) => (i.customerId != null) !== (i.customerExternalId != null), { message: 'Give exactly one of customerId or customerExternalId.', path: ['customerId'] });

const replySchema = z.strictObject({
  body: z.string({ error: 'Required: the message.' }).trim().min(1, 'Must not be empty.').max(50_000),
  direction: z.enum(['INBOUND', 'OUTBOUND'], { error: 'INBOUND (from the customer) or OUTBOUND (to the customer).' }).nullable().optional(),
  at: instantSchema.nullable().optional(),
});

interface InquiryRow {
  id: string;
  customer_id: string;
  order_id: string | null;
  kind: InquiryKind;
  channel: InquiryChannel;
  category: string | null;
  subject: string;
  status: InquiryStatus;
  priority: Priority;
  assignee_id: string | null;
  opened_at: Date | string;
  first_response_at: Date | string | null;
  resolved_at: Date | string | null;
  created_by: string | null;
  updated_at: Date | string;
}
const COLUMNS = `id::text as id, customer_id::text as customer_id, order_id::text as order_id, kind, channel, category, subject, status, priority, assignee_id,
  opened_at, first_response_at, resolved_at, created_by, updated_at`;
const minutes = (from: Date, to: Date | null) => (to ? Math.round(((to.getTime() - from.getTime()) / 60_000) * 100) / 100 : null);
const mapInquiry = (r: InquiryRow): InquiryRecord => {
  const openedAt = asDate(r.opened_at);
  const firstResponseAt = asDate(r.first_response_at);
  const resolvedAt = asDate(r.resolved_at);
  return {
    id: r.id,
    customerId: r.customer_id,
    orderId: r.order_id,
    kind: r.kind,
    channel: r.channel,
    category: r.category,
    subject: r.subject,
    status: r.status,
    priority: r.priority,
    assigneeId: r.assignee_id,
    openedAt,
    firstResponseAt,
    resolvedAt,
    firstResponseMinutes: minutes(openedAt, firstResponseAt),
    resolutionMinutes: minutes(openedAt, resolvedAt),
    createdBy: r.created_by,
    updatedAt: asDate(r.updated_at),
  };
};

/**
 * Inquiries and complaints: a ticket of a customer (optionally about an order) with a reply
 * thread. The first reply to the customer stamps the first response; RESOLVED or CLOSED stamps
 * the resolution; reopening clears it.
 */
export class InquiryService {
  constructor(private readonly hooks: HookDispatcher = new HookDispatcher([])) {}

  async open(ctx: KokyakuContext, input: InquiryInput): Promise<InquiryRecord> {
    const i = parseInput(inquirySchema, input, 'inquiry');
    const openedAt = i.openedAt ?? new Date();
    const id = await transaction(ctx, async (em) => {
      const tx = { ...ctx, em };
      const customerId = await requireCustomer(tx, { id: i.customerId, externalId: i.customerExternalId }, i.customerId != null ? 'customerId' : 'customerExternalId');
      const orderId = i.orderExternalId != null ? await requireOrder(tx, i.orderExternalId, 'orderExternalId') : null;
      const [row] = await sql<{ id: string }>(
        em,
        `insert into kokyaku.inquiries (tenant_id, customer_id, order_id, kind, channel, category, subject, priority, assignee_id, opened_at, created_by)
         values ($1, $2::bigint, $3::bigint, $4, $5, $6, $7, $8, $9, $10, $11) returning id::text as id`,
        [ctx.tenantId, customerId, orderId, i.kind ?? 'INQUIRY', i.channel, i.category ?? null, i.subject, i.priority ?? 'NORMAL', i.assigneeId ?? null, openedAt, actorId(ctx)],
      );
      if (i.body) {
        await sql(em, `insert into kokyaku.inquiry_messages (tenant_id, inquiry_id, direction, author_id, body, sent_at) values ($1, $2::bigint, 'INBOUND', null, $3, $4)`, [
          ctx.tenantId,
          row!.id,
          i.body,
          openedAt,
        ]);
      }
      await this.hooks.inquiryActivity(tx, row!.id, [customerId]);
      return row!.id;
    });
    return (await this.get(ctx, id))!;
  }

  /** Adds a message to the thread. The first OUTBOUND one is the first response. */
  async reply(ctx: KokyakuContext, id: string, input: { body: string; direction?: MessageDirection | null; at?: Date | string | null }): Promise<InquiryMessage> {
    const r = parseInput(replySchema, input, 'reply');
    const direction = r.direction ?? 'OUTBOUND';
    return transaction(ctx, async (em) => {
      const inquiry = await sqlOne<{ opened_at: Date | string }>(em, `select opened_at from kokyaku.inquiries where tenant_id = $1 and id = $2::bigint for update`, [
        ctx.tenantId,
        isId(id) ? id : '0',
      ]);
      if (!inquiry) throw KokyakuError.notFound('Inquiry', id);
      const at = r.at ?? new Date();
      if (at < asDate(inquiry.opened_at)) throw KokyakuError.badInput('at: a reply cannot come before the inquiry was opened.', { field: 'at' });
      const [row] = await sql<{ id: string }>(
        em,
        `insert into kokyaku.inquiry_messages (tenant_id, inquiry_id, direction, author_id, body, sent_at) values ($1, $2::bigint, $3, $4, $5, $6) returning id::text as id`,
        [ctx.tenantId, id, direction, direction === 'OUTBOUND' ? actorId(ctx) : null, r.body, at],
      );
      await sql(
        em,
        `update kokyaku.inquiries set
           first_response_at = case when $3 = 'OUTBOUND' then least(coalesce(first_response_at, $4::timestamptz), $4::timestamptz) else first_response_at end,
           status = case when $3 = 'OUTBOUND' and status = 'OPEN' then 'PENDING' when $3 = 'INBOUND' and status = 'PENDING' then 'OPEN' else status end,
           updated_at = now()
         where tenant_id = $1 and id = $2::bigint`,
        [ctx.tenantId, id, direction, at],
      );
      return { id: row!.id, inquiryId: id, direction, authorId: direction === 'OUTBOUND' ? actorId(ctx) : null, body: r.body, sentAt: at };
    });
  }

  /** Changes the status (RESOLVED or CLOSED stamps the resolution if not yet; OPEN or PENDING clears it), priority or assignee. */
  async update(
    ctx: KokyakuContext,
    id: string,
    patch: { status?: InquiryStatus | null; priority?: Priority | null; assigneeId?: string | null; category?: string | null; at?: Date | string | null },
  ): Promise<InquiryRecord> {
    const p = parseInput(
      z.strictObject({
        status: z
          .enum(INQUIRY_STATUSES, { error: `One of ${INQUIRY_STATUSES.join(', ')}.` })
          .nullable()
          .optional(),
        priority: z
          .enum(PRIORITIES, { error: `One of ${PRIORITIES.join(', ')}.` })
          .nullable()
          .optional(),
        assigneeId: optionalText(255),
        category: optionalText(200),
        at: instantSchema.nullable().optional(),
      }),
      patch,
      'inquiry',
    );
    const [row] = await sql<{ id: string }>(
      ctx.em,
      `update kokyaku.inquiries set
         status = coalesce($3, status),
         resolved_at = case when $3 in ('RESOLVED', 'CLOSED') then coalesce(resolved_at, greatest($4::timestamptz, opened_at)) when $3 in ('OPEN', 'PENDING') then null else resolved_at end,
         priority = coalesce($5, priority),
         assignee_id = case when $6 then $7 else assignee_id end,
         category = case when $8 then $9 else category end,
         updated_at = now()
       where tenant_id = $1 and id = $2::bigint returning id::text as id`,
      [
        ctx.tenantId,
        isId(id) ? id : '0',
        p.status ?? null,
        p.at ?? new Date(),
        p.priority ?? null,
        p.assigneeId !== undefined,
        p.assigneeId ?? null,
        p.category !== undefined,
        p.category ?? null,
      ],
    );
    if (!row) throw KokyakuError.notFound('Inquiry', id);
    return (await this.get(ctx, id))!;
  }

  async get(ctx: KokyakuContext, id: string): Promise<InquiryRecord | null> {
    if (!isId(id)) return null;
    const row = await sqlOne<InquiryRow>(ctx.em, `select ${COLUMNS} from kokyaku.inquiries where tenant_id = $1 and id = $2::bigint`, [ctx.tenantId, id]);
    return row ? mapInquiry(row) : null;
  }

  async messages(ctx: KokyakuContext, inquiryIds: readonly string[]): Promise<Map<string, InquiryMessage[]>> {
    const result = new Map<string, InquiryMessage[]>(inquiryIds.map((id) => [id, []]));
    const wanted = inquiryIds.filter(isId);
    if (wanted.length === 0) return result;
    const rows = await sql<{ id: string; inquiry_id: string; direction: MessageDirection; author_id: string | null; body: string; sent_at: Date | string }>(
      ctx.em,
      `select id::text as id, inquiry_id::text as inquiry_id, direction, author_id, body, sent_at from kokyaku.inquiry_messages
       where tenant_id = $1 and inquiry_id = any(kokyaku.json_bigints($2::jsonb)) order by sent_at, inquiry_messages.id`,
      [ctx.tenantId, JSON.stringify(wanted)],
    );
    for (const r of rows)
      result.get(r.inquiry_id)?.push({ id: r.id, inquiryId: r.inquiry_id, direction: r.direction, authorId: r.author_id, body: r.body, sentAt: asDate(r.sent_at) });
    return result;
  }

  /** Inquiries, newest first, filtered by customer, status, kind or assignee. */
  async list(
    ctx: KokyakuContext,
    args: PageArgs & { customerId?: string | null; status?: InquiryStatus | null; kind?: InquiryKind | null; assigneeId?: string | null } = {},
  ): Promise<Page<InquiryRecord>> {
    const first = pageSize(args.first);
    const after = args.after ? decodeCursor(args.after, 'i') : null;
    if (after && (after.length !== 2 || !isId(after[1]))) throw KokyakuError.invalidCursor(args.after ?? '');
    const rows = await sql<InquiryRow>(
      ctx.em,
      `select ${COLUMNS} from kokyaku.inquiries
       where tenant_id = $1 and ($2::bigint is null or customer_id = $2::bigint) and ($3::text is null or status = $3) and ($4::text is null or kind = $4)
         and ($5::text is null or assignee_id = $5) and ($6::timestamptz is null or (opened_at, id) < ($6::timestamptz, $7::bigint))
       order by opened_at desc, inquiries.id desc limit $8`,
      [ctx.tenantId, idParam(args.customerId), args.status ?? null, args.kind ?? null, args.assigneeId ?? null, after?.[0] ?? null, after?.[1] ?? null, first + 1],
    );
    return keysetPage(rows, first, mapInquiry, 'i', (i) => [i.openedAt.toISOString(), i.id]);
  }

  /**
   * Response and resolution times of the inquiries opened in [from, to), in minutes: average,
   * median and 90th percentile over those that got a response (were resolved).
   */
  async stats(ctx: KokyakuContext, options: { from: Date; to: Date; kind?: InquiryKind | null; category?: string | null; channel?: InquiryChannel | null }): Promise<InquiryStats> {
    if (!(options.from < options.to)) throw KokyakuError.badInput('to: must be after from.', { field: 'to' });
    const row = await sqlOne<Record<string, number | string | null>>(
      ctx.em,
      `with i as (
         select extract(epoch from first_response_at - opened_at) / 60 as response, extract(epoch from resolved_at - opened_at) / 60 as resolution, status
         from kokyaku.inquiries
         where tenant_id = $1 and opened_at >= $2 and opened_at < $3 and ($4::text is null or kind = $4) and ($5::text is null or category = $5) and ($6::text is null or channel = $6)
       )
       select count(*)::int as opened, count(response)::int as responded, count(resolution)::int as resolved,
              count(*) filter (where status in ('OPEN', 'PENDING'))::int as unresolved,
              avg(response)::float8 as avg_response, percentile_cont(0.5) within group (order by response)::float8 as median_response,
              percentile_cont(0.9) within group (order by response)::float8 as p90_response,
              avg(resolution)::float8 as avg_resolution, percentile_cont(0.5) within group (order by resolution)::float8 as median_resolution,
              percentile_cont(0.9) within group (order by resolution)::float8 as p90_resolution
       from i`,
      [ctx.tenantId, options.from, options.to, options.kind ?? null, options.category ?? null, options.channel ?? null],
    );
    const n = (v: number | string | null | undefined) => (v == null ? null : Math.round(Number(v) * 100) / 100);
    return {
      opened: Number(row?.opened ?? 0),
      responded: Number(row?.responded ?? 0),
      resolved: Number(row?.resolved ?? 0),
      unresolved: Number(row?.unresolved ?? 0),
      averageFirstResponseMinutes: n(row?.avg_response),
      medianFirstResponseMinutes: n(row?.median_response),
      p90FirstResponseMinutes: n(row?.p90_response),
      averageResolutionMinutes: n(row?.avg_resolution),
      medianResolutionMinutes: n(row?.median_resolution),
      p90ResolutionMinutes: n(row?.p90_resolution),
    };
  }
}
