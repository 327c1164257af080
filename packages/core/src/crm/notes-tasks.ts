import { z } from 'zod';
import type { KokyakuContext } from '../shared/context.js';
import { KokyakuError } from '../shared/errors.js';
import { decodeCursor, type Page, type PageArgs, pageSize, keysetPage } from '../shared/pagination.js';
import { asDate, sql, transaction } from '../shared/sql.js';
import { instantSchema, optionalText } from '../shared/validation.js';
import { actorId, idParam, isId, parseInput, requireOrder, requireRow } from './shared.js';

export const TASK_STATUSES = ['OPEN', 'DONE', 'CANCELLED'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
export const PRIORITIES = ['LOW', 'NORMAL', 'HIGH', 'URGENT'] as const;
export type Priority = (typeof PRIORITIES)[number];

/** What a note or task is about: at least one of these for a note; any for a task. */
export interface RecordLinks {
  customerId?: string | null;
  companyId?: string | null;
  dealId?: string | null;
}

export interface NoteInput extends RecordLinks {
  body: string;
  pinned?: boolean | null;
}

export interface NoteRecord {
  id: string;
  customerId: string | null;
  companyId: string | null;
  dealId: string | null;
  authorId: string | null;
  body: string;
  pinned: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export interface TaskInput extends RecordLinks {
  title: string;
  description?: string | null;
  assigneeId?: string | null;
  dueAt?: Date | string | null;
  priority?: Priority | null;
  /** The shop's order id. */
  orderExternalId?: string | null;
}

export interface TaskRecord {
  id: string;
  title: string;
  description: string | null;
  assigneeId: string | null;
  dueAt: Date | null;
  status: TaskStatus;
  priority: Priority;
  customerId: string | null;
  companyId: string | null;
  dealId: string | null;
  orderId: string | null;
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
  completedAt: Date | null;
}

export interface TaskFilter extends PageArgs {
  assigneeId?: string | null;
  /** Default: every status. */
  status?: TaskStatus | null;
  /** Open tasks due before now (or `now`). */
  overdue?: boolean | null;
  customerId?: string | null;
  companyId?: string | null;
  dealId?: string | null;
  now?: Date;
}

const idText = (what: string) =>
  z
    .string({ error: `Must be a ${what} id.` })
    .nullable()
    .optional();
const links = { customerId: idText('customer'), companyId: idText('company'), dealId: idText('deal') };
const noteSchema = z
  .strictObject({
    ...links,
    body: z.string({ error: 'Required: the text of the note.' }).trim().min(1, 'Must not be empty.').max(20_000, 'At most 20,000 characters.'),
    pinned: z.boolean().nullable().optional(),
  })
  .refine((n) => n.customerId != null || n.companyId != null || n.dealId != null, {
    message: 'A note is about a customer, a company or a deal: give customerId, companyId or dealId.',
    path: ['customerId'],
  });
const taskFields = {
  ...links,
  title: z.string({ error: 'Required: a title.' }).trim().min(1, 'Must not be empty.').max(500, 'At most 500 characters.'),
  description: optionalText(20_000),
  assigneeId: optionalText(255),
  dueAt: instantSchema.nullable().optional(),
  priority: z
    .enum(PRIORITIES, { error: `One of ${PRIORITIES.join(', ')}.` })
    .nullable()
    .optional(),
  orderExternalId: optionalText(255),
};
const taskSchema = z.strictObject(taskFields);
const taskPatch = z.strictObject({ ...taskFields, title: taskFields.title.optional(), status: z.enum(TASK_STATUSES, { error: `One of ${TASK_STATUSES.join(', ')}.` }).optional() });

interface NoteRow {
  id: string;
  customer_id: string | null;
  company_id: string | null;
  deal_id: string | null;
  author_id: string | null;
  body: string;
  pinned: boolean;
  created_at: Date | string;
  updated_at: Date | string;
}
const NOTE_COLUMNS = `id::text as id, customer_id::text as customer_id, company_id::text as company_id, deal_id::text as deal_id, author_id, body, pinned, created_at, updated_at`;
const mapNote = (r: NoteRow): NoteRecord => ({
  id: r.id,
  customerId: r.customer_id,
  companyId: r.company_id,
  dealId: r.deal_id,
  authorId: r.author_id,
  body: r.body,
  pinned: r.pinned,
  createdAt: asDate(r.created_at),
  updatedAt: asDate(r.updated_at),
});

interface TaskRow {
  id: string;
  title: string;
  description: string | null;
  assignee_id: string | null;
  due_at: Date | string | null;
  status: TaskStatus;
  priority: Priority;
  customer_id: string | null;
  company_id: string | null;
  deal_id: string | null;
  order_id: string | null;
  created_by: string | null;
  created_at: Date | string;
  updated_at: Date | string;
  completed_at: Date | string | null;
}
const TASK_COLUMNS = `id::text as id, title, description, assignee_id, due_at, status, priority, customer_id::text as customer_id, company_id::text as company_id,
  deal_id::text as deal_id, order_id::text as order_id, created_by, created_at, updated_at, completed_at`;
const mapTask = (r: TaskRow): TaskRecord => ({
  id: r.id,
  title: r.title,
  description: r.description,
  assigneeId: r.assignee_id,
  dueAt: asDate(r.due_at),
  status: r.status,
  priority: r.priority,
  customerId: r.customer_id,
  companyId: r.company_id,
  dealId: r.deal_id,
  orderId: r.order_id,
  createdBy: r.created_by,
  createdAt: asDate(r.created_at),
  updatedAt: asDate(r.updated_at),
  completedAt: asDate(r.completed_at),
});

async function checkLinks(ctx: KokyakuContext, l: RecordLinks): Promise<void> {
  if (l.customerId != null) await requireRow(ctx, 'customers', l.customerId, 'customerId');
  if (l.companyId != null) await requireRow(ctx, 'companies', l.companyId, 'companyId');
  if (l.dealId != null) await requireRow(ctx, 'deals', l.dealId, 'dealId');
}

/** Notes: who wrote what about a customer, company or deal; pinned ones first. */
export class NoteService {
  async add(ctx: KokyakuContext, input: NoteInput): Promise<NoteRecord> {
    const n = parseInput(noteSchema, input, 'note');
    return transaction(ctx, async (em) => {
      await checkLinks({ ...ctx, em }, n);
      const [row] = await sql<NoteRow>(
        em,
        `insert into kokyaku.notes (tenant_id, customer_id, company_id, deal_id, author_id, body, pinned) values ($1, $2::bigint, $3::bigint, $4::bigint, $5, $6, $7) returning ${NOTE_COLUMNS}`,
        [ctx.tenantId, n.customerId ?? null, n.companyId ?? null, n.dealId ?? null, actorId(ctx), n.body, n.pinned ?? false],
      );
      return mapNote(row!);
    });
  }

  async update(ctx: KokyakuContext, id: string, patch: { body?: string | null; pinned?: boolean | null }): Promise<NoteRecord> {
    const p = parseInput(
      z.strictObject({ body: z.string().trim().min(1, 'Must not be empty.').max(20_000).nullable().optional(), pinned: z.boolean().nullable().optional() }),
      patch,
      'note',
    );
    const [row] = await sql<NoteRow>(
      ctx.em,
      `update kokyaku.notes set body = coalesce($3, body), pinned = coalesce($4, pinned), updated_at = now() where tenant_id = $1 and id = $2::bigint returning ${NOTE_COLUMNS}`,
      [ctx.tenantId, isId(id) ? id : '0', p.body ?? null, p.pinned ?? null],
    );
    if (!row) throw KokyakuError.notFound('Note', id);
    return mapNote(row);
  }

  async delete(ctx: KokyakuContext, id: string): Promise<boolean> {
    if (!isId(id)) return false;
    return (await sql(ctx.em, `delete from kokyaku.notes where tenant_id = $1 and id = $2::bigint returning id`, [ctx.tenantId, id])).length > 0;
  }

  /** Notes about a customer, company or deal: pinned first, then newest first. */
  async list(ctx: KokyakuContext, about: RecordLinks, args: PageArgs = {}): Promise<Page<NoteRecord>> {
    const first = pageSize(args.first);
    const after = args.after ? decodeCursor(args.after, 'n') : null;
    if (after && (after.length !== 3 || !isId(after[2]))) throw KokyakuError.invalidCursor(args.after ?? '');
    const rows = await sql<NoteRow>(
      ctx.em,
      `select ${NOTE_COLUMNS} from kokyaku.notes
       where tenant_id = $1 and ($2::bigint is null or customer_id = $2::bigint) and ($3::bigint is null or company_id = $3::bigint) and ($4::bigint is null or deal_id = $4::bigint)
         and ($5::boolean is null or (not pinned, created_at, id) > (not $5::boolean, $6::timestamptz, $7::bigint))
       order by pinned desc, created_at desc, notes.id desc limit $8`,
      [
        ctx.tenantId,
        idParam(about.customerId),
        idParam(about.companyId),
        idParam(about.dealId),
        after ? after[0] === 'true' : null,
        after?.[1] ?? null,
        after?.[2] ?? null,
        first + 1,
      ],
    );
    return keysetPage(rows, first, mapNote, 'n', (n) => [String(n.pinned), n.createdAt.toISOString(), n.id]);
  }
}

/** Tasks and reminders: who does what by when, linked to a customer, company, deal or order. */
export class TaskService {
  async create(ctx: KokyakuContext, input: TaskInput): Promise<TaskRecord> {
    const t = parseInput(taskSchema, input, 'task');
    return transaction(ctx, async (em) => {
      const tx = { ...ctx, em };
      await checkLinks(tx, t);
      const orderId = t.orderExternalId != null ? await requireOrder(tx, t.orderExternalId, 'orderExternalId') : null;
      const [row] = await sql<TaskRow>(
        em,
        `insert into kokyaku.tasks (tenant_id, title, description, assignee_id, due_at, priority, customer_id, company_id, deal_id, order_id, created_by)
         values ($1, $2, $3, $4, $5, $6, $7::bigint, $8::bigint, $9::bigint, $10::bigint, $11) returning ${TASK_COLUMNS}`,
        [
          ctx.tenantId,
          t.title,
          t.description ?? null,
          t.assigneeId ?? null,
          t.dueAt ?? null,
          t.priority ?? 'NORMAL',
          t.customerId ?? null,
          t.companyId ?? null,
          t.dealId ?? null,
          orderId,
          actorId(ctx),
        ],
      );
      return mapTask(row!);
    });
  }

  /** Changes a task; a field left out keeps its value. Setting status DONE stamps `completedAt`. */
  async update(ctx: KokyakuContext, id: string, patch: Partial<TaskInput> & { status?: TaskStatus }): Promise<TaskRecord> {
    const t = parseInput(taskPatch, patch, 'task');
    return transaction(ctx, async (em) => {
      const tx = { ...ctx, em };
      await requireRow(tx, 'tasks', id, 'id');
      await checkLinks(tx, t);
      const orderId = t.orderExternalId != null ? await requireOrder(tx, t.orderExternalId, 'orderExternalId') : null;
      const set = (key: keyof typeof t) => t[key] !== undefined;
      const [row] = await sql<TaskRow>(
        em,
        `update kokyaku.tasks set
           title = coalesce($3, title),
           description = case when $4 then $5 else description end,
           assignee_id = case when $6 then $7 else assignee_id end,
           due_at = case when $8 then $9::timestamptz else due_at end,
           priority = coalesce($10, priority),
           status = coalesce($11, status),
           completed_at = case when $11 = 'DONE' and status <> 'DONE' then now() when $11 in ('OPEN', 'CANCELLED') then null else completed_at end,
           customer_id = case when $12 then $13::bigint else customer_id end,
           company_id = case when $14 then $15::bigint else company_id end,
           deal_id = case when $16 then $17::bigint else deal_id end,
           order_id = case when $18 then $19::bigint else order_id end,
           updated_at = now()
         where tenant_id = $1 and id = $2::bigint returning ${TASK_COLUMNS}`,
        [
          ctx.tenantId,
          id,
          t.title ?? null,
          set('description'),
          t.description ?? null,
          set('assigneeId'),
          t.assigneeId ?? null,
          set('dueAt'),
          t.dueAt ?? null,
          t.priority ?? null,
          t.status ?? null,
          set('customerId'),
          t.customerId ?? null,
          set('companyId'),
          t.companyId ?? null,
          set('dealId'),
          t.dealId ?? null,
          set('orderExternalId'),
          orderId,
        ],
      );
      return mapTask(row!);
    });
  }

  async delete(ctx: KokyakuContext, id: string): Promise<boolean> {
    if (!isId(id)) return false;
    return (await sql(ctx.em, `delete from kokyaku.tasks where tenant_id = $1 and id = $2::bigint returning id`, [ctx.tenantId, id])).length > 0;
  }

  async get(ctx: KokyakuContext, id: string): Promise<TaskRecord | null> {
    if (!isId(id)) return null;
    const [row] = await sql<TaskRow>(ctx.em, `select ${TASK_COLUMNS} from kokyaku.tasks where tenant_id = $1 and id = $2::bigint`, [ctx.tenantId, id]);
    return row ? mapTask(row) : null;
  }

  /**
   * Tasks by due date (soonest first, undated last), filtered. "My open tasks": `{ assigneeId:
   * me, status: 'OPEN' }`; "overdue": `{ overdue: true }`.
   */
  async list(ctx: KokyakuContext, filter: TaskFilter = {}): Promise<Page<TaskRecord>> {
    const first = pageSize(filter.first);
    const after = filter.after ? decodeCursor(filter.after, 't') : null;
    if (after && (after.length !== 2 || !isId(after[1]))) throw KokyakuError.invalidCursor(filter.after ?? '');
    const now = filter.now ?? new Date();
    // Undated tasks sort after every dated one: as 'infinity'.
    const rows = await sql<TaskRow>(
      ctx.em,
      `select ${TASK_COLUMNS} from kokyaku.tasks
       where tenant_id = $1 and ($2::text is null or assignee_id = $2) and ($3::text is null or status = $3)
         and (not $4 or (status = 'OPEN' and due_at < $5::timestamptz))
         and ($6::bigint is null or customer_id = $6::bigint) and ($7::bigint is null or company_id = $7::bigint) and ($8::bigint is null or deal_id = $8::bigint)
         and ($9::timestamptz is null or (coalesce(due_at, 'infinity'), id) > ($9::timestamptz, $10::bigint))
       order by coalesce(due_at, 'infinity'), tasks.id limit $11`,
      [
        ctx.tenantId,
        filter.assigneeId ?? null,
        filter.status ?? null,
        filter.overdue ?? false,
        now,
        idParam(filter.customerId),
        idParam(filter.companyId),
        idParam(filter.dealId),
        after?.[0] ?? null,
        after?.[1] ?? null,
        first + 1,
      ],
    );
    return keysetPage(rows, first, mapTask, 't', (t) => [t.dueAt?.toISOString() ?? 'infinity', t.id]);
  }
}
