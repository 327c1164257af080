import { z } from 'zod';
import type { KokyakuContext } from '../shared/context.js';
import { KokyakuError } from '../shared/errors.js';
import { toMajorUnits, toMinorUnits } from '../shared/money.js';
import { decodeCursor, type Page, type PageArgs, pageSize, keysetPage } from '../shared/pagination.js';
import { asDate, sql, sqlOne, transaction } from '../shared/sql.js';
import { isCalendarDate, jsonObject, optionalText } from '../shared/validation.js';
import type { CustomFieldService } from '../fields/custom-fields.js';
import { actorId, idParam, isId, parseInput, requireOrder, requireRow, unique } from './shared.js';

export const STAGE_OUTCOMES = ['OPEN', 'WON', 'LOST'] as const;
export type StageOutcome = (typeof STAGE_OUTCOMES)[number];

export interface StageInput {
  name: string;
  /** Chance that a deal in this stage is won, 0-1 (WON stages 1, LOST stages 0). */
  probability: number;
  /** OPEN (default), WON or LOST: a deal entering a WON or LOST stage is closed. */
  outcome?: StageOutcome | null;
}

export interface PipelineStage {
  id: string;
  pipelineId: string;
  name: string;
  position: number;
  probability: number;
  outcome: StageOutcome;
}

export interface Pipeline {
  id: string;
  name: string;
  stages: PipelineStage[];
  createdAt: Date;
}

export interface DealInput {
  pipelineId: string;
  /** Default: the pipeline's first stage. */
  stageId?: string | null;
  title: string;
  /** In the shop currency's major units. */
  amount?: number | null;
  /** YYYY-MM-DD */
  expectedCloseDate?: string | null;
  ownerId?: string | null;
  customerId?: string | null;
  companyId?: string | null;
  customFields?: Record<string, unknown> | null;
}

export interface DealRecord {
  id: string;
  pipelineId: string;
  stageId: string;
  title: string;
  amount: number;
  currency: string;
  expectedCloseDate: string | null;
  ownerId: string | null;
  customerId: string | null;
  companyId: string | null;
  customFields: Record<string, unknown>;
  /** Probability of the current stage. */
  probability: number;
  outcome: StageOutcome;
  closedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface DealStageChange {
  id: string;
  dealId: string;
  fromStageId: string | null;
  toStageId: string;
  actorId: string | null;
  movedAt: Date;
}

export interface ForecastRow {
  /** First day of the period (YYYY-MM-DD). */
  period: string;
  ownerId: string | null;
  openDeals: number;
  /** Sum of the amounts of open deals expected to close in the period. */
  openAmount: number;
  /** Sum of amount x stage probability of those deals. */
  weightedAmount: number;
  wonDeals: number;
  /** Sum of the amounts of deals won (closed in a WON stage) in the period. */
  wonAmount: number;
}

const stageSchema = z.strictObject({
  name: z.string({ error: 'Required: a name.' }).trim().min(1, 'Must not be empty.').max(200),
  probability: z.number({ error: 'Required: a probability from 0 to 1.' }).min(0, 'Must be from 0 to 1.').max(1, 'Must be from 0 to 1.'),
  outcome: z.enum(STAGE_OUTCOMES).nullable().optional(),
});
const pipelineSchema = z.strictObject({
  name: z.string({ error: 'Required: a name.' }).trim().min(1, 'Must not be empty.').max(200),
  stages: z
    .array(stageSchema, { error: 'Required: the stages, in order.' })
    .min(1, 'A pipeline needs at least one stage.')
    .max(50, 'At most 50 stages.')
    .refine((s) => new Set(s.map((x) => x.name)).size === s.length, 'Stage names must be distinct.'),
});

const dateText = z
  .string({ error: 'Must be a date written YYYY-MM-DD.' })
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'Must be a date written YYYY-MM-DD.')
  .refine(isCalendarDate, 'Is not a calendar date.');

const dealFields = {
  pipelineId: z.string({ error: 'Required: a pipeline id.' }),
  stageId: z.string({ error: 'Must be a stage id.' }).nullable().optional(),
  title: z.string({ error: 'Required: a title.' }).trim().min(1, 'Must not be empty.').max(300),
  amount: z.number({ error: 'Must be an amount.' }).min(0, 'Must not be negative.').nullable().optional(),
  expectedCloseDate: dateText.nullable().optional(),
  ownerId: optionalText(255),
  customerId: z.string({ error: 'Must be a customer id.' }).nullable().optional(),
  companyId: z.string({ error: 'Must be a company id.' }).nullable().optional(),
  customFields: jsonObject.nullable().optional(),
};
const dealCreate = z.strictObject(dealFields);
const dealUpdate = z.strictObject({ ...dealFields, pipelineId: dealFields.pipelineId.optional(), title: dealFields.title.optional() }).omit({ stageId: true });

interface DealRow {
  id: string;
  pipeline_id: string;
  stage_id: string;
  title: string;
  amount_minor: string;
  currency: string;
  expected_close_date: string | null;
  owner_id: string | null;
  customer_id: string | null;
  company_id: string | null;
  custom_fields: Record<string, unknown>;
  probability: string;
  outcome: StageOutcome;
  closed_at: Date | string | null;
  created_at: Date | string;
  updated_at: Date | string;
}

const DEAL_COLUMNS = `d.id::text as id, d.pipeline_id::text as pipeline_id, d.stage_id::text as stage_id, d.title, d.amount_minor::text as amount_minor, d.currency,
  to_char(d.expected_close_date, 'YYYY-MM-DD') as expected_close_date, d.owner_id, d.customer_id::text as customer_id, d.company_id::text as company_id,
  d.custom_fields, st.probability::text as probability, st.outcome, d.closed_at, d.created_at, d.updated_at`;
const DEAL_FROM = `kokyaku.deals d join kokyaku.pipeline_stages st on st.tenant_id = d.tenant_id and st.id = d.stage_id`;

const mapDeal = (r: DealRow): DealRecord => ({
  id: r.id,
  pipelineId: r.pipeline_id,
  stageId: r.stage_id,
  title: r.title,
  amount: toMajorUnits(Number(r.amount_minor), r.currency),
  currency: r.currency,
  expectedCloseDate: r.expected_close_date,
  ownerId: r.owner_id,
  customerId: r.customer_id,
  companyId: r.company_id,
  customFields: r.custom_fields,
  probability: Number(r.probability),
  outcome: r.outcome,
  closedAt: asDate(r.closed_at),
  createdAt: asDate(r.created_at),
  updatedAt: asDate(r.updated_at),
});

/** Pipelines of stages with win probabilities, deals moving through them (every move recorded), and the weighted forecast. */
export class DealService {
  constructor(private readonly customFields: CustomFieldService) {}

  async createPipeline(ctx: KokyakuContext, input: { name: string; stages: StageInput[] }): Promise<Pipeline> {
    const p = parseInput(pipelineSchema, input, 'pipeline');
    const id = await transaction(ctx, async (em) => {
      const [row] = await unique(
        () => sql<{ id: string }>(em, `insert into kokyaku.pipelines (tenant_id, name) values ($1, $2) returning id::text as id`, [ctx.tenantId, p.name]),
        'name',
        `a pipeline named ${JSON.stringify(p.name)} exists already.`,
      );
      await sql(
        em,
        `insert into kokyaku.pipeline_stages (tenant_id, pipeline_id, name, position, probability, outcome)
         select $1, $2::bigint, s->>'name', (n - 1)::int, (s->>'probability')::numeric, coalesce(s->>'outcome', 'OPEN')
         from jsonb_array_elements($3::jsonb) with ordinality as x(s, n)`,
        [ctx.tenantId, row!.id, JSON.stringify(p.stages)],
      );
      return row!.id;
    });
    return (await this.pipeline(ctx, id))!;
  }

  /** Renames a stage or changes its probability (deals in it are forecast with the new one). */
  async updateStage(ctx: KokyakuContext, stageId: string, patch: { name?: string | null; probability?: number | null }): Promise<PipelineStage> {
    const p = parseInput(stageSchema.partial().omit({ outcome: true }), patch, 'stage');
    await requireRow(ctx, 'pipeline_stages', stageId, 'stageId');
    const [row] = await unique(
      () =>
        sql<{ pipeline_id: string }>(
          ctx.em,
          `update kokyaku.pipeline_stages set name = coalesce($3, name), probability = coalesce($4::numeric, probability)
           where tenant_id = $1 and id = $2::bigint returning pipeline_id::text as pipeline_id`,
          [ctx.tenantId, stageId, p.name ?? null, p.probability ?? null],
        ),
      'name',
      `the pipeline has a stage named ${JSON.stringify(p.name)} already.`,
    );
    return (await this.pipeline(ctx, row!.pipeline_id))!.stages.find((s) => s.id === stageId)!;
  }

  /** Adds a stage to a pipeline, at `position` (0 = first; default last); later stages move down one. */
  async addStage(ctx: KokyakuContext, pipelineId: string, input: StageInput & { position?: number | null }): Promise<Pipeline> {
    const st = parseInput(stageSchema.extend({ position: z.number().int().min(0, 'Must not be negative.').nullable().optional() }), input, 'stage');
    await transaction(ctx, async (em) => {
      await requireRow({ ...ctx, em }, 'pipelines', pipelineId, 'pipelineId');
      // One change to a pipeline's stages at a time.
      await sql(em, `select 1 from kokyaku.pipelines where tenant_id = $1 and id = $2::bigint for update`, [ctx.tenantId, pipelineId]);
      const [{ n } = { n: 0 }] = await sql<{ n: number }>(em, `select count(*)::int as n from kokyaku.pipeline_stages where tenant_id = $1 and pipeline_id = $2::bigint`, [
        ctx.tenantId,
        pipelineId,
      ]);
      const position = Math.min(st.position ?? n, n);
      await sql(em, `update kokyaku.pipeline_stages set position = position + 1 where tenant_id = $1 and pipeline_id = $2::bigint and position >= $3`, [
        ctx.tenantId,
        pipelineId,
        position,
      ]);
      await unique(
        () =>
          sql(em, `insert into kokyaku.pipeline_stages (tenant_id, pipeline_id, name, position, probability, outcome) values ($1, $2::bigint, $3, $4, $5, $6)`, [
            ctx.tenantId,
            pipelineId,
            st.name,
            position,
            st.probability,
            st.outcome ?? 'OPEN',
          ]),
        'name',
        `the pipeline has a stage named ${JSON.stringify(st.name)} already.`,
      );
    });
    return (await this.pipeline(ctx, pipelineId))!;
  }

  /** Removes a stage no deal is in (move them first) and no deal has passed through; the stages after it move up one. */
  async deleteStage(ctx: KokyakuContext, stageId: string): Promise<Pipeline> {
    const pipelineId = await transaction(ctx, async (em) => {
      const stage = isId(stageId)
        ? await sqlOne<{ pipeline_id: string; position: number }>(
            em,
            `select pipeline_id::text as pipeline_id, position from kokyaku.pipeline_stages where tenant_id = $1 and id = $2::bigint for update`,
            [ctx.tenantId, stageId],
          )
        : undefined;
      if (!stage) throw KokyakuError.notFound('Stage', stageId);
      const used = await sqlOne(
        em,
        `select 1 where exists (select 1 from kokyaku.deals where tenant_id = $1 and stage_id = $2::bigint)
            or exists (select 1 from kokyaku.deal_stage_history where tenant_id = $1 and (from_stage_id = $2::bigint or to_stage_id = $2::bigint))`,
        [ctx.tenantId, stageId],
      );
      if (used)
        throw KokyakuError.badInput(`stageId: deals are in this stage or passed through it; their history names it, so it stays (rename it instead).`, { field: 'stageId' });
      const [{ n } = { n: 0 }] = await sql<{ n: number }>(em, `select count(*)::int as n from kokyaku.pipeline_stages where tenant_id = $1 and pipeline_id = $2::bigint`, [
        ctx.tenantId,
        stage.pipeline_id,
      ]);
      if (n <= 1) throw KokyakuError.badInput('stageId: a pipeline keeps at least one stage.', { field: 'stageId' });
      await sql(em, `delete from kokyaku.pipeline_stages where tenant_id = $1 and id = $2::bigint`, [ctx.tenantId, stageId]);
      await sql(em, `update kokyaku.pipeline_stages set position = position - 1 where tenant_id = $1 and pipeline_id = $2::bigint and position > $3`, [
        ctx.tenantId,
        stage.pipeline_id,
        stage.position,
      ]);
      return stage.pipeline_id;
    });
    return (await this.pipeline(ctx, pipelineId))!;
  }

  /** Deletes a pipeline without deals. */
  async deletePipeline(ctx: KokyakuContext, id: string): Promise<boolean> {
    if (!isId(id)) return false;
    const deal = await sqlOne(ctx.em, `select 1 from kokyaku.deals where tenant_id = $1 and pipeline_id = $2::bigint limit 1`, [ctx.tenantId, id]);
    if (deal) throw KokyakuError.badInput(`Pipeline ${id} has deals; delete or move them first.`, { field: 'id' });
    return (await sql(ctx.em, `delete from kokyaku.pipelines where tenant_id = $1 and id = $2::bigint returning id`, [ctx.tenantId, id])).length > 0;
  }

  async pipelines(ctx: KokyakuContext): Promise<Pipeline[]> {
    return this.loadPipelines(ctx, null);
  }

  async pipeline(ctx: KokyakuContext, id: string): Promise<Pipeline | null> {
    return isId(id) ? ((await this.loadPipelines(ctx, id))[0] ?? null) : null;
  }

  private async loadPipelines(ctx: KokyakuContext, id: string | null): Promise<Pipeline[]> {
    const rows = await sql<{
      id: string;
      name: string;
      created_at: Date | string;
      stages: { id: number; name: string; position: number; probability: number; outcome: StageOutcome }[];
    }>(
      ctx.em,
      `select p.id::text as id, p.name, p.created_at,
              coalesce((select jsonb_agg(jsonb_build_object('id', s.id, 'name', s.name, 'position', s.position, 'probability', s.probability, 'outcome', s.outcome) order by s.position)
                        from kokyaku.pipeline_stages s where s.tenant_id = p.tenant_id and s.pipeline_id = p.id), '[]') as stages
       from kokyaku.pipelines p where p.tenant_id = $1 and ($2::bigint is null or p.id = $2::bigint) order by p.id`,
      [ctx.tenantId, id],
    );
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      createdAt: asDate(r.created_at),
      stages: r.stages.map((s) => ({ id: String(s.id), pipelineId: r.id, name: s.name, position: s.position, probability: Number(s.probability), outcome: s.outcome })),
    }));
  }

  async create(ctx: KokyakuContext, input: DealInput): Promise<DealRecord> {
    const d = parseInput(dealCreate, input, 'deal');
    const amountMinor = this.minor(ctx, d.amount);
    const custom = await this.customFields.check(ctx, 'DEAL', d.customFields, { creating: true });
    const id = await transaction(ctx, async (em) => {
      const tx = { ...ctx, em };
      await requireRow(tx, 'pipelines', d.pipelineId, 'pipelineId');
      const stage = d.stageId != null ? await this.stageOf(tx, d.pipelineId, d.stageId) : await this.firstStage(tx, d.pipelineId);
      if (d.customerId != null) await requireRow(tx, 'customers', d.customerId, 'customerId');
      if (d.companyId != null) await requireRow(tx, 'companies', d.companyId, 'companyId');
      const [row] = await sql<{ id: string }>(
        em,
        `insert into kokyaku.deals (tenant_id, pipeline_id, stage_id, title, amount_minor, currency, expected_close_date, owner_id, customer_id, company_id, custom_fields, closed_at)
         values ($1, $2::bigint, $3::bigint, $4, $5, $6, $7::date, $8, $9::bigint, $10::bigint, jsonb_strip_nulls($11::jsonb), case when $12 = 'OPEN' then null else now() end)
         returning id::text as id`,
        [
          ctx.tenantId,
          d.pipelineId,
          stage.id,
          d.title,
          amountMinor ?? 0,
          ctx.shop.currency,
          d.expectedCloseDate ?? null,
          d.ownerId ?? null,
          d.customerId ?? null,
          d.companyId ?? null,
          JSON.stringify(custom),
          stage.outcome,
        ],
      );
      await sql(em, `insert into kokyaku.deal_stage_history (tenant_id, deal_id, from_stage_id, to_stage_id, actor_id) values ($1, $2::bigint, null, $3::bigint, $4)`, [
        ctx.tenantId,
        row!.id,
        stage.id,
        actorId(ctx),
      ]);
      return row!.id;
    });
    return (await this.get(ctx, id))!;
  }

  /** Changes a deal's details (not its stage: `move` does that and records it). */
  async update(ctx: KokyakuContext, id: string, patch: Partial<Omit<DealInput, 'stageId' | 'pipelineId'>>): Promise<DealRecord> {
    const d = parseInput(dealUpdate.omit({ pipelineId: true }), patch, 'deal');
    if (!(await this.get(ctx, id))) throw KokyakuError.notFound('Deal', id);
    const amountMinor = this.minor(ctx, d.amount);
    const custom = d.customFields === undefined ? undefined : await this.customFields.check(ctx, 'DEAL', d.customFields, { creating: false });
    if (d.customerId != null) await requireRow(ctx, 'customers', d.customerId, 'customerId');
    if (d.companyId != null) await requireRow(ctx, 'companies', d.companyId, 'companyId');
    const set = (key: keyof typeof d) => d[key] !== undefined;
    await sql(
      ctx.em,
      `update kokyaku.deals set
         title = coalesce($3, title),
         amount_minor = case when $4 then coalesce($5, 0) else amount_minor end,
         expected_close_date = case when $6 then $7::date else expected_close_date end,
         owner_id = case when $8 then $9 else owner_id end,
         customer_id = case when $10 then $11::bigint else customer_id end,
         company_id = case when $12 then $13::bigint else company_id end,
         custom_fields = case when $14::jsonb is null then custom_fields else jsonb_strip_nulls(custom_fields || $14::jsonb) end,
         updated_at = now()
       where tenant_id = $1 and id = $2::bigint`,
      [
        ctx.tenantId,
        id,
        d.title ?? null,
        set('amount'),
        amountMinor ?? null,
        set('expectedCloseDate'),
        d.expectedCloseDate ?? null,
        set('ownerId'),
        d.ownerId ?? null,
        set('customerId'),
        d.customerId ?? null,
        set('companyId'),
        d.companyId ?? null,
        custom === undefined ? null : JSON.stringify(custom),
      ],
    );
    return (await this.get(ctx, id))!;
  }

  /**
   * Moves a deal to another stage of its pipeline and records the move (who, when, from where).
   * Entering a WON or LOST stage closes the deal; moving back to an OPEN stage reopens it.
   */
  async move(ctx: KokyakuContext, id: string, stageId: string, options: { at?: Date | null } = {}): Promise<DealRecord> {
    await transaction(ctx, async (em) => {
      const tx = { ...ctx, em };
      const deal = await sqlOne<{ pipeline_id: string; stage_id: string }>(
        em,
        `select pipeline_id::text as pipeline_id, stage_id::text as stage_id from kokyaku.deals where tenant_id = $1 and id = $2::bigint for update`,
        [ctx.tenantId, isId(id) ? id : '0'],
      );
      if (!deal) throw KokyakuError.notFound('Deal', id);
      const stage = await this.stageOf(tx, deal.pipeline_id, stageId);
      if (stage.id === deal.stage_id) return;
      const at = options.at ?? new Date();
      await sql(
        em,
        `update kokyaku.deals set stage_id = $3::bigint, closed_at = case when $4 = 'OPEN' then null else $5::timestamptz end, updated_at = now()
         where tenant_id = $1 and id = $2::bigint`,
        [ctx.tenantId, id, stage.id, stage.outcome, at],
      );
      await sql(
        em,
        `insert into kokyaku.deal_stage_history (tenant_id, deal_id, from_stage_id, to_stage_id, actor_id, moved_at) values ($1, $2::bigint, $3::bigint, $4::bigint, $5, $6)`,
        [ctx.tenantId, id, deal.stage_id, stage.id, actorId(ctx), at],
      );
    });
    return (await this.get(ctx, id))!;
  }

  async delete(ctx: KokyakuContext, id: string): Promise<boolean> {
    if (!isId(id)) return false;
    return (await sql(ctx.em, `delete from kokyaku.deals where tenant_id = $1 and id = $2::bigint returning id`, [ctx.tenantId, id])).length > 0;
  }

  /** Every stage a deal has been in, in the order of the moves (the first entry is its creation). */
  async history(ctx: KokyakuContext, id: string): Promise<DealStageChange[]> {
    if (!isId(id)) return [];
    const rows = await sql<{ id: string; deal_id: string; from_stage_id: string | null; to_stage_id: string; actor_id: string | null; moved_at: Date | string }>(
      ctx.em,
      `select id::text as id, deal_id::text as deal_id, from_stage_id::text as from_stage_id, to_stage_id::text as to_stage_id, actor_id, moved_at
       from kokyaku.deal_stage_history where tenant_id = $1 and deal_id = $2::bigint order by deal_stage_history.id`,
      [ctx.tenantId, id],
    );
    return rows.map((r) => ({ id: r.id, dealId: r.deal_id, fromStageId: r.from_stage_id, toStageId: r.to_stage_id, actorId: r.actor_id, movedAt: asDate(r.moved_at) }));
  }

  /** Links the orders that fulfilled a deal (by the shop's order ids); linking again changes nothing. */
  async linkOrders(ctx: KokyakuContext, id: string, orderExternalIds: readonly string[]): Promise<DealRecord> {
    await transaction(ctx, async (em) => {
      const tx = { ...ctx, em };
      await requireRow(tx, 'deals', id, 'dealId');
      const orderIds: string[] = [];
      for (const [i, externalId] of orderExternalIds.entries()) orderIds.push(await requireOrder(tx, externalId, `orderExternalIds[${i}]`));
      await sql(em, `insert into kokyaku.deal_orders (tenant_id, deal_id, order_id) select $1, $2::bigint, unnest(kokyaku.json_bigints($3::jsonb)) on conflict do nothing`, [
        ctx.tenantId,
        id,
        JSON.stringify(orderIds),
      ]);
    });
    return (await this.get(ctx, id))!;
  }

  /** The ids of the orders linked to deals (by deal id). */
  async ordersOf(ctx: KokyakuContext, dealIds: readonly string[]): Promise<Map<string, string[]>> {
    const result = new Map<string, string[]>(dealIds.map((id) => [id, []]));
    const wanted = dealIds.filter(isId);
    if (wanted.length === 0) return result;
    const rows = await sql<{ deal_id: string; order_id: string }>(
      ctx.em,
      `select deal_id::text as deal_id, order_id::text as order_id from kokyaku.deal_orders where tenant_id = $1 and deal_id = any(kokyaku.json_bigints($2::jsonb)) order by order_id`,
      [ctx.tenantId, JSON.stringify(wanted)],
    );
    for (const r of rows) result.get(r.deal_id)?.push(r.order_id);
    return result;
  }

  async get(ctx: KokyakuContext, id: string): Promise<DealRecord | null> {
    return (await this.findByIds(ctx, [id])).get(id) ?? null;
  }

  async findByIds(ctx: KokyakuContext, ids: readonly string[]): Promise<Map<string, DealRecord>> {
    const wanted = ids.filter(isId);
    if (wanted.length === 0) return new Map();
    const rows = await sql<DealRow>(ctx.em, `select ${DEAL_COLUMNS} from ${DEAL_FROM} where d.tenant_id = $1 and d.id = any(kokyaku.json_bigints($2::jsonb))`, [
      ctx.tenantId,
      JSON.stringify(wanted),
    ]);
    return new Map(rows.map((r) => [r.id, mapDeal(r)]));
  }

  /** Deals, newest first, filtered by pipeline, stage, owner, customer, company or outcome (the board of a pipeline). */
  async list(
    ctx: KokyakuContext,
    args: PageArgs & {
      pipelineId?: string | null;
      stageId?: string | null;
      ownerId?: string | null;
      customerId?: string | null;
      companyId?: string | null;
      outcome?: StageOutcome | null;
    } = {},
  ): Promise<Page<DealRecord>> {
    const first = pageSize(args.first);
    const after = args.after ? (decodeCursor(args.after, 'd')[0] ?? '') : null;
    if (after !== null && !isId(after)) throw KokyakuError.invalidCursor(args.after ?? '');
    const rows = await sql<DealRow>(
      ctx.em,
      `select ${DEAL_COLUMNS} from ${DEAL_FROM}
       where d.tenant_id = $1 and ($2::bigint is null or d.pipeline_id = $2::bigint) and ($3::bigint is null or d.stage_id = $3::bigint)
         and ($4::text is null or d.owner_id = $4) and ($5::bigint is null or d.customer_id = $5::bigint) and ($6::bigint is null or d.company_id = $6::bigint)
         and ($7::text is null or st.outcome = $7) and ($8::bigint is null or d.id < $8::bigint)
       order by d.id desc limit $9`,
      [
        ctx.tenantId,
        idParam(args.pipelineId),
        idParam(args.stageId),
        args.ownerId ?? null,
        idParam(args.customerId),
        idParam(args.companyId),
        args.outcome ?? null,
        after,
        first + 1,
      ],
    );
    return keysetPage(rows, first, mapDeal, 'd', (d) => [d.id]);
  }

  /**
   * The weighted forecast: per period (month or quarter of the expected close date, in the shop
   * time zone) and owner, the open deals' amount and amount x stage probability, with what was
   * won in the period beside it. Periods are within [from, to).
   */
  async forecast(
    ctx: KokyakuContext,
    options: { from: string; to: string; period?: 'MONTH' | 'QUARTER'; pipelineId?: string | null; ownerId?: string | null },
  ): Promise<ForecastRow[]> {
    const range = parseInput(
      z.strictObject({
        from: dateText,
        to: dateText,
        period: z.enum(['MONTH', 'QUARTER']).optional(),
        pipelineId: z.string().nullable().optional(),
        ownerId: z.string().nullable().optional(),
      }),
      options,
      'forecast',
    );
    if (range.from >= range.to) throw KokyakuError.badInput('to: must be after from.', { field: 'to' });
    const unit = range.period === 'QUARTER' ? 'quarter' : 'month';
    const rows = await sql<{ period: string; owner_id: string | null; open_deals: number; open_minor: string; weighted_minor: string; won_deals: number; won_minor: string }>(
      ctx.em,
      `with open as (
         select date_trunc('${unit}', d.expected_close_date)::date as period, d.owner_id, count(*)::int as n, sum(d.amount_minor) as amount, sum(d.amount_minor * st.probability) as weighted
         from ${DEAL_FROM}
         where d.tenant_id = $1 and st.outcome = 'OPEN' and d.expected_close_date >= $2::date and d.expected_close_date < $3::date
           and ($4::bigint is null or d.pipeline_id = $4::bigint) and ($5::text is null or d.owner_id = $5)
         group by 1, 2
       ),
       won as (
         select date_trunc('${unit}', (d.closed_at at time zone $6))::date as period, d.owner_id, count(*)::int as n, sum(d.amount_minor) as amount
         from ${DEAL_FROM}
         where d.tenant_id = $1 and st.outcome = 'WON' and d.closed_at >= ($2::date::timestamp at time zone $6) and d.closed_at < ($3::date::timestamp at time zone $6)
           and ($4::bigint is null or d.pipeline_id = $4::bigint) and ($5::text is null or d.owner_id = $5)
         group by 1, 2
       )
       select to_char(coalesce(o.period, w.period), 'YYYY-MM-DD') as period, coalesce(o.owner_id, w.owner_id) as owner_id,
              coalesce(o.n, 0) as open_deals, coalesce(o.amount, 0)::text as open_minor, round(coalesce(o.weighted, 0))::text as weighted_minor,
              coalesce(w.n, 0) as won_deals, coalesce(w.amount, 0)::text as won_minor
       from open o full join won w on w.period = o.period and w.owner_id is not distinct from o.owner_id
       order by 1, 2 nulls last`,
      [ctx.tenantId, range.from, range.to, idParam(range.pipelineId), range.ownerId ?? null, ctx.shop.timeZone],
    );
    const money = (minor: string) => toMajorUnits(Number(minor), ctx.shop.currency);
    return rows.map((r) => ({
      period: r.period,
      ownerId: r.owner_id,
      openDeals: r.open_deals,
      openAmount: money(r.open_minor),
      weightedAmount: money(r.weighted_minor),
      wonDeals: r.won_deals,
      wonAmount: money(r.won_minor),
    }));
  }

  private minor(ctx: KokyakuContext, amount: number | null | undefined): number | null | undefined {
    if (amount == null) return amount;
    const minor = toMinorUnits(amount, ctx.shop.currency);
    if (minor === undefined) throw KokyakuError.badInput(`amount: ${amount} has more decimals than ${ctx.shop.currency} allows.`, { field: 'amount' });
    return minor;
  }

  private async stageOf(ctx: KokyakuContext, pipelineId: string, stageId: string): Promise<{ id: string; outcome: StageOutcome }> {
    const row = isId(stageId)
      ? await sqlOne<{ id: string; outcome: StageOutcome }>(
          ctx.em,
          `select id::text as id, outcome from kokyaku.pipeline_stages where tenant_id = $1 and pipeline_id = $2::bigint and id = $3::bigint`,
          [ctx.tenantId, pipelineId, stageId],
        )
      : undefined;
    if (!row) throw KokyakuError.badInput(`stageId: no stage ${JSON.stringify(stageId)} in pipeline ${pipelineId}.`, { field: 'stageId' });
    return row;
  }

  private async firstStage(ctx: KokyakuContext, pipelineId: string): Promise<{ id: string; outcome: StageOutcome }> {
    const row = await sqlOne<{ id: string; outcome: StageOutcome }>(
      ctx.em,
      `select id::text as id, outcome from kokyaku.pipeline_stages where tenant_id = $1 and pipeline_id = $2::bigint order by position limit 1`,
      [ctx.tenantId, pipelineId],
    );
    return row!;
  }
}
