import type { TimelineSource } from '../module/module.js';
import type { KokyakuContext } from '../shared/context.js';
import { KokyakuError } from '../shared/errors.js';
import { decodeCursor, keysetPage, type Page, type PageArgs, pageSize } from '../shared/pagination.js';
import { asDate, sql } from '../shared/sql.js';
import { isId } from './shared.js';

/** What a timeline entry is; entries at the same instant come in this order. */
// New kinds go first: a kind's rank (its place from the end) is part of the cursors given out.
export const TIMELINE_KINDS = ['EMAIL_RECEIVED', 'EMAIL_SENT', 'ORDER', 'EVENT', 'INQUIRY', 'NOTE', 'TASK', 'DEAL_STAGE', 'SEGMENT_ENTERED', 'SEGMENT_LEFT', 'MESSAGE'] as const;
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

/**
 * One ordered stream per customer (or company) of everything that happened: orders, storefront
 * events, inquiries, notes, tasks, deal stage moves, segment changes and messages sent (or
 * withheld) by journeys, newest first. Pages are
 * stable: the cursor is the last entry's (time to the microsecond, kind, id), so entries that
 * arrive later never shift or repeat what a reader has already paged through.
 */
export class TimelineService {
  private readonly sources: readonly TimelineSource[];

  /** The sources of the entries: each module's (`timeline` of its module object). */
  constructor(hooks: { timelineSources(): TimelineSource[] }) {
    this.sources = hooks.timelineSources().filter((s) => (TIMELINE_KINDS as readonly string[]).includes(s.kind));
  }

  async timeline(
    ctx: KokyakuContext,
    subject: { customerId: string } | { companyId: string },
    args: PageArgs & { kinds?: readonly TimelineKind[] | null } = {},
  ): Promise<Page<TimelineEntry>> {
    const first = pageSize(args.first);
    const after = args.after ? decodeCursor(args.after, 'tl') : null;
    if (after && (after.length !== 3 || !/^-?\d{1,20}$/.test(after[0]!) || !/^\d{1,2}$/.test(after[1]!) || !isId(after[2]))) throw KokyakuError.invalidCursor(args.after ?? '');
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
    const branches = this.sources
      .filter((source) => kinds.has(source.kind as TimelineKind))
      .map((source) => branch(source.kind as TimelineKind, source.at, source.id, source.select, source.from, source.where({ who, whoOrCompany })));
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
    const shown = this.sources.find((s) => s.kind === r.kind)!.present(r.data, ctx.shop);
    return {
      id: `${r.kind}:${r.record_id}`,
      kind: r.kind,
      at: asDate(r.at),
      actorId: r.actor_id,
      recordId: r.record_id,
      customerId: r.customer_id,
      summary: shown.summary,
      data: shown.data ?? r.data,
    };
  }
}
