import { z } from 'zod';
import type { KokyakuContext } from '../shared/context.js';
import { type CompiledSegment, segmentFrom } from '../segments/compiler.js';
import type { SegmentService } from '../segments/segment.service.js';
import { KokyakuError } from '../shared/errors.js';
import { asDate, sql, sqlOne } from '../shared/sql.js';
import { isId, parseInput, unique } from './shared.js';

export const SCORE_ACTIVITIES = ['EVENT', 'ORDER', 'INQUIRY'] as const;
export type ScoreActivity = (typeof SCORE_ACTIVITIES)[number];
export const SCORE_BANDS = ['HOT', 'WARM', 'COLD'] as const;
export type ScoreBand = (typeof SCORE_BANDS)[number];

/**
 * A scoring rule adds its points once while it holds.
 *
 * - With an `activity`, it holds when the customer has at least `minCount` of them (events of
 *   `eventType`, placed orders, or inquiries opened) within the last `withinDays` days (or ever).
 *   With `halfLifeDays`, its points fade from the latest of them: half after one half-life.
 * - With a `condition` (segment language, e.g. `email_subscription_status = SUBSCRIBED` or
 *   `custom.industry = 'retail'`), the customer must also match it. A rule may have only a
 *   condition: a profile fact, worth its points while it is true.
 */
export interface ScoringRuleInput {
  name: string;
  /** May be negative (an unsubscribe, a complaint). */
  points: number;
  activity?: ScoreActivity | null;
  eventType?: string | null;
  minCount?: number | null;
  withinDays?: number | null;
  halfLifeDays?: number | null;
  condition?: string | null;
}

export interface ScoringRule {
  id: string;
  name: string;
  points: number;
  activity: ScoreActivity | null;
  eventType: string | null;
  minCount: number;
  withinDays: number | null;
  halfLifeDays: number | null;
  condition: string | null;
  createdAt: Date;
  updatedAt: Date;
  /** The plugin that adds this rule to every shop (null: the shop's own rule). Plugin rules have negative ids and cannot be changed. */
  plugin: string | null;
}

/** A customer is HOT from `hot` points, WARM from `warm`, else COLD. */
export interface ScoringBands {
  hot: number;
  warm: number;
}

export const DEFAULT_BANDS: ScoringBands = { hot: 50, warm: 20 };

export interface LeadScore {
  customerId: string;
  score: number;
  band: ScoreBand;
  /** When the score last changed (scores fade between computations: `refresh` recomputes them all). */
  computedAt: Date | null;
}

export interface ScoreContribution {
  ruleId: string;
  ruleName: string;
  points: number;
}

const ruleFields = {
  name: z.string({ error: 'Required: a name.' }).trim().min(1, 'Must not be empty.').max(200),
  points: z
    .number({ error: 'Required: the points (a number, may be negative).' })
    .finite()
    .min(-10_000, 'At least -10,000.')
    .max(10_000, 'At most 10,000.')
    .refine((n) => n !== 0, 'Must not be 0.'),
  activity: z
    .enum(SCORE_ACTIVITIES, { error: `One of ${SCORE_ACTIVITIES.join(', ')}.` })
    .nullable()
    .optional(),
  eventType: z.string().trim().min(1).max(200).nullable().optional(),
  minCount: z.number({ error: 'Must be a whole number.' }).int('Must be a whole number.').min(1, 'At least 1.').max(10_000).nullable().optional(),
  withinDays: z.number({ error: 'Must be a whole number of days.' }).int('Must be a whole number of days.').min(1, 'At least 1.').max(36_500).nullable().optional(),
  halfLifeDays: z.number({ error: 'Must be a number of days.' }).positive('Must be more than 0.').max(36_500).nullable().optional(),
  condition: z.string().trim().min(1).max(10_000).nullable().optional(),
};
const ruleSchema = z.strictObject(ruleFields).superRefine((r, ctx) => {
  if (r.activity === 'EVENT' && !r.eventType) ctx.addIssue({ code: 'custom', path: ['eventType'], message: 'An EVENT rule names the event type, e.g. product_viewed.' });
  if (r.activity !== 'EVENT' && r.eventType) ctx.addIssue({ code: 'custom', path: ['eventType'], message: 'eventType applies to EVENT rules.' });
  if (!r.activity) {
    for (const key of ['minCount', 'withinDays', 'halfLifeDays'] as const) {
      if (r[key] != null) ctx.addIssue({ code: 'custom', path: [key], message: `${key} applies to rules with an activity.` });
    }
    if (!r.condition) ctx.addIssue({ code: 'custom', path: ['condition'], message: 'A rule needs an activity, a condition, or both.' });
  }
});

interface RuleRow {
  id: string;
  name: string;
  points: number;
  activity: ScoreActivity | null;
  event_type: string | null;
  min_count: number;
  within_days: number | null;
  half_life_days: number | null;
  condition: string | null;
  created_at: Date | string;
  updated_at: Date | string;
}
const COLUMNS = `id::text as id, name, points, activity, event_type, min_count, within_days, half_life_days, condition, created_at, updated_at`;
const mapRule = (r: RuleRow): ScoringRule => ({
  id: r.id,
  name: r.name,
  points: r.points,
  activity: r.activity,
  eventType: r.event_type,
  minCount: r.min_count,
  withinDays: r.within_days,
  halfLifeDays: r.half_life_days,
  condition: r.condition,
  createdAt: asDate(r.created_at),
  updatedAt: asDate(r.updated_at),
  plugin: null,
});

const ACTIVITY_SOURCES: Record<ScoreActivity, { table: string; at: string; where: string }> = {
  EVENT: { table: 'kokyaku.events a', at: 'a.occurred_at', where: 'a.customer_id is not null' },
  ORDER: { table: 'kokyaku.orders a', at: 'a.placed_at', where: `a.status = 'PLACED'` },
  INQUIRY: { table: 'kokyaku.inquiries a', at: 'a.opened_at', where: 'true' },
};

/**
 * Lead scoring: rules over behaviour and profile facts give each customer a score with a band
 * (HOT, WARM, COLD), readable in the segment language as `score` and `score_band`. Scores are
 * recomputed for the customers of every ingestion batch and inquiry, and for everyone at
 * `refresh` (which is when fading points fade).
 */
/** A rule a plugin adds to every shop, as the scoring service runs it: a fixed negative id, the plugin named. */
export interface PluginRule extends ScoringRuleInput {
  id: string;
  plugin: string;
}

export class ScoringService {
  /** Rules plugins add to every shop, checked once at start-up. */
  private readonly pluginRules: ScoringRule[];

  constructor(
    private readonly segments: SegmentService,
    plugins: { readonly scoringRules: readonly PluginRule[] } = { scoringRules: [] },
  ) {
    this.pluginRules = plugins.scoringRules.map((rule) => {
      const r = parseInput(
        ruleSchema,
        {
          name: rule.name,
          points: rule.points,
          activity: rule.activity,
          eventType: rule.eventType,
          minCount: rule.minCount,
          withinDays: rule.withinDays,
          halfLifeDays: rule.halfLifeDays,
          condition: rule.condition,
        },
        `scoring rule "${rule.name}"`,
      );
      return {
        id: rule.id,
        name: r.name,
        points: r.points,
        activity: r.activity ?? null,
        eventType: r.eventType ?? null,
        minCount: r.minCount ?? 1,
        withinDays: r.withinDays ?? null,
        halfLifeDays: r.halfLifeDays ?? null,
        condition: r.condition ?? null,
        createdAt: new Date(0),
        updatedAt: new Date(0),
        plugin: rule.plugin,
      };
    });
  }

  async createRule(ctx: KokyakuContext, input: ScoringRuleInput): Promise<ScoringRule> {
    const r = await this.check(ctx, input);
    const [row] = await unique(
      () =>
        sql<RuleRow>(
          ctx.em,
          `insert into kokyaku.scoring_rules (tenant_id, name, points, activity, event_type, min_count, within_days, half_life_days, condition)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning ${COLUMNS}`,
          [ctx.tenantId, r.name, r.points, r.activity ?? null, r.eventType ?? null, r.minCount ?? 1, r.withinDays ?? null, r.halfLifeDays ?? null, r.condition ?? null],
        ),
      'name',
      `a scoring rule named ${JSON.stringify(r.name)} exists already.`,
    );
    await this.rescoreAll(ctx);
    return mapRule(row!);
  }

  /** Rules of plugins are part of the plugin: changing one is a mistake worth naming. */
  private refusePluginRule(id: string): void {
    const rule = this.pluginRules.find((r) => r.id === id);
    if (rule)
      throw KokyakuError.badInput(`id: rule ${id} ("${rule.name}") comes with the plugin ${rule.plugin} and cannot be changed; add a rule of your own instead.`, { field: 'id' });
  }

  async updateRule(ctx: KokyakuContext, id: string, input: ScoringRuleInput): Promise<ScoringRule> {
    this.refusePluginRule(id);
    const r = await this.check(ctx, input);
    const [row] = await unique(
      () =>
        sql<RuleRow>(
          ctx.em,
          `update kokyaku.scoring_rules set name = $3, points = $4, activity = $5, event_type = $6, min_count = $7, within_days = $8, half_life_days = $9, condition = $10, updated_at = now()
           where tenant_id = $1 and id = $2::bigint returning ${COLUMNS}`,
          [
            ctx.tenantId,
            isId(id) ? id : '0',
            r.name,
            r.points,
            r.activity ?? null,
            r.eventType ?? null,
            r.minCount ?? 1,
            r.withinDays ?? null,
            r.halfLifeDays ?? null,
            r.condition ?? null,
          ],
        ),
      'name',
      `a scoring rule named ${JSON.stringify(r.name)} exists already.`,
    );
    if (!row) throw KokyakuError.notFound('Scoring rule', id);
    await this.rescoreAll(ctx);
    return mapRule(row);
  }

  async deleteRule(ctx: KokyakuContext, id: string): Promise<boolean> {
    this.refusePluginRule(id);
    if (!isId(id)) return false;
    const rows = await sql(ctx.em, `delete from kokyaku.scoring_rules where tenant_id = $1 and id = $2::bigint returning id`, [ctx.tenantId, id]);
    if (rows.length > 0) await this.rescoreAll(ctx);
    return rows.length > 0;
  }

  /** The shop's rules, then those of plugins. */
  async rules(ctx: KokyakuContext): Promise<ScoringRule[]> {
    return [
      ...(await sql<RuleRow>(ctx.em, `select ${COLUMNS} from kokyaku.scoring_rules where tenant_id = $1 order by scoring_rules.id`, [ctx.tenantId])).map(mapRule),
      ...this.pluginRules,
    ];
  }

  /** The rules and the bands in one statement (what every rescore needs). */
  private async settings(ctx: KokyakuContext): Promise<{ rules: ScoringRule[]; bands: ScoringBands }> {
    const row = await sqlOne<{ rules: RuleRow[]; hot: number | null; warm: number | null }>(
      ctx.em,
      `select coalesce((select jsonb_agg(r order by r.id::bigint) from (select ${COLUMNS} from kokyaku.scoring_rules where tenant_id = $1) r), '[]') as rules,
              s.hot, s.warm
       from (select 1) one left join kokyaku.scoring_settings s on s.tenant_id = $1`,
      [ctx.tenantId],
    );
    return {
      rules: [...(row?.rules ?? []).map(mapRule), ...this.pluginRules],
      bands: row?.hot != null && row.warm != null ? { hot: row.hot, warm: row.warm } : { ...DEFAULT_BANDS },
    };
  }

  async bands(ctx: KokyakuContext): Promise<ScoringBands> {
    return (await this.settings(ctx)).bands;
  }

  async setBands(ctx: KokyakuContext, bands: ScoringBands): Promise<ScoringBands> {
    const b = parseInput(
      z.strictObject({ hot: z.number().finite(), warm: z.number().finite() }).refine((x) => x.hot > x.warm, { message: 'hot must be above warm.', path: ['hot'] }),
      bands,
      'bands',
    );
    await sql(
      ctx.em,
      `insert into kokyaku.scoring_settings (tenant_id, hot, warm) values ($1, $2, $3) on conflict (tenant_id) do update set hot = excluded.hot, warm = excluded.warm, updated_at = now()`,
      [ctx.tenantId, b.hot, b.warm],
    );
    await sql(ctx.em, `update kokyaku.lead_scores set band = case when score >= $2 then 'HOT' when score >= $3 then 'WARM' else 'COLD' end where tenant_id = $1`, [
      ctx.tenantId,
      b.hot,
      b.warm,
    ]);
    await this.segments.reevaluate(ctx, null, { onlyReadingActivity: true });
    return b;
  }

  /** Scores by customer id; customers no rule scores have 0 (COLD). */
  async scores(ctx: KokyakuContext, customerIds: readonly string[]): Promise<Map<string, LeadScore>> {
    const result = new Map<string, LeadScore>(customerIds.map((id) => [id, { customerId: id, score: 0, band: 'COLD', computedAt: null }]));
    const wanted = customerIds.filter(isId);
    if (wanted.length === 0) return result;
    const rows = await sql<{ customer_id: string; score: number; band: ScoreBand; computed_at: Date | string }>(
      ctx.em,
      `select customer_id::text as customer_id, score, band, computed_at from kokyaku.lead_scores where tenant_id = $1 and customer_id = any(kokyaku.json_bigints($2::jsonb))`,
      [ctx.tenantId, JSON.stringify(wanted)],
    );
    for (const r of rows) result.set(r.customer_id, { customerId: r.customer_id, score: r.score, band: r.band, computedAt: asDate(r.computed_at) });
    return result;
  }

  /** Which rules give a customer how many points now (what `score` sums). */
  async explain(ctx: KokyakuContext, customerId: string, options: { now?: Date } = {}): Promise<ScoreContribution[]> {
    if (!isId(customerId)) return [];
    const rules = await this.rules(ctx);
    if (rules.length === 0) return [];
    const query = await this.contributions(ctx, rules, [customerId], options.now ?? new Date());
    // $2 (now) is named here too: rules of conditions alone never read it, and PostgreSQL must know its type.
    const rows = await sql<{ rule_id: string; points: number }>(
      ctx.em,
      `${query.sql} select rule_id::text as rule_id, round(points::numeric, 2)::float8 as points from contributions where $2::timestamptz is not null order by rule_id::bigint`,
      query.params,
    );
    const names = new Map(rules.map((r) => [r.id, r.name]));
    return rows.map((r) => ({ ruleId: r.rule_id, ruleName: names.get(r.rule_id) ?? '', points: r.points }));
  }

  /**
   * Recomputes the scores of some customers (null: everyone) as of `now`. Returns how many scores
   * changed. Does nothing when the shop has no rules (and clears scores left by deleted ones).
   */
  async score(ctx: KokyakuContext, customerIds: readonly string[] | null, options: { now?: Date } = {}): Promise<number> {
    if (customerIds && customerIds.length === 0) return 0;
    return this.scoreWith(ctx, await this.settings(ctx), customerIds, options.now ?? new Date());
  }

  /**
   * After a batch of events: only what events can change. With no rule counting one of the
   * batch's event types and no rule condition reading events, nothing; otherwise the customers
   * who had events of a counted type (everyone in the batch when a condition reads events).
   */
  async scoreAfterEvents(ctx: KokyakuContext, customerIds: readonly string[], types: ReadonlyMap<string, ReadonlySet<string>>): Promise<number> {
    if (customerIds.length === 0) return 0;
    const settings = await this.settings(ctx);
    if (settings.rules.length === 0) return 0;
    const counted = new Set(settings.rules.flatMap((r) => (r.activity === 'EVENT' && r.eventType ? [r.eventType] : [])));
    let readsEvents = false;
    for (const rule of settings.rules) {
      if (!rule.condition) continue;
      try {
        readsEvents ||= (await this.segments.compile(ctx, rule.condition)).activity;
      } catch {
        // A condition that no longer compiles scores nothing.
      }
    }
    const affected = readsEvents ? customerIds : customerIds.filter((id) => [...(types.get(id) ?? [])].some((t) => counted.has(t)));
    if (affected.length === 0) return 0;
    return this.scoreWith(ctx, settings, affected, new Date());
  }

  private async scoreWith(ctx: KokyakuContext, { rules, bands }: { rules: ScoringRule[]; bands: ScoringBands }, customerIds: readonly string[] | null, now: Date): Promise<number> {
    if (rules.length === 0) {
      // Without rules there are no scores, except those the last rule's deletion clears (everyone).
      if (customerIds === null) await sql(ctx.em, `delete from kokyaku.lead_scores where tenant_id = $1`, [ctx.tenantId]);
      return 0;
    }
    const query = await this.contributions(ctx, rules, customerIds, now, [bands.hot, bands.warm]);
    // A score written again unchanged is not written: most customers' scores stay put between
    // batches, and a row rewritten is a row to vacuum.
    const [row] = await sql<{ n: number }>(
      ctx.em,
      `${query.sql},
       totals as (select customer_id, round(sum(points)::numeric, 2)::float8 as score from contributions group by customer_id),
       written as (
         insert into kokyaku.lead_scores as l (customer_id, tenant_id, score, band, computed_at)
         select customer_id, $1, score, case when score >= $4::float8 then 'HOT' when score >= $5::float8 then 'WARM' else 'COLD' end, $2 from totals
         on conflict (customer_id, tenant_id) do update set score = excluded.score, band = excluded.band, computed_at = excluded.computed_at
           where l.score is distinct from excluded.score or l.band is distinct from excluded.band
         returning 1
       ),
       removed as (
         delete from kokyaku.lead_scores l where l.tenant_id = $1 and ($3::jsonb is null or l.customer_id = any(kokyaku.json_bigints($3::jsonb)))
           and l.customer_id not in (select customer_id from totals)
         returning 1
       )
       select (select count(*) from written)::int + (select count(*) from removed)::int as n`,
      query.params,
    );
    return row?.n ?? 0;
  }

  private async rescoreAll(ctx: KokyakuContext): Promise<void> {
    await this.score(ctx, null);
    await this.segments.reevaluate(ctx, null, { onlyReadingActivity: true });
  }

  private async check(ctx: KokyakuContext, input: ScoringRuleInput): Promise<z.output<typeof ruleSchema>> {
    const r = parseInput(ruleSchema, input, 'scoring rule');
    if (r.condition) {
      try {
        const compiled = await this.segments.compile(ctx, r.condition);
        if (compiled.modules.includes('scoring')) throw KokyakuError.badInput('condition: a scoring rule cannot read score or score_band.', { field: 'condition' });
      } catch (error) {
        if (error instanceof KokyakuError && error.code === 'SEGMENT_QUERY_INVALID') {
          throw KokyakuError.badInput(`condition: ${error.message}`, { field: 'condition', ...error.details });
        }
        throw error;
      }
    }
    return r;
  }

  /**
   * `with contributions as (customer_id, rule_id, points) ...`: one branch per rule. $1 tenant,
   * $2 now, $3 the customers in scope (JSON, or null for all), $4.. (extra) then each rule's values.
   */
  private async contributions(
    ctx: KokyakuContext,
    rules: ScoringRule[],
    customerIds: readonly string[] | null,
    now: Date,
    extra: unknown[] = [],
  ): Promise<{ sql: string; params: unknown[] }> {
    const params: unknown[] = [ctx.tenantId, now, customerIds ? JSON.stringify(customerIds) : null, ...extra];
    const p = (value: unknown, cast: string) => {
      params.push(value);
      return `$${params.length}::${cast}`;
    };
    const inScope = (column: string) => `($3::jsonb is null or ${column} = any(kokyaku.json_bigints($3::jsonb)))`;
    const branches: string[] = [];
    for (const rule of rules) {
      let compiled: CompiledSegment | null = null;
      if (rule.condition) {
        try {
          compiled = await this.segments.compile(ctx, rule.condition, { firstParam: params.length + 1, scope: inScope, now });
        } catch {
          // A rule whose condition no longer compiles (a custom field removed) scores nothing until fixed.
          continue;
        }
        params.push(...compiled.params);
      }
      const ruleId = p(rule.id, 'bigint');
      const points = p(rule.points, 'float8');
      const condition = compiled ? ` and ${compiled.where}` : '';
      if (!rule.activity) {
        branches.push(
          `select f.customer_id, ${ruleId} as rule_id, ${points} as points from ${segmentFrom(compiled!)} where f.tenant_id = $1 and ${inScope('f.customer_id')}${condition}`,
        );
        continue;
      }
      const source = ACTIVITY_SOURCES[rule.activity];
      const typeFilter = rule.activity === 'EVENT' ? ` and a.type = ${p(rule.eventType, 'text')}` : '';
      const window = rule.withinDays ? ` and ${source.at} > $2::timestamptz - make_interval(days => ${p(rule.withinDays, 'int')})` : '';
      const decay = rule.halfLifeDays ? `power(0.5, greatest(0, extract(epoch from ($2::timestamptz - x.latest))) / 86400.0 / ${p(rule.halfLifeDays, 'float8')})` : '1';
      const activity = `select a.customer_id, max(${source.at}) as latest from ${source.table}
         where a.tenant_id = $1 and ${source.where}${typeFilter} and ${source.at} <= $2::timestamptz${window} and ${inScope('a.customer_id')}
         group by a.customer_id having count(*) >= ${p(rule.minCount, 'int')}`;
      const joined = compiled ? `(${activity}) x join ${segmentFrom(compiled)} on f.customer_id = x.customer_id where f.tenant_id = $1${condition}` : `(${activity}) x`;
      branches.push(`select x.customer_id, ${ruleId} as rule_id, (${points} * ${decay}) as points from ${joined}`);
    }
    const body = branches.length ? branches.join('\nunion all\n') : `select null::bigint as customer_id, null::bigint as rule_id, null::float8 as points where false`;
    return { sql: `with contributions as (${body})`, params };
  }
}
