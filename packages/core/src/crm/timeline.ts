import type { KokyakuContext } from '../shared/context.js';
import { KokyakuError } from '../shared/errors.js';
import { toMajorUnits } from '../shared/money.js';
import { decodeCursor, keysetPage, type Page, type PageArgs, pageSize } from '../shared/pagination.js';
import { asDate, sql } from '../shared/sql.js';
import { isId } from './shared.js';

/** What a timeline entry is; entries at the same instant come in this order. */
export const TIMELINE_KINDS = ['ORDER', 'EVENT', 'INQUIRY', 'NOTE', 'TASK', 'DEAL_STAGE', 'SEGMENT_ENTERED', 'SEGMENT_LEFT', 'MESSAGE'] as const;
export type TimelineKind = (typeof TIMELINE_KINDS)[number];

export interface TimelineEntry {
  /** Stable across pages: `<kind>:<id of the record>`. */
  id: string;
  kind: TimelineKind;
  /** When it happened: the order placed, the event occurred, the note written, the task created, the inquiry opened, the stage entered. */
  at: Date;
  /** Who did it (a staff member's id), when someone did. */
  actorId: string | null;
  /** The id of the order, event, note, task, inquiry, deal or segment. */
  recordId: string;
  customerId: string | null;
  /** One line for people: "Order o-1 placed: ¥3,000", "Entered segment VIP". */
  summary: string;
  /** The entry's details (the order's total and status, the event's type and properties...). */
  data: Record<string, unknown>;
}

interface EntryRow {
  kind: TimelineKind;
  at: Date | string;
  at_us: string;
  rank: number;
  record_id: string;
  actor_id: string | null;
  customer_id: string | null;
  data: Record<string, unknown>;
}

const rank = (kind: TimelineKind) => TIMELINE_KINDS.length - TIMELINE_KINDS.indexOf(kind);

interface TimelineSource {
  kind: TimelineKind;
  at: string;
  id: string;
  select: string;
  from: string;
  where(sql: { who: (column: string) => string; whoOrCompany: (customerColumn: string, companyColumn: string) => string }): string;
}

/**
 * Where each kind of entry comes from: its time, id, columns, tables and filter (`who` names the
 * customer or the company's contacts; `whoOrCompany` also the company's own rows).
 */
const SOURCES: readonly TimelineSource[] = [
  {
    kind: 'ORDER',
    at: 'o.placed_at',
    id: 'o.id',
    select: `null::text as actor_id, o.customer_id,
        jsonb_build_object('externalId', o.external_id, 'status', o.status, 'totalMinor', o.total_minor, 'currency', o.currency) as data`,
    from: 'kokyaku.orders o',
    where: ({ who }) => `o.tenant_id = $1 and ${who('o.customer_id')}`,
  },
  {
    kind: 'EVENT',
    at: 'e.occurred_at',
    id: 'e.id',
    select: `null::text as actor_id, e.customer_id,
        jsonb_build_object('eventId', e.event_id, 'type', e.type, 'productExternalId', p.external_id, 'properties', e.properties) as data`,
    from: 'kokyaku.events e left join kokyaku.products p on p.id = e.product_id',
    where: ({ who }) => `e.tenant_id = $1 and ${who('e.customer_id')}`,
  },
  {
    kind: 'INQUIRY',
    at: 'i.opened_at',
    id: 'i.id',
    select: `i.created_by as actor_id, i.customer_id,
        jsonb_build_object('kind', i.kind, 'subject', i.subject, 'channel', i.channel, 'status', i.status, 'category', i.category) as data`,
    from: 'kokyaku.inquiries i',
    where: ({ who }) => `i.tenant_id = $1 and ${who('i.customer_id')}`,
  },
  {
    kind: 'NOTE',
    at: 'n.created_at',
    id: 'n.id',
    select: `n.author_id as actor_id, n.customer_id,
        jsonb_build_object('body', n.body, 'pinned', n.pinned, 'companyId', n.company_id::text, 'dealId', n.deal_id::text) as data`,
    from: 'kokyaku.notes n',
    where: ({ whoOrCompany }) => `n.tenant_id = $1 and ${whoOrCompany('n.customer_id', 'n.company_id')}`,
  },
  {
    kind: 'TASK',
    at: 't.created_at',
    id: 't.id',
    select: `t.created_by as actor_id, t.customer_id,
        jsonb_build_object('title', t.title, 'status', t.status, 'priority', t.priority, 'assigneeId', t.assignee_id, 'dueAt', t.due_at) as data`,
    from: 'kokyaku.tasks t',
    where: ({ whoOrCompany }) => `t.tenant_id = $1 and ${whoOrCompany('t.customer_id', 't.company_id')}`,
  },
  {
    kind: 'DEAL_STAGE',
    at: 'h.moved_at',
    id: 'h.id',
    select: `h.actor_id, d.customer_id,
        jsonb_build_object('dealId', d.id::text, 'title', d.title, 'fromStage', fs.name, 'toStage', ts.name, 'outcome', ts.outcome) as data`,
    from: `kokyaku.deal_stage_history h join kokyaku.deals d on d.id = h.deal_id join kokyaku.pipeline_stages ts on ts.id = h.to_stage_id
         left join kokyaku.pipeline_stages fs on fs.id = h.from_stage_id`,
    where: ({ whoOrCompany }) => `h.tenant_id = $1 and ${whoOrCompany('d.customer_id', 'd.company_id')}`,
  },
  {
    kind: 'SEGMENT_ENTERED',
    at: 'sc.occurred_at',
    id: 'sc.id',
    select: `null::text as actor_id, sc.customer_id,
        jsonb_build_object('segmentId', sc.segment_id::text, 'segment', s.name) as data`,
    from: 'kokyaku.segment_changes sc left join kokyaku.segments s on s.id = sc.segment_id',
    where: ({ who }) => `sc.tenant_id = $1 and sc.change = 'ENTERED' and ${who('sc.customer_id')}`,
  },
  {
    kind: 'SEGMENT_LEFT',
    at: 'sc.occurred_at',
    id: 'sc.id',
    select: `null::text as actor_id, sc.customer_id,
        jsonb_build_object('segmentId', sc.segment_id::text, 'segment', s.name) as data`,
    from: 'kokyaku.segment_changes sc left join kokyaku.segments s on s.id = sc.segment_id',
    where: ({ who }) => `sc.tenant_id = $1 and sc.change = 'LEFT' and ${who('sc.customer_id')}`,
  },
  {
    kind: 'MESSAGE',
    at: 'm.created_at',
    id: 'm.id',
    select: `case when m.journey_id is null then null else 'journey:' || m.journey_id end as actor_id, m.customer_id,
        jsonb_build_object('channel', m.channel, 'purpose', m.purpose, 'status', m.status, 'reason', m.reason, 'subject', m.subject,
                           'journeyId', m.journey_id::text, 'journey', j.name) as data`,
    from: 'kokyaku.messages m left join kokyaku.journeys j on j.id = m.journey_id',
    where: ({ who }) => `m.tenant_id = $1 and ${who('m.customer_id')}`,
  },
];

/**
 * One ordered stream per customer (or company) of everything that happened: orders, storefront
 * events, inquiries, notes, tasks, deal stage moves, segment changes and messages sent (or
 * withheld) by journeys, newest first. Pages are
 * stable: the cursor is the last entry's (time to the microsecond, kind, id), so entries that
 * arrive later never shift or repeat what a reader has already paged through.
 */
export class TimelineService {
  async timeline(
    ctx: KokyakuContext,
    subject: { customerId: string } | { companyId: string },
    args: PageArgs & { kinds?: readonly TimelineKind[] | null } = {},
  ): Promise<Page<TimelineEntry>> {
    const first = pageSize(args.first);
    const after = args.after ? decodeCursor(args.after, 'tl') : null;
    if (after && (after.length !== 3 || !/^-?\d{1,20}$/.test(after[0]!) || !/^\d$/.test(after[1]!) || !isId(after[2]))) throw KokyakuError.invalidCursor(args.after ?? '');
    const kinds = new Set(args.kinds?.length ? args.kinds : TIMELINE_KINDS);
    // One customer: equality, so each kind reads its index in order and stops after a page.
    // A company: its contacts (any of them) and its own notes, tasks and deals.
    const single = 'customerId' in subject;
    let customers: string;
    let companyId: string | null = null;
    if ('customerId' in subject) {
      customers = isId(subject.customerId) ? subject.customerId : '0';
    } else {
      companyId = isId(subject.companyId) ? subject.companyId : '0';
      const rows = await sql<{ id: string }>(ctx.em, `select customer_id::text as id from kokyaku.company_contacts where tenant_id = $1 and company_id = $2::bigint`, [
        ctx.tenantId,
        companyId,
      ]);
      customers = JSON.stringify(rows.map((r) => r.id));
    }
    // $1 tenant, $2 the customer (or the company's contacts, JSON), $3 cursor time (µs since epoch), $4 cursor rank, $5 cursor id, $6 limit, and for a company $7 the company.
    const who = (column: string) => (single ? `${column} = $2::bigint` : `${column} = any(kokyaku.json_bigints($2::text::jsonb))`);
    let readsCompany = false;
    const whoOrCompany = (customerColumn: string, companyColumn: string) => {
      if (single) return who(customerColumn);
      readsCompany = true;
      return `(${who(customerColumn)} or ${companyColumn} = $7::bigint)`;
    };
    const branch = (kind: TimelineKind, at: string, id: string, select: string, from: string, where: string) =>
      `(select '${kind}'::text as kind, ${at} as at, (extract(epoch from ${at}) * 1000000)::bigint::text as at_us, ${rank(kind)} as rank, ${id} as record_id, ${select}
        from ${from}
        where ${where} and ($3::bigint is null or (${at} <= timestamptz 'epoch' + $3::bigint * interval '1 microsecond'
          and ((extract(epoch from ${at}) * 1000000)::bigint, ${rank(kind)}, ${id}) < ($3::bigint, $4::int, $5::bigint)))
        order by ${at} desc, ${id} desc limit $6)`;
    const branches = SOURCES.filter((source) => kinds.has(source.kind)).map((source) =>
      branch(source.kind, source.at, source.id, source.select, source.from, source.where({ who, whoOrCompany })),
    );
    if (branches.length === 0) return { nodes: [], hasNextPage: false, endCursor: null };
    const rows = await sql<EntryRow>(
      ctx.em,
      `select kind, at, at_us, rank, record_id::text as record_id, actor_id, customer_id::text as customer_id, data
       from (${branches.join('\nunion all\n')}) x
       order by at_us::bigint desc, rank desc, record_id desc limit $6`,
      [ctx.tenantId, customers, after?.[0] ?? null, after ? Number(after[1]) : null, after?.[2] ?? null, first + 1, ...(readsCompany ? [companyId] : [])],
    );
    const page = keysetPage(
      rows,
      first,
      (r) => r,
      'tl',
      (r) => [r.at_us, String(r.rank), r.record_id],
    );
    return { ...page, nodes: page.nodes.map((r) => this.entry(ctx, r)) };
  }

  private entry(ctx: KokyakuContext, r: EntryRow): TimelineEntry {
    const d = r.data;
    let data = d;
    let summary: string;
    switch (r.kind) {
      case 'ORDER': {
        const total = toMajorUnits(Number(d.totalMinor), String(d.currency));
        data = { externalId: d.externalId, status: d.status, total, currency: d.currency };
        const money = new Intl.NumberFormat(ctx.shop.defaultCountry === 'JP' ? 'ja-JP' : 'en', { style: 'currency', currency: String(d.currency) }).format(total);
        summary = `Order ${d.externalId} ${d.status === 'CANCELLED' ? 'cancelled' : 'placed'}: ${money}`;
        break;
      }
      case 'EVENT':
        summary = `${d.type}${d.productExternalId ? ` ${d.productExternalId}` : ''}`;
        break;
      case 'INQUIRY':
        summary = `${d.kind === 'COMPLAINT' ? 'Complaint' : 'Inquiry'} by ${String(d.channel).toLowerCase()}: ${d.subject} (${d.status})`;
        break;
      case 'NOTE':
        summary = `${d.pinned ? 'Pinned note' : 'Note'}: ${truncate(String(d.body), 120)}`;
        break;
      case 'TASK':
        summary = `Task: ${d.title} (${d.status})`;
        break;
      case 'DEAL_STAGE':
        summary = d.fromStage ? `Deal ${d.title} moved from ${d.fromStage} to ${d.toStage}` : `Deal ${d.title} created in ${d.toStage}`;
        break;
      case 'SEGMENT_ENTERED':
        summary = `Entered segment ${d.segment ?? d.segmentId}`;
        break;
      case 'SEGMENT_LEFT':
        summary = `Left segment ${d.segment ?? d.segmentId}`;
        break;
      case 'MESSAGE': {
        const what = `${String(d.channel).toLowerCase()}${d.subject ? ` "${truncate(String(d.subject), 80)}"` : ''}`;
        const from = d.journey ? ` (journey ${d.journey})` : '';
        summary =
          d.status === 'WITHHELD'
            ? `Message withheld, ${String(d.reason).toLowerCase().replace(/_/g, ' ')}: ${what}${from}`
            : `Message ${String(d.status).toLowerCase()}: ${what}${from}`;
        break;
      }
    }
    return { id: `${r.kind}:${r.record_id}`, kind: r.kind, at: asDate(r.at), actorId: r.actor_id, recordId: r.record_id, customerId: r.customer_id, summary, data };
  }
}

function truncate(text: string, max: number): string {
  const chars = [...text];
  return chars.length > max ? `${chars.slice(0, max - 1).join('')}…` : text;
}
