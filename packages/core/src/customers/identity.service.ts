import type { HookDispatcher } from '../module/hooks.js';
import type { KokyakuContext } from '../shared/context.js';
import type { MetricsService } from '../metrics/metrics.service.js';
import type { AuditService } from '../audit/audit.service.js';
import { KokyakuError } from '../shared/errors.js';
import { sql, sqlOne, transaction } from '../shared/sql.js';

/** What makes two customers candidates for one person. */
export const DUPLICATE_RULES = ['EMAIL', 'PHONE', 'NAME_BIRTHDAY'] as const;
export type DuplicateRule = (typeof DUPLICATE_RULES)[number];

export interface DuplicateGroup {
  rule: DuplicateRule;
  /** The shared value's kind, never the value itself in logs: the email, phone or name + birthday. */
  value: string;
  /** Internal ids, oldest first (the oldest is the suggested survivor). */
  customerIds: string[];
}

/** The profile fields a merge combines (survivor's value, else the first other customer's). */
const PROFILE = ['email', 'phone', 'first_name', 'last_name', 'first_name_kana', 'last_name_kana', 'birthday', 'city', 'region', 'country'] as const;
const CAMEL: Record<(typeof PROFILE)[number], string> = {
  email: 'email',
  phone: 'phone',
  first_name: 'firstName',
  last_name: 'lastName',
  first_name_kana: 'firstNameKana',
  last_name_kana: 'lastNameKana',
  birthday: 'birthday',
  city: 'city',
  region: 'region',
  country: 'country',
};

export interface MergeFieldPreview {
  field: string;
  /** The value the survivor keeps or takes, and which customer it comes from. */
  value: unknown;
  fromCustomerId: string | null;
  /** Other values that are dropped. */
  dropped: unknown[];
}

export interface MergePreview {
  survivorId: string;
  mergedIds: string[];
  fields: MergeFieldPreview[];
  /** Shop ids that will name the survivor from now on. */
  aliases: string[];
  ordersMoved: number;
  eventsMoved: number;
}

interface ProfileRow {
  id: string;
  external_id: string;
  placeholder: boolean;
  erased_at: string | null;
  tags: string[];
  custom_fields: Record<string, unknown>;
  [column: string]: unknown;
}

/**
 * Identity resolution: the same person arrives as a guest checkout, an account, a LINE follower
 * and a store visitor. Finds duplicate candidates, previews a merge, and merges: orders, events,
 * consents and purchase history move to the survivor, the others' shop ids keep naming it, and
 * metrics, scores and segments are recomputed in the same transaction. Each merge is audited.
 */
export class IdentityService {
  constructor(
    private readonly metrics: MetricsService,
    private readonly hooks: HookDispatcher,
    private readonly audit: AuditService,
  ) {}

  /** Groups of customers sharing a normalised email or phone, or a full name and birthday. */
  async duplicates(ctx: KokyakuContext, options: { rules?: readonly DuplicateRule[]; first?: number } = {}): Promise<DuplicateGroup[]> {
    const rules = options.rules ?? DUPLICATE_RULES;
    const limit = Math.min(Math.max(options.first ?? 100, 1), 1000);
    const expressions: Record<DuplicateRule, string> = {
      EMAIL: 'email',
      PHONE: 'phone',
      NAME_BIRTHDAY: `case when last_name is not null and first_name is not null and birthday is not null
                      then kokyaku.search_name(first_name, last_name) || ' ' || birthday::text end`,
    };
    const groups: DuplicateGroup[] = [];
    for (const rule of rules) {
      if (!DUPLICATE_RULES.includes(rule)) throw KokyakuError.badInput(`Unknown rule "${rule}"; one of ${DUPLICATE_RULES.join(', ')}.`, { field: 'rules' });
      const rows = await sql<{ value: string; ids: string[] }>(
        ctx.em,
        `select v as value, array_agg(id::text order by id) as ids
         from (select id, ${expressions[rule]} as v from kokyaku.customers where tenant_id = $1 and erased_at is null) c
         where v is not null group by v having count(*) > 1 order by min(id) limit $2`,
        [ctx.tenantId, limit],
      );
      groups.push(...rows.map((r) => ({ rule, value: r.value, customerIds: r.ids })));
    }
    return groups.slice(0, limit);
  }

  private async load(ctx: KokyakuContext, survivorId: string, otherIds: readonly string[], lock: boolean): Promise<ProfileRow[]> {
    const ids = [survivorId, ...otherIds];
    if (otherIds.length === 0) throw KokyakuError.badInput('Name at least one customer to merge into the survivor.', { field: 'otherIds' });
    if (new Set(ids).size !== ids.length) throw KokyakuError.badInput('A customer cannot be merged with itself.', { field: 'otherIds' });
    if (ids.some((id) => !/^\d{1,18}$/.test(id))) throw KokyakuError.badInput('Customer ids are numbers.', { field: 'otherIds' });
    const rows = await sql<ProfileRow>(
      ctx.em,
      `select id::text as id, external_id, placeholder, erased_at, tags, custom_fields, ${PROFILE.map((c) => (c === 'birthday' ? "to_char(birthday, 'YYYY-MM-DD') as birthday" : c)).join(', ')}
       from kokyaku.customers where tenant_id = $1 and id = any(kokyaku.json_bigints($2::jsonb)) order by customers.id ${lock ? 'for update' : ''}`,
      [ctx.tenantId, JSON.stringify(ids)],
    );
    const byId = new Map(rows.map((r) => [r.id, r]));
    const unknown = ids.find((id) => !byId.has(id));
    if (unknown) throw KokyakuError.notFound('Customer', unknown);
    const erased = rows.find((r) => r.erased_at);
    if (erased) throw KokyakuError.badInput(`Customer ${erased.id} was erased and cannot be merged.`, { field: 'otherIds' });
    return ids.map((id) => byId.get(id)!);
  }

  private plan(rows: ProfileRow[]): MergeFieldPreview[] {
    const [survivor, ...others] = rows as [ProfileRow, ...ProfileRow[]];
    const fields: MergeFieldPreview[] = PROFILE.map((column) => {
      const source = [survivor, ...others].find((r) => r[column] != null) ?? null;
      const value = source ? source[column] : null;
      const dropped = [survivor, ...others].map((r) => r[column]).filter((v) => v != null && v !== value);
      return { field: CAMEL[column], value, fromCustomerId: source?.id ?? null, dropped: [...new Set(dropped)] };
    });
    const tags = [...new Set([survivor, ...others].flatMap((r) => r.tags))].sort();
    fields.push({ field: 'tags', value: tags, fromCustomerId: null, dropped: [] });
    const customFields = Object.assign({}, ...[...others].reverse().map((r) => r.custom_fields), survivor.custom_fields) as Record<string, unknown>;
    fields.push({ field: 'customFields', value: customFields, fromCustomerId: null, dropped: [] });
    return fields;
  }

  /** What a merge would do, changing nothing. The first id survives. */
  async preview(ctx: KokyakuContext, survivorId: string, otherIds: readonly string[]): Promise<MergePreview> {
    return this.previewOf(ctx, await this.load(ctx, survivorId, otherIds, false));
  }

  /** The preview of merging `rows` (survivor first). */
  private async previewOf(ctx: KokyakuContext, rows: ProfileRow[]): Promise<MergePreview> {
    const otherIds = rows.slice(1).map((r) => r.id);
    const moved = await sqlOne<{ orders: number; events: number; aliases: string[] }>(
      ctx.em,
      `select (select count(*)::int from kokyaku.orders where tenant_id = $1 and customer_id = any(kokyaku.json_bigints($2::jsonb))) as orders,
              (select count(*)::int from kokyaku.events where tenant_id = $1 and customer_id = any(kokyaku.json_bigints($2::jsonb))) as events,
              (select coalesce(array_agg(external_id order by external_id), '{}') from kokyaku.customer_aliases where tenant_id = $1 and customer_id = any(kokyaku.json_bigints($2::jsonb))) as aliases`,
      [ctx.tenantId, JSON.stringify(otherIds)],
    );
    return {
      survivorId: rows[0]!.id,
      mergedIds: otherIds,
      fields: this.plan(rows),
      aliases: [...rows.slice(1).map((r) => r.external_id), ...moved!.aliases].sort(),
      ordersMoved: moved!.orders,
      eventsMoved: moved!.events,
    };
  }

  /**
   * Merges `otherIds` into `survivorId`: the survivor keeps its values and takes the others' where
   * it has none (tags united, custom fields combined), their orders, events, consents and purchase
   * history move to it, their rows go, and their shop ids become aliases of the survivor.
   */
  async merge(ctx: KokyakuContext, survivorId: string, otherIds: readonly string[], options: { requestId?: string | null } = {}): Promise<MergePreview> {
    return transaction(ctx, async (em) => {
      const tx: KokyakuContext = { ...ctx, em };
      // Locked first: what the preview shows is what the merge does.
      const rows = await this.load(tx, survivorId, otherIds, true);
      const preview = await this.previewOf(tx, rows);
      const value = (field: string) => preview.fields.find((f) => f.field === field)!.value;
      // The others' shop ids are freed first: the survivor may take one of their values.
      const others = [ctx.tenantId, JSON.stringify(otherIds)];
      // Each merged-away shop id keeps its address: mail to it still belongs to the survivor.
      const addresses = await sql<{ external_id: string; email: string }>(
        em,
        `select external_id, email from kokyaku.customer_aliases where tenant_id = $1 and customer_id = any(kokyaku.json_bigints($2::jsonb)) and email is not null
         union all
         select external_id, email from kokyaku.customers where tenant_id = $1 and id = any(kokyaku.json_bigints($2::jsonb)) and email is not null`,
        others,
      );
      await sql(em, `delete from kokyaku.customer_aliases where tenant_id = $1 and customer_id = any(kokyaku.json_bigints($2::jsonb))`, others);
      await sql(
        em,
        `insert into kokyaku.customer_aliases (tenant_id, external_id, customer_id, email)
         select $1, a, $2::bigint, $4::jsonb ->> a from unnest(kokyaku.json_texts($3::jsonb)) as a
         on conflict (tenant_id, external_id) do update set customer_id = excluded.customer_id, merged_at = now(),
           email = coalesce(excluded.email, kokyaku.customer_aliases.email)`,
        [ctx.tenantId, survivorId, JSON.stringify(preview.aliases), JSON.stringify(Object.fromEntries(addresses.map((a) => [a.external_id, a.email])))],
      );
      // Every module moves (or adds up) its rows before the merged-away customers go.
      await this.hooks.customerMerged(tx, survivorId, otherIds);
      await sql(em, `delete from kokyaku.customers where tenant_id = $1 and id = any(kokyaku.json_bigints($2::jsonb))`, others);
      await sql(
        em,
        `update kokyaku.customers set
           ${PROFILE.map((c, i) => `${c} = $${i + 3}${c === 'birthday' ? '::date' : ''}`).join(', ')},
           tags = kokyaku.json_texts($${PROFILE.length + 3}::jsonb), custom_fields = $${PROFILE.length + 4}::jsonb,
           placeholder = placeholder and $${PROFILE.length + 5}, updated_at = now()
         where tenant_id = $1 and id = $2::bigint`,
        [ctx.tenantId, survivorId, ...PROFILE.map((c) => value(CAMEL[c])), JSON.stringify(value('tags')), JSON.stringify(value('customFields')), rows.every((r) => r.placeholder)],
      );
      await this.metrics.recomputeForCustomers(tx, [survivorId]);
      await this.metrics.syncProfiles(tx, [survivorId]);
      await this.hooks.customersChanged(tx, [survivorId]);
      await this.audit.record(tx, [
        { action: 'MERGE', customerId: survivorId, requestId: options.requestId, detail: { merged: [...otherIds], orders: preview.ordersMoved, events: preview.eventsMoved } },
      ]);
      return preview;
    });
  }
}
