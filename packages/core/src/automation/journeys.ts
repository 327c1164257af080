import { z } from 'zod';
import type { KokyakuContext } from '../shared/context.js';
import type { CustomerService } from '../customers/customer.service.js';
import { actorId, idParam, parseInput, requireCustomer, requireOrder, unique } from '../crm/shared.js';
import { type DateRange, checkDate } from '../analytics/analytics.service.js';
import { dayStart } from '../shared/dates.js';
import type { RecommendationService } from '../recommendations/recommendation.service.js';
import type { SegmentService } from '../segments/segment.service.js';
import { KokyakuError } from '../shared/errors.js';
import { toMajorUnits } from '../shared/money.js';
import { decodeCursor, type Page, type PageArgs, pageSize, keysetPage } from '../shared/pagination.js';
import { asDate, sql, sqlOne, transaction } from '../shared/sql.js';
import { isId } from '../shared/validation.js';
import { CHANNELS, type Channel, type JourneyDefinition, parseDefinition, type AutomationExtensions } from './definition.js';
import { type AdvanceOptions, type JourneyEngine, type MessagingSettings, loadSettings } from './engine.js';
import { checkTemplates, mergeData, renderTemplates, type RenderedMessage, type TemplateSet } from './templates.js';
import { NOTIFY_CHANNEL, captureDates } from './triggers.js';

export type JourneyStatus = 'DRAFT' | 'ACTIVE' | 'PAUSED' | 'ARCHIVED';
export type RunStatus = 'ACTIVE' | 'WAITING' | 'COMPLETED' | 'FAILED' | 'CANCELLED';
export type MessageStatus = 'SENT' | 'DELIVERED' | 'FAILED' | 'WITHHELD';

export interface JourneyRecord {
  id: string;
  name: string;
  status: JourneyStatus;
  version: number;
  definition: JourneyDefinition;
  activatedAt: Date | null;
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface JourneyVersionRecord {
  version: number;
  definition: JourneyDefinition;
  createdBy: string | null;
  createdAt: Date;
}

export interface JourneyRunRecord {
  id: string;
  journeyId: string;
  version: number;
  customerId: string;
  status: RunStatus;
  stepId: string | null;
  wakeAt: Date;
  context: Record<string, unknown>;
  error: string | null;
  startedAt: Date;
  finishedAt: Date | null;
}

export interface RunStepRecord {
  seq: number;
  stepId: string;
  type: string;
  outcome: string;
  detail: Record<string, unknown>;
  at: Date;
}

export interface MessageRecord {
  id: string;
  customerId: string | null;
  journeyId: string | null;
  runId: string | null;
  stepId: string | null;
  channel: Channel | 'WEBHOOK';
  purpose: 'MARKETING' | 'TRANSACTIONAL';
  status: MessageStatus;
  reason: string | null;
  recipient: string | null;
  subject: string | null;
  body: string | null;
  links: string[];
  error: string | null;
  createdAt: Date;
  sentAt: Date | null;
  deliveredAt: Date | null;
  clicks: number;
}

export interface JourneyReport {
  runs: number;
  active: number;
  completed: number;
  failed: number;
  sent: number;
  delivered: number;
  failedMessages: number;
  withheld: number;
  withheldByReason: { reason: string; count: number }[];
  clicks: number;
  uniqueClickers: number;
  /** Orders placed within the attribution window after a message of this journey, when it was the latest message (last touch). */
  attributedOrders: number;
  attributedRevenue: number;
  /** attributedOrders / customers messaged. */
  conversionRate: number;
  attributionDays: number;
  /** Per step of the definition that runs wait at or messages came from: runs waiting there, messages sent and withheld (and why). */
  steps: JourneyStepReport[];
}

export interface JourneyStepReport {
  stepId: string;
  waiting: number;
  sent: number;
  withheld: number;
  withheldByReason: { reason: string; count: number }[];
}

const JOURNEY_COLUMNS = `j.id::text as id, j.name, j.status, j.version, j.definition, j.activated_at, j.created_by, j.created_at, j.updated_at`;
interface JourneyRow {
  id: string;
  name: string;
  status: JourneyStatus;
  version: number;
  definition: JourneyDefinition;
  activated_at: Date | null;
  created_by: string | null;
  created_at: Date;
  updated_at: Date;
}
const mapJourney = (r: JourneyRow): JourneyRecord => ({
  id: r.id,
  name: r.name,
  status: r.status,
  version: r.version,
  definition: r.definition,
  activatedAt: asDate(r.activated_at),
  createdBy: r.created_by,
  createdAt: asDate(r.created_at)!,
  updatedAt: asDate(r.updated_at)!,
});

const RUN_COLUMNS = `r.id::text as id, r.journey_id::text as journey_id, r.version, r.customer_id::text as customer_id, r.status, r.step_id, r.wake_at, r.context, r.error, r.started_at, r.finished_at`;
interface RunRow {
  id: string;
  journey_id: string;
  version: number;
  customer_id: string;
  status: RunStatus;
  step_id: string | null;
  wake_at: Date;
  context: Record<string, unknown>;
  error: string | null;
  started_at: Date;
  finished_at: Date | null;
}
const mapRun = (r: RunRow): JourneyRunRecord => ({
  id: r.id,
  journeyId: r.journey_id,
  version: r.version,
  customerId: r.customer_id,
  status: r.status,
  stepId: r.step_id,
  wakeAt: asDate(r.wake_at)!,
  context: r.context,
  error: r.error,
  startedAt: asDate(r.started_at)!,
  finishedAt: asDate(r.finished_at),
});

const MESSAGE_COLUMNS = `m.id::text as id, m.customer_id::text as customer_id, m.journey_id::text as journey_id, m.run_id::text as run_id, m.step_id, m.channel, m.purpose,
  m.status, m.reason, m.recipient, m.subject, m.body, m.links, m.error, m.created_at, m.sent_at, m.delivered_at,
  (select count(*)::int from kokyaku.message_clicks k where k.tenant_id = m.tenant_id and k.message_id = m.id) as clicks`;
interface MessageRow {
  id: string;
  customer_id: string | null;
  journey_id: string | null;
  run_id: string | null;
  step_id: string | null;
  channel: MessageRecord['channel'];
  purpose: MessageRecord['purpose'];
  status: MessageStatus;
  reason: string | null;
  recipient: string | null;
  subject: string | null;
  body: string | null;
  links: string[];
  error: string | null;
  created_at: Date;
  sent_at: Date | null;
  delivered_at: Date | null;
  clicks: number;
}
const mapMessage = (r: MessageRow): MessageRecord => ({
  id: r.id,
  customerId: r.customer_id,
  journeyId: r.journey_id,
  runId: r.run_id,
  stepId: r.step_id,
  channel: r.channel,
  purpose: r.purpose,
  status: r.status,
  reason: r.reason,
  recipient: r.recipient,
  subject: r.subject,
  body: r.body,
  links: r.links,
  error: r.error,
  createdAt: asDate(r.created_at)!,
  sentAt: asDate(r.sent_at),
  deliveredAt: asDate(r.delivered_at),
  clicks: r.clicks,
});

/** A filter of a list: `column = value` unless the value is null (then no filter). */
type ListFilter = { column: string; cast: 'bigint' | 'text'; value: string | null | undefined };

/**
 * One page of a list ordered by id, newest first, with optional equality filters: every list of
 * this service has this shape. The cursor is the last id.
 */
async function pageByIdDesc<Row extends { id: string }, T>(
  ctx: KokyakuContext,
  query: { kind: string; from: string; alias: string; columns: string; filters: ListFilter[] },
  args: PageArgs,
  map: (row: Row) => T,
): Promise<Page<T>> {
  const first = pageSize(args.first);
  const after = args.after ? decodeCursor(args.after, query.kind)[0]! : null;
  const { alias, filters } = query;
  const where = filters.map((f, i) => `($${i + 2}::${f.cast} is null or ${f.column} = $${i + 2}::${f.cast})`);
  const n = filters.length + 2;
  const rows = await sql<Row>(
    ctx.em,
    `select ${query.columns} from ${query.from}
     where ${alias}.tenant_id = $1 and ${[...where, `($${n}::bigint is null or ${alias}.id < $${n}::bigint)`].join(' and ')}
     order by ${alias}.id desc limit $${n + 1}`,
    [ctx.tenantId, ...filters.map((f) => (f.value == null ? null : f.cast === 'bigint' ? idParam(f.value) : f.value)), after, first + 1],
  );
  const page = keysetPage(
    rows,
    first,
    (row) => row,
    query.kind,
    (row) => [row.id],
  );
  return { ...page, nodes: page.nodes.map(map) };
}

const journeyInput = z.strictObject({
  name: z.string().trim().min(1, 'A journey needs a name.').max(200),
  definition: z.unknown(),
});

const settingsInput = z.strictObject({
  quietHoursStart: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'A time of day is "HH:MM".')
    .nullable()
    .optional(),
  quietHoursEnd: z
    .string()
    .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'A time of day is "HH:MM".')
    .nullable()
    .optional(),
  frequencyCapMax: z.number().int().min(1).max(1000).nullable().optional(),
  frequencyCapDays: z.number().int().min(1).max(365).nullable().optional(),
  attributionDays: z.number().int().min(1).max(90).optional(),
  channelOrder: z
    .array(z.enum(CHANNELS))
    .min(1)
    .max(3)
    .refine((c) => new Set(c).size === c.length, 'Name each channel once.')
    .optional(),
});

export interface PreviewInput extends TemplateSet {
  customerExternalId: string;
  /** Render as if this order started the journey. */
  orderExternalId?: string | null;
  data?: Record<string, unknown> | null;
}

/**
 * Journeys: versioned definitions, their runs and step history, the messages sent, the shop's
 * messaging policy, previews, manual starts, and the report per journey (sends, deliveries,
 * failures, withheld by reason, clicks, attributed orders and revenue).
 */
export class JourneyService {
  constructor(
    private readonly deps: { segments: SegmentService; customers: CustomerService; recommendations: RecommendationService; engine: JourneyEngine; plugins?: AutomationExtensions },
  ) {}

  get engine(): JourneyEngine {
    return this.deps.engine;
  }

  /** Saves a new journey (DRAFT, version 1) after checking its whole definition. */
  async create(ctx: KokyakuContext, input: { name: string; definition: unknown }): Promise<JourneyRecord> {
    const { name, definition: raw } = parseInput(journeyInput, input, 'journey');
    const definition = await parseDefinition(ctx, this.deps.segments, raw, this.deps.plugins);
    return transaction(ctx, async (em) => {
      const [row] = await unique(
        () =>
          sql<JourneyRow>(
            em,
            `insert into kokyaku.journeys as j (tenant_id, name, trigger_type, trigger_segment_id, definition, created_by)
             values ($1, $2, $3, $4::bigint, $5::jsonb, $6) returning ${JOURNEY_COLUMNS}`,
            [ctx.tenantId, name, definition.trigger.type, segmentOf(definition), JSON.stringify(definition), actorId(ctx)],
          ),
        'name',
        `A journey named "${name}" exists already; choose another name.`,
      );
      await sql(em, `insert into kokyaku.journey_versions (tenant_id, journey_id, version, definition, created_by) values ($1, $2::bigint, 1, $3::jsonb, $4)`, [
        ctx.tenantId,
        row!.id,
        JSON.stringify(definition),
        actorId(ctx),
      ]);
      return mapJourney(row!);
    });
  }

  /**
   * Renames a journey and/or saves a new version of its definition. Runs already under way finish
   * on the version they started with; new runs take the new one.
   */
  async update(ctx: KokyakuContext, id: string, input: { name?: string | null; definition?: unknown }): Promise<JourneyRecord> {
    const current = await this.require(ctx, id);
    const name = input.name == null ? current.name : parseInput(journeyInput, { name: input.name, definition: null }, 'journey').name;
    const definition = input.definition === undefined || input.definition === null ? null : await parseDefinition(ctx, this.deps.segments, input.definition, this.deps.plugins);
    return transaction(ctx, async (em) => {
      // Compared as jsonb: key order does not make a new version.
      const changed =
        definition !== null &&
        !(
          await sqlOne<{ same: boolean }>(em, `select definition = $3::jsonb as same from kokyaku.journeys where tenant_id = $1 and id = $2::bigint for update`, [
            ctx.tenantId,
            current.id,
            JSON.stringify(definition),
          ])
        )?.same;
      const [row] = await unique(
        () =>
          sql<JourneyRow>(
            em,
            `update kokyaku.journeys j set name = $3,
               version = case when $4 then version + 1 else version end,
               definition = case when $4 then $5::jsonb else definition end,
               trigger_type = case when $4 then $6 else trigger_type end,
               trigger_segment_id = case when $4 then $7::bigint else trigger_segment_id end,
               updated_at = now()
             where tenant_id = $1 and id = $2::bigint returning ${JOURNEY_COLUMNS}`,
            [ctx.tenantId, current.id, name, changed, JSON.stringify(definition), definition?.trigger.type ?? null, definition ? segmentOf(definition) : null],
          ),
        'name',
        `A journey named "${name}" exists already; choose another name.`,
      );
      if (changed) {
        await sql(em, `insert into kokyaku.journey_versions (tenant_id, journey_id, version, definition, created_by) values ($1, $2::bigint, $3, $4::jsonb, $5)`, [
          ctx.tenantId,
          current.id,
          row!.version,
          JSON.stringify(definition),
          actorId(ctx),
        ]);
      }
      return mapJourney(row!);
    });
  }

  /**
   * ACTIVE starts listening to the trigger (facts from before this moment start nothing), PAUSED
   * stops new runs and holds runs under way where they are, ARCHIVED cancels them at their next step.
   */
  async setStatus(ctx: KokyakuContext, id: string, status: Exclude<JourneyStatus, 'DRAFT'>): Promise<JourneyRecord> {
    const current = await this.require(ctx, id);
    if (current.status === 'ARCHIVED' && status !== 'ARCHIVED') {
      throw KokyakuError.badInput('An archived journey stays archived; copy its definition into a new journey.', { field: 'status' });
    }
    const [row] = await sql<JourneyRow>(
      ctx.em,
      `update kokyaku.journeys j set status = $3,
         activated_at = case when $3 = 'ACTIVE' and status <> 'ACTIVE' then now() else activated_at end, updated_at = now()
       where tenant_id = $1 and id = $2::bigint returning ${JOURNEY_COLUMNS}`,
      [ctx.tenantId, current.id, status],
    );
    // Runs held by a pause go on: wake the worker.
    if (status === 'ACTIVE') await sql(ctx.em, `select pg_notify('${NOTIFY_CHANNEL}', $1)`, [ctx.tenantId]);
    return mapJourney(row!);
  }

  async get(ctx: KokyakuContext, id: string): Promise<JourneyRecord | null> {
    if (!isId(id)) return null;
    const row = await sqlOne<JourneyRow>(ctx.em, `select ${JOURNEY_COLUMNS} from kokyaku.journeys j where j.tenant_id = $1 and j.id = $2::bigint`, [ctx.tenantId, id]);
    return row ? mapJourney(row) : null;
  }

  private async require(ctx: KokyakuContext, id: string): Promise<JourneyRecord> {
    const journey = await this.get(ctx, id);
    if (!journey) throw KokyakuError.notFound('Journey', id);
    return journey;
  }

  async list(ctx: KokyakuContext, args: PageArgs & { status?: JourneyStatus | null } = {}): Promise<Page<JourneyRecord>> {
    return pageByIdDesc(
      ctx,
      { kind: 'j', from: 'kokyaku.journeys j', alias: 'j', columns: JOURNEY_COLUMNS, filters: [{ column: 'j.status', cast: 'text', value: args.status }] },
      args,
      mapJourney,
    );
  }

  async versions(ctx: KokyakuContext, id: string): Promise<JourneyVersionRecord[]> {
    const rows = await sql<{ version: number; definition: JourneyDefinition; created_by: string | null; created_at: Date }>(
      ctx.em,
      `select version, definition, created_by, created_at from kokyaku.journey_versions where tenant_id = $1 and journey_id = $2::bigint order by version desc`,
      [ctx.tenantId, idParam(id)],
    );
    return rows.map((r) => ({ version: r.version, definition: r.definition, createdBy: r.created_by, createdAt: asDate(r.created_at)! }));
  }

  /**
   * Starts an ACTIVE journey for customers by hand or from the host's code. `key` makes the call
   * idempotent (the same key starts nothing twice); without one, every call starts new runs of
   * EVERY_TIME journeys.
   */
  async start(
    ctx: KokyakuContext,
    id: string,
    input: { customerExternalIds: string[]; data?: Record<string, unknown> | null; key?: string | null },
  ): Promise<{ started: number; skipped: number; runIds: string[] }> {
    const journey = await this.require(ctx, id);
    if (journey.status !== 'ACTIVE') throw KokyakuError.badInput(`The journey "${journey.name}" is ${journey.status}; activate it first.`, { field: 'id' });
    if (input.customerExternalIds.length === 0 || input.customerExternalIds.length > 1000) {
      throw KokyakuError.badInput('Start a journey for 1 to 1,000 customers at a time.', { field: 'customerExternalIds' });
    }
    const data = input.data ?? {};
    if (JSON.stringify(data).length > 10_000) throw KokyakuError.badInput('data holds at most 10,000 characters of JSON.', { field: 'data' });
    const key = `manual:${input.key ?? crypto.randomUUID()}`;
    return transaction(ctx, async (em) => {
      // Every shop id at once, its own or one merged into another customer.
      const found = await sql<{ id: string | null }>(
        em,
        `select coalesce(c.id, a.customer_id)::text as id
         from unnest(kokyaku.json_texts($2::jsonb)) with ordinality as x(external_id, n)
         left join kokyaku.customers c on c.tenant_id = $1 and c.external_id = x.external_id
         left join kokyaku.customer_aliases a on a.tenant_id = $1 and a.external_id = x.external_id
         order by x.n`,
        [ctx.tenantId, JSON.stringify(input.customerExternalIds)],
      );
      const missing = found.findIndex((r) => r.id === null);
      if (missing >= 0) {
        throw KokyakuError.badInput(`customerExternalIds[${missing}]: no customer "${input.customerExternalIds[missing]}" in this shop.`, {
          field: `customerExternalIds[${missing}]`,
        });
      }
      const ids = found.map((r) => r.id!);
      const rows = await sql<{ id: string }>(
        em,
        `insert into kokyaku.journey_runs (tenant_id, journey_id, version, customer_id, trigger_key, context, step_id)
         select $1, j.id, j.version, c.id, case when j.definition->>'reentry' = 'EVERY_TIME' then $4 else 'once' end,
                jsonb_build_object('data', $5::jsonb), j.definition->'steps'->0->>'id'
         from kokyaku.journeys j, unnest(kokyaku.json_bigints($3::jsonb)) as c(id)
         where j.tenant_id = $1 and j.id = $2::bigint
         on conflict (journey_id, customer_id, trigger_key, tenant_id) do nothing
         returning id::text as id`,
        [ctx.tenantId, journey.id, JSON.stringify([...new Set(ids)]), key, JSON.stringify(data)],
      );
      if (rows.length > 0) await sql(em, `select pg_notify('${NOTIFY_CHANNEL}', $1)`, [ctx.tenantId]);
      return { started: rows.length, skipped: input.customerExternalIds.length - rows.length, runIds: rows.map((r) => r.id) };
    });
  }

  async runs(ctx: KokyakuContext, args: PageArgs & { journeyId?: string | null; customerId?: string | null; status?: RunStatus | null } = {}): Promise<Page<JourneyRunRecord>> {
    const filters: ListFilter[] = [
      { column: 'r.journey_id', cast: 'bigint', value: args.journeyId },
      { column: 'r.customer_id', cast: 'bigint', value: args.customerId },
      { column: 'r.status', cast: 'text', value: args.status },
    ];
    return pageByIdDesc(ctx, { kind: 'r', from: 'kokyaku.journey_runs r', alias: 'r', columns: RUN_COLUMNS, filters }, args, mapRun);
  }

  async run(ctx: KokyakuContext, id: string): Promise<JourneyRunRecord | null> {
    if (!isId(id)) return null;
    const row = await sqlOne<RunRow>(ctx.em, `select ${RUN_COLUMNS} from kokyaku.journey_runs r where r.tenant_id = $1 and r.id = $2::bigint`, [ctx.tenantId, id]);
    return row ? mapRun(row) : null;
  }

  /** What each step of a run did, in order. */
  async runSteps(ctx: KokyakuContext, runId: string): Promise<RunStepRecord[]> {
    const rows = await sql<{ seq: number; step_id: string; type: string; outcome: string; detail: Record<string, unknown>; at: Date }>(
      ctx.em,
      `select seq, step_id, type, outcome, detail, at from kokyaku.journey_run_steps where tenant_id = $1 and run_id = $2::bigint order by seq`,
      [ctx.tenantId, idParam(runId)],
    );
    return rows.map((r) => ({ seq: r.seq, stepId: r.step_id, type: r.type, outcome: r.outcome, detail: r.detail, at: asDate(r.at)! }));
  }

  async cancelRun(ctx: KokyakuContext, id: string): Promise<JourneyRunRecord> {
    const row = await sqlOne<RunRow>(
      ctx.em,
      `update kokyaku.journey_runs r set status = 'CANCELLED', finished_at = now(), updated_at = now(), error = 'Cancelled by ' || coalesce($3, 'the API')
       where r.tenant_id = $1 and r.id = $2::bigint and r.status in ('ACTIVE', 'WAITING') returning ${RUN_COLUMNS}`,
      [ctx.tenantId, idParam(id), actorId(ctx)],
    );
    if (row) return mapRun(row);
    const run = await this.run(ctx, id);
    if (!run) throw KokyakuError.notFound('Journey run', id);
    throw KokyakuError.badInput(`The run is ${run.status} already.`, { field: 'id' });
  }

  async messages(
    ctx: KokyakuContext,
    args: PageArgs & { customerId?: string | null; journeyId?: string | null; status?: MessageStatus | null } = {},
  ): Promise<Page<MessageRecord>> {
    const filters: ListFilter[] = [
      { column: 'm.customer_id', cast: 'bigint', value: args.customerId },
      { column: 'm.journey_id', cast: 'bigint', value: args.journeyId },
      { column: 'm.status', cast: 'text', value: args.status },
    ];
    return pageByIdDesc(ctx, { kind: 'm', from: 'kokyaku.messages m', alias: 'm', columns: MESSAGE_COLUMNS, filters }, args, mapMessage);
  }

  async settings(ctx: KokyakuContext): Promise<MessagingSettings> {
    return loadSettings(ctx);
  }

  /** Changes the shop's messaging policy; a field left out keeps its value, null clears it. */
  async updateSettings(ctx: KokyakuContext, patch: Partial<MessagingSettings>): Promise<MessagingSettings> {
    const p = parseInput(settingsInput, patch, 'settings');
    const merged = { ...(await loadSettings(ctx)), ...Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) } as MessagingSettings;
    if ((merged.quietHoursStart === null) !== (merged.quietHoursEnd === null)) {
      throw KokyakuError.badInput('Give both ends of the quiet hours, or clear both.', { field: merged.quietHoursStart === null ? 'quietHoursStart' : 'quietHoursEnd' });
    }
    if ((merged.frequencyCapMax === null) !== (merged.frequencyCapDays === null)) {
      throw KokyakuError.badInput('A frequency cap needs both a number of messages and a number of days.', {
        field: merged.frequencyCapMax === null ? 'frequencyCapMax' : 'frequencyCapDays',
      });
    }
    await sql(
      ctx.em,
      `insert into kokyaku.messaging_settings (tenant_id, quiet_start, quiet_end, cap_max, cap_days, attribution_days, channel_order, updated_at)
       values ($1, $2::time, $3::time, $4, $5, $6, $7::jsonb, now())
       on conflict (tenant_id) do update set quiet_start = excluded.quiet_start, quiet_end = excluded.quiet_end, cap_max = excluded.cap_max,
         cap_days = excluded.cap_days, attribution_days = excluded.attribution_days, channel_order = excluded.channel_order, updated_at = now()`,
      [ctx.tenantId, merged.quietHoursStart, merged.quietHoursEnd, merged.frequencyCapMax, merged.frequencyCapDays, merged.attributionDays, JSON.stringify(merged.channelOrder)],
    );
    return loadSettings(ctx);
  }

  /** Renders a template for a real customer (and optionally an order), sending nothing. */
  async preview(ctx: KokyakuContext, input: PreviewInput): Promise<RenderedMessage> {
    checkTemplates(ctx.shop, input, 'template');
    const customerId = await requireCustomer(ctx, { externalId: input.customerExternalId }, 'customerExternalId');
    const orderId = input.orderExternalId ? await requireOrder(ctx, input.orderExternalId, 'orderExternalId') : undefined;
    const customer = (await this.deps.customers.findById(ctx, customerId))!;
    const data = await mergeData(ctx, {
      customer,
      context: { orderId, data: input.data ?? {} },
      links: { unsubscribe_url: '#unsubscribe-preview' },
      recommendations: this.deps.recommendations,
    });
    return renderTemplates(ctx.shop, input, data, 'template');
  }

  /**
   * Sends, deliveries, failures, withholdings, clicks and last-touch attributed revenue of a journey,
   * for the runs and messages started on the days [from, to] (shop time zone; default all).
   */
  async report(ctx: KokyakuContext, journeyId: string, range: DateRange = {}): Promise<JourneyReport> {
    const from = range.from ? checkDate(range.from, 'from') : null;
    const to = range.to ? checkDate(range.to, 'to') : null;
    if (from && to && from > to) throw KokyakuError.badInput('"from" must not be after "to".', { field: 'from' });
    const journey = await this.require(ctx, journeyId);
    const settings = await loadSettings(ctx);
    const row = await sqlOne<{
      runs: number;
      active: number;
      completed: number;
      failed: number;
      sent: number;
      delivered: number;
      failed_messages: number;
      withheld: number;
      reasons: { reason: string; count: number }[] | null;
      clicks: number;
      clickers: number;
      messaged: number;
      orders: number;
      revenue: string;
      steps: JourneyStepReport[] | null;
    }>(
      ctx.em,
      `with b as (
         -- [from, to] are whole days in the shop's time zone.
         select coalesce(${dayStart('$3::text', '$6::text')}, '-infinity'::timestamptz) as lo,
                coalesce(${dayStart('($4::text::date + 1)', '$6::text')}, 'infinity'::timestamptz) as hi
       ),
       m as (
         select * from kokyaku.messages where tenant_id = $1 and journey_id = $2::bigint and created_at >= (select lo from b) and created_at < (select hi from b)
       ),
       r as (
         select status, step_id from kokyaku.journey_runs
         where tenant_id = $1 and journey_id = $2::bigint and started_at >= (select lo from b) and started_at < (select hi from b)
       ),
       attributed as (
         select o.id, o.total_minor from kokyaku.orders o
         join lateral (
           select x.journey_id from kokyaku.messages x
           where x.tenant_id = $1 and x.customer_id = o.customer_id and x.sent_at is not null and x.sent_at < o.placed_at
             and x.sent_at >= o.placed_at - make_interval(days => $5)
           order by x.sent_at desc, x.id desc limit 1
         ) last on last.journey_id = $2::bigint
         where o.tenant_id = $1 and o.status = 'PLACED'
           and o.customer_id in (select customer_id from m where sent_at is not null)
           and o.placed_at >= (select lo from b) and o.placed_at < (select hi from b) + make_interval(days => $5)
       )
       select (select count(*) from r)::int as runs,
              (select count(*) from r where status in ('ACTIVE', 'WAITING'))::int as active,
              (select count(*) from r where status = 'COMPLETED')::int as completed,
              (select count(*) from r where status = 'FAILED')::int as failed,
              (select count(*) from m where sent_at is not null)::int as sent,
              (select count(*) from m where status = 'DELIVERED')::int as delivered,
              (select count(*) from m where status = 'FAILED')::int as failed_messages,
              (select count(*) from m where status = 'WITHHELD')::int as withheld,
              (select jsonb_agg(jsonb_build_object('reason', reason, 'count', n) order by n desc, reason)
                 from (select reason, count(*)::int as n from m where status = 'WITHHELD' group by reason) w) as reasons,
              (select count(*) from kokyaku.message_clicks k join m on m.tenant_id = k.tenant_id and m.id = k.message_id)::int as clicks,
              (select count(distinct m.customer_id) from kokyaku.message_clicks k join m on m.tenant_id = k.tenant_id and m.id = k.message_id)::int as clickers,
              (select count(distinct customer_id) from m where sent_at is not null)::int as messaged,
              (select count(*) from attributed)::int as orders,
              (select coalesce(sum(total_minor), 0) from attributed)::text as revenue,
              (select jsonb_agg(jsonb_build_object('stepId', s.step_id, 'waiting', coalesce(w.n, 0), 'sent', coalesce(x.sent, 0), 'withheld', coalesce(x.withheld, 0),
                                                   'withheldByReason', coalesce(q.reasons, '[]'::jsonb)) order by s.step_id)
                 from (select step_id from r where step_id is not null and status in ('ACTIVE', 'WAITING') union select step_id from m where step_id is not null) s
                 left join (select step_id, count(*)::int as n from r where status in ('ACTIVE', 'WAITING') group by step_id) w using (step_id)
                 left join (select step_id, count(*) filter (where sent_at is not null)::int as sent, count(*) filter (where status = 'WITHHELD')::int as withheld
                              from m group by step_id) x using (step_id)
                 left join (select step_id, jsonb_agg(jsonb_build_object('reason', reason, 'count', n) order by n desc, reason) as reasons
                              from (select step_id, reason, count(*)::int as n from m where status = 'WITHHELD' group by step_id, reason) g group by step_id) q using (step_id)
              ) as steps`,
      [ctx.tenantId, journey.id, from, to, settings.attributionDays, ctx.shop.timeZone],
    );
    const r = row!;
    return {
      runs: r.runs,
      active: r.active,
      completed: r.completed,
      failed: r.failed,
      sent: r.sent,
      delivered: r.delivered,
      failedMessages: r.failed_messages,
      withheld: r.withheld,
      withheldByReason: r.reasons ?? [],
      clicks: r.clicks,
      uniqueClickers: r.clickers,
      attributedOrders: r.orders,
      attributedRevenue: toMajorUnits(Number(r.revenue), ctx.shop.currency),
      conversionRate: r.messaged > 0 ? r.orders / r.messaged : 0,
      attributionDays: settings.attributionDays,
      steps: r.steps ?? [],
    };
  }

  /**
   * Advances every due run of the shop, one after the other, and returns how many it advanced.
   * The worker does this continuously; tests and the CLI call it with a clock of their own.
   */
  async runDue(ctx: KokyakuContext, options: AdvanceOptions & { limit?: number } = {}): Promise<{ advanced: number; failed: number }> {
    const now = options.now ?? new Date();
    await captureDates(ctx, now);
    const due = await sql<{ id: string }>(
      ctx.em,
      `select r.id::text as id from kokyaku.journey_runs r join kokyaku.journeys j on j.tenant_id = r.tenant_id and j.id = r.journey_id and j.status in ('ACTIVE', 'ARCHIVED')
       where r.tenant_id = $1 and r.status in ('ACTIVE', 'WAITING') and r.wake_at <= $2 order by r.wake_at, r.id limit $3`,
      [ctx.tenantId, now, options.limit ?? 1000],
    );
    let failed = 0;
    for (const { id } of due) {
      try {
        await this.deps.engine.advance(ctx, id, { ...options, now });
      } catch (error) {
        failed++;
        if (options.finalAttempt) await this.deps.engine.fail(ctx, id, (error as Error).message, now);
        else await sql(ctx.em, `update kokyaku.journey_runs set error = $3 where tenant_id = $1 and id = $2::bigint`, [ctx.tenantId, id, (error as Error).message.slice(0, 1000)]);
      }
    }
    return { advanced: due.length - failed, failed };
  }

  /** Records a delivery report from a provider (Twilio's status callback, an SMTP bounce processor...). */
  async recordDelivery(
    ctx: KokyakuContext,
    input: { channel: Channel; providerId: string; status: 'DELIVERED' | 'FAILED'; error?: string | null; at?: Date | null },
  ): Promise<boolean> {
    const rows = await sql(
      ctx.em,
      `update kokyaku.messages set status = $4, delivered_at = case when $4 = 'DELIVERED' then coalesce($6::timestamptz, now()) end,
         error = coalesce($5, error)
       where tenant_id = $1 and channel = $2 and provider_id = $3 and status in ('SENT', 'DELIVERED') returning 1`,
      [ctx.tenantId, input.channel, input.providerId, input.status, input.error ?? null, input.at ?? null],
    );
    return rows.length > 0;
  }
}

function segmentOf(definition: JourneyDefinition): string | null {
  const t = definition.trigger;
  return t.type === 'SEGMENT_ENTERED' || t.type === 'SEGMENT_LEFT' ? t.segmentId : null;
}
