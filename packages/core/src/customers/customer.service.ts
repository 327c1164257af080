import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/min';
import { z } from 'zod';
import type { KokyakuContext } from '../shared/context.js';
import { type BatchItemError, type BatchResult, emptyResult, lastPerKey, validateBatch } from '../ingestion/batch.js';
import { HookDispatcher } from '../module/hooks.js';
import { buildUpsertSql, textArrayFrom } from '../ingestion/upsert.js';
import type { RfmGroup } from '../shared/rfm.js';
import type { MetricsService } from '../metrics/metrics.service.js';
import { KokyakuError } from '../shared/errors.js';
import { decodeCursor, type Page, pageSize, type PageArgs, keysetPage } from '../shared/pagination.js';
import { asDate, prepared, sql, sqlOne, transaction } from '../shared/sql.js';
import type { AuditService } from '../audit/audit.service.js';
import { CUSTOMER_ALIASES, CUSTOMER_COLUMNS, CUSTOMER_FROM, type CustomerRow, mapCustomer } from './customer-record.js';
import { type CustomerSearchHit, type CustomerSearchOptions, searchCustomers } from './customer-search.js';
import { type CustomFieldDefinition, checkCustomFields, loadDefinitions } from '../fields/custom-fields.js';
import { externalIdSchema, instantSchema, isCalendarDate, jsonObject, labelList, optionalText, safeString } from '../shared/validation.js';

export interface CustomerInput {
  externalId: string;
  email?: string | null;
  /** Any common format; stored as E.164, read with the shop's default country when it has no +code. */
  phone?: string | null;
  firstName?: string | null;
  lastName?: string | null;
  /** Reading of the given name in kana (フリガナ), for search by name as spoken. */
  firstNameKana?: string | null;
  /** Reading of the family name in kana. */
  lastNameKana?: string | null;
  /** YYYY-MM-DD */
  birthday?: string | null;
  city?: string | null;
  region?: string | null;
  country?: string | null;
  tags?: string[] | null;
  /** Merged into the stored custom fields; a key set to null is removed; null clears them all. */
  customFields?: Record<string, unknown> | null;
  emailConsent?: boolean | null;
  /** The customer's LINE user id (from LINE Login or the shop's official account), for LINE messages. */
  lineUserId?: string | null;
  /** The channel the customer prefers messages on; journeys sending to PREFERRED try it first. */
  preferredChannel?: 'EMAIL' | 'LINE' | 'SMS' | null;
  /** When the customer joined the shop; default: when Kokyaku first hears of them. */
  createdAt?: Date | string | null;
}

/** The fields of a customer input that hold personal data. */
export const PERSONAL_INPUT_FIELDS = ['email', 'phone', 'firstName', 'lastName', 'firstNameKana', 'lastNameKana', 'birthday', 'city', 'region', 'country', 'lineUserId'] as const;

export interface CustomerMetricsRecord {
  ordersCount: number;
  totalSpent: number;
  totalSpentMinor: number;
  averageOrderValue: number;
  averageOrderValueMinor: number;
  firstOrderAt: Date | null;
  lastOrderAt: Date | null;
  /** Days from the first to the last order / (orders - 1); null below two orders. */
  averageDaysBetweenOrders: number | null;
  /** Two or more placed orders. */
  isRepeatCustomer: boolean;
  /** RFM scores 1-5 (null without orders) and group (PROSPECTS without orders). */
  rfm: { recency: number | null; frequency: number | null; monetary: number | null; group: RfmGroup };
  /** Spend decile 1-10 over everyone who ordered (1 = top 10%); null without orders. */
  decile: number | null;
  /** Predicted spend over the CLV horizon (null until a model is fitted for the shop). */
  predictedClv: number | null;
  /** 1 - probabilityAlive. */
  churnRisk: number | null;
  probabilityAlive: number | null;
  /** Expected purchases over the CLV horizon. */
  expectedPurchases: number | null;
  currency: string;
}

export interface CustomerRecord {
  id: string;
  externalId: string;
  email: string | null;
  phone: string | null;
  firstName: string | null;
  lastName: string | null;
  firstNameKana: string | null;
  lastNameKana: string | null;
  birthday: string | null;
  city: string | null;
  region: string | null;
  country: string | null;
  tags: string[];
  customFields: Record<string, unknown>;
  emailConsent: boolean;
  lineUserId: string | null;
  preferredChannel: 'EMAIL' | 'LINE' | 'SMS' | null;
  /** True while only orders or events have named this customer. */
  placeholder: boolean;
  createdAt: Date;
  updatedAt: Date;
  /** Set once a privacy request erased the customer: every personal field is empty. */
  erasedAt: Date | null;
  /** Set while the customer objects to marketing: no marketing message goes to them. */
  marketingObjectionAt: Date | null;
  metrics: CustomerMetricsRecord;
}

function customerSchema(defaultCountry: string, definitions: ReadonlyMap<string, CustomFieldDefinition> = new Map()) {
  return z.strictObject({
    externalId: externalIdSchema,
    email: safeString('Must be a string or null.')
      .trim()
      .max(254, 'At most 254 characters (RFC 5321).')
      .toLowerCase()
      .pipe(z.email({ error: 'Must be an email address, e.g. hanako@example.com.' }))
      .nullable()
      .optional(),
    phone: safeString('Must be a string or null.')
      .trim()
      .max(50, 'At most 50 characters.')
      .transform((raw, ctx) => {
        if (raw === '') return null;
        const parsed = parsePhoneNumberFromString(raw, defaultCountry as CountryCode);
        if (!parsed || !parsed.isPossible()) {
          ctx.addIssue({ code: 'custom', message: `Not a phone number that can be read (with default country ${defaultCountry}).` });
          return z.NEVER;
        }
        return parsed.number as string;
      })
      .nullable()
      .optional(),
    firstName: optionalText(200),
    lastName: optionalText(200),
    firstNameKana: optionalText(200),
    lastNameKana: optionalText(200),
    birthday: z
      .string({ error: 'Must be a date written YYYY-MM-DD, or null.' })
      .regex(/^\d{4}-\d{2}-\d{2}$/, 'Must be a date written YYYY-MM-DD.')
      .refine(isCalendarDate, 'Is not a calendar date.')
      .refine((d) => d >= '1900-01-01' && d <= new Date().toISOString().slice(0, 10), 'Must be between 1900-01-01 and today.')
      .nullable()
      .optional(),
    city: optionalText(200),
    region: optionalText(200),
    country: optionalText(100).transform((v) => (typeof v === 'string' && /^[a-z]{2}$/i.test(v) ? v.toUpperCase() : v)),
    tags: labelList
      .nullable()
      .optional()
      .transform((v) => (v === null ? [] : v)),
    customFields: jsonObject
      .nullable()
      .optional()
      .transform((values, zctx) => {
        if (!values || definitions.size === 0) return values;
        // Defined fields are checked and normalised; keys without a definition pass as they are.
        const checked = checkCustomFields(values, definitions, { creating: false });
        for (const problem of checked.problems) zctx.addIssue({ code: 'custom', path: [problem.key], message: problem.message });
        return checked.values;
      }),
    emailConsent: z
      .boolean({ error: 'Must be true or false.' })
      .nullable()
      .optional()
      .transform((v) => (v === null ? false : v)),
    lineUserId: z
      .string({ error: 'Must be text.' })
      .trim()
      .regex(/^U[0-9a-f]{32}$/, 'A LINE user id is "U" followed by 32 hexadecimal digits.')
      .nullable()
      .optional(),
    preferredChannel: z.enum(['EMAIL', 'LINE', 'SMS'], { error: 'One of EMAIL, LINE, SMS.' }).nullable().optional(),
    createdAt: instantSchema
      .refine((d) => d.getTime() <= Date.now() + 60_000, 'Must not be in the future.')
      .transform((d) => d.toISOString())
      .nullable()
      .optional(),
  });
}

const UPSERT_CUSTOMERS = buildUpsertSql({
  table: 'kokyaku.customers',
  fields: [
    { key: 'email', column: 'email', value: `i.doc->>'email'` },
    { key: 'phone', column: 'phone', value: `i.doc->>'phone'` },
    { key: 'firstName', column: 'first_name', value: `i.doc->>'firstName'` },
    { key: 'lastName', column: 'last_name', value: `i.doc->>'lastName'` },
    { key: 'firstNameKana', column: 'first_name_kana', value: `i.doc->>'firstNameKana'` },
    { key: 'lastNameKana', column: 'last_name_kana', value: `i.doc->>'lastNameKana'` },
    { key: 'birthday', column: 'birthday', value: `(i.doc->>'birthday')::date` },
    { key: 'city', column: 'city', value: `i.doc->>'city'` },
    { key: 'region', column: 'region', value: `i.doc->>'region'` },
    { key: 'country', column: 'country', value: `i.doc->>'country'` },
    { key: 'tags', column: 'tags', value: textArrayFrom('tags'), insertDefault: `'{}'` },
    {
      key: 'customFields',
      column: 'custom_fields',
      value: `case jsonb_typeof(i.doc->'customFields')
                when 'object' then jsonb_strip_nulls(coalesce(c.custom_fields, '{}'::jsonb) || (i.doc->'customFields'))
                else '{}'::jsonb end`,
      insertDefault: `'{}'::jsonb`,
    },
    { key: 'emailConsent', column: 'email_consent', value: `(i.doc->>'emailConsent')::boolean`, insertDefault: 'false' },
    { key: 'lineUserId', column: 'line_user_id', value: `i.doc->>'lineUserId'` },
    { key: 'preferredChannel', column: 'preferred_channel', value: `i.doc->>'preferredChannel'` },
    { key: 'createdAt', column: 'created_at', value: `(i.doc->>'createdAt')::timestamptz`, insertDefault: 'now()' },
  ],
});

/**
 * Kokyaku's id of a customer named by that id or by a shop id (or a shop id merged into it);
 * null when the shop has no such customer.
 */
export async function findCustomerId(ctx: KokyakuContext, ref: { id: string } | { externalId: string }): Promise<string | null> {
  if ('id' in ref) {
    if (!/^\d{1,18}$/.test(ref.id)) return null;
    return (await sqlOne<{ id: string }>(ctx.em, `select id::text as id from kokyaku.customers where tenant_id = $1 and id = $2::bigint`, [ctx.tenantId, ref.id]))?.id ?? null;
  }
  const row = await sqlOne<{ id: string }>(
    ctx.em,
    `select id::text as id from kokyaku.customers where tenant_id = $1 and (external_id = $2
       or id = (select customer_id from kokyaku.customer_aliases where tenant_id = $1 and external_id = $2))`,
    [ctx.tenantId, ref.externalId],
  );
  return row?.id ?? null;
}

/** The personal fields of a customer row: cleared on erasure. */
const CUSTOMERS_BY_IDS = prepared(`select ${CUSTOMER_COLUMNS} from ${CUSTOMER_FROM} where c.tenant_id = $1 and c.id = any(kokyaku.json_bigints($2::jsonb))`);

export const PERSONAL_CUSTOMER_COLUMNS = [
  'email',
  'phone',
  'first_name',
  'last_name',
  'first_name_kana',
  'last_name_kana',
  'birthday',
  'city',
  'region',
  'country',
  'line_user_id',
] as const;

export { CUSTOMER_ALIASES, CUSTOMER_COLUMNS, CUSTOMER_FROM, mapCustomer };

export class CustomerService {
  constructor(
    private readonly metrics: MetricsService,
    private readonly hooks: HookDispatcher = new HookDispatcher([]),
    private readonly audit: AuditService | null = null,
  ) {}

  /** A customer by the shop's id (or one merged into it), else by email (as a platform's privacy webhook names them); null if unknown. */
  async findByKeys(ctx: KokyakuContext, keys: { externalId?: string | null; email?: string | null }): Promise<string | null> {
    const row = await sqlOne<{ id: string }>(
      ctx.em,
      `select id::text as id from kokyaku.customers
       where tenant_id = $1 and (external_id = $2 or email = lower(trim($3::text))
         or id = (select customer_id from kokyaku.customer_aliases where tenant_id = $1 and external_id = $2))
       order by (external_id = $2) desc nulls last, id limit 1`,
      [ctx.tenantId, keys.externalId ?? null, keys.email ?? null],
    );
    return row?.id ?? null;
  }

  /**
   * The customers each address belongs to (lower case): whose email it is, or whose merged-away
   * customer's it was. Erased customers have no address. One statement for a batch of mail.
   */
  async idsByEmails(ctx: KokyakuContext, emails: readonly string[]): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    if (emails.length === 0) return out;
    const rows = await sql<{ email: string; id: string }>(
      ctx.em,
      `select email, id::text as id from kokyaku.customers where tenant_id = $1 and email = any(kokyaku.json_texts($2::jsonb))
       union
       select email, customer_id::text from kokyaku.customer_aliases where tenant_id = $1 and email = any(kokyaku.json_texts($2::jsonb))`,
      [ctx.tenantId, JSON.stringify([...new Set(emails.map((e) => e.trim().toLowerCase()))])],
    );
    for (const r of rows) out.set(r.email, [...(out.get(r.email) ?? []), r.id]);
    return out;
  }

  /** Whether the customer objected to marketing, and when they were erased (null: not erased). */
  async marketingState(ctx: KokyakuContext, customerId: string): Promise<{ objected: boolean; erasedAt: Date | null } | null> {
    const row = await sqlOne<{ objected: boolean; erased_at: Date | string | null }>(
      ctx.em,
      `select marketing_objection_at is not null as objected, erased_at from kokyaku.customers where tenant_id = $1 and id = $2::bigint`,
      [ctx.tenantId, customerId],
    );
    return row ? { objected: row.objected, erasedAt: row.erased_at === null ? null : asDate(row.erased_at) } : null;
  }

  /**
   * The marketing flags of a customer's row (a privacy request changes them): `emailConsent`, and
   * the objection to marketing set (now) or lifted. Returns when they objected (null: they do not).
   */
  async setMarketing(ctx: KokyakuContext, customerId: string, change: { emailConsent?: boolean; objection?: 'SET' | 'LIFT' }): Promise<Date | null> {
    const [row] = await sql<{ at: Date | string | null }>(
      ctx.em,
      `update kokyaku.customers set
         email_consent = case when $4::text = 'SET' then false else coalesce($3::boolean, email_consent) end,
         marketing_objection_at = case $4::text when 'SET' then now() when 'LIFT' then null else marketing_objection_at end,
         updated_at = case when $3::boolean is not null or $4::text = 'SET' then now() else updated_at end
       where tenant_id = $1 and id = $2::bigint returning marketing_objection_at as at`,
      [ctx.tenantId, customerId, change.emailConsent ?? null, change.objection ?? null],
    );
    return row?.at == null ? null : asDate(row.at);
  }

  /** The shop ids that name a customer: their own (unless erased), and those merged into it. */
  async externalIds(ctx: KokyakuContext, customerId: string): Promise<string[]> {
    const rows = await sql<{ external_id: string }>(
      ctx.em,
      `select external_id from kokyaku.customers where tenant_id = $1 and id = $2::bigint and erased_at is null
       union all select external_id from kokyaku.customer_aliases where tenant_id = $1 and customer_id = $2::bigint`,
      [ctx.tenantId, customerId],
    );
    return rows.map((r) => r.external_id);
  }

  /**
   * Blanks a customer's profile (erasure): every personal field cleared, the shop id replaced by a
   * random pseudonym, tags and custom fields emptied, consent withdrawn; old shop ids no longer
   * name anyone. Returns when it was erased (the first time, if erased before).
   */
  async erase(ctx: KokyakuContext, customerId: string): Promise<Date | null> {
    const [row] = await sql<{ erased_at: Date | string }>(
      ctx.em,
      `update kokyaku.customers set
         ${PERSONAL_CUSTOMER_COLUMNS.map((c) => `${c} = null`).join(', ')},
         external_id = 'erased:' || md5(random()::text || clock_timestamp()::text),
         tags = '{}', custom_fields = '{}', email_consent = false,
         marketing_objection_at = coalesce(marketing_objection_at, now()),
         erased_at = coalesce(erased_at, now()), updated_at = now()
       where tenant_id = $1 and id = $2::bigint
       returning erased_at`,
      [ctx.tenantId, customerId],
    );
    await sql(ctx.em, `delete from kokyaku.customer_aliases where tenant_id = $1 and customer_id = $2::bigint`, [ctx.tenantId, customerId]);
    return row ? asDate(row.erased_at) : null;
  }

  /** The errors `upsert` would report for these items, writing nothing (import dry runs). */
  async validate(ctx: KokyakuContext, customers: readonly unknown[]): Promise<BatchItemError[]> {
    return validateBatch(customers, await this.schema(ctx, customers), 'externalId').errors;
  }

  /**
   * The schema of a customer input for this shop: its default country and, when some item of the
   * batch carries custom fields, their definitions (a batch without any costs no extra statement).
   */
  private async schema(ctx: KokyakuContext, customers: readonly unknown[]) {
    const custom = customers.some(
      (c) => typeof c === 'object' && c !== null && typeof (c as { customFields?: unknown }).customFields === 'object' && (c as { customFields?: unknown }).customFields !== null,
    );
    return customerSchema(ctx.shop.defaultCountry, custom ? await loadDefinitions(ctx, 'CUSTOMER') : new Map());
  }

  /**
   * Creates or updates customers by their shop id. A field left out keeps its stored value;
   * null clears it. Invalid items are reported by index and field; the valid ones are stored.
   */
  async upsert(ctx: KokyakuContext, customers: readonly CustomerInput[]): Promise<BatchResult> {
    const { valid, errors } = validateBatch(customers, await this.schema(ctx, customers), 'externalId');
    const result = emptyResult(customers.length, errors);
    const items = lastPerKey(valid, (c) => c.externalId);
    if (items.length === 0) return result;
    const docs = items.map((i) => i.value);
    // A shop id merged into another customer names the survivor.
    const aliases = await sql<{ alias: string; external_id: string }>(
      ctx.em,
      `select a.external_id as alias, c.external_id from kokyaku.customer_aliases a join kokyaku.customers c on c.tenant_id = a.tenant_id and c.id = a.customer_id
       where a.tenant_id = $1 and a.external_id = any(kokyaku.json_texts($2::jsonb))`,
      [ctx.tenantId, JSON.stringify(docs.map((d) => d.externalId))],
    );
    if (aliases.length > 0) {
      const canonical = new Map(aliases.map((a) => [a.alias, a.external_id]));
      for (const doc of docs) doc.externalId = canonical.get(doc.externalId) ?? doc.externalId;
    }
    const written = await transaction(ctx, async (em) => {
      // Known customers are locked first, in id order, as orders.record locks them
      // (metrics.lockCustomers): the upsert below then takes no row lock in another order.
      await sql(em, `select id from kokyaku.customers where tenant_id = $1 and external_id = any(kokyaku.json_texts($2::jsonb)) order by id for no key update`, [
        ctx.tenantId,
        JSON.stringify(docs.map((d) => d.externalId)),
      ]);
      const rows = await sql<{ id: string; external_id: string; inserted: boolean }>(em, UPSERT_CUSTOMERS, [ctx.tenantId, JSON.stringify(docs)]);
      const ids = rows.map((r) => r.id);
      await this.metrics.syncProfiles({ ...ctx, em }, ids);
      await this.hooks.customersChanged({ ...ctx, em }, ids);
      if (this.audit) {
        // Who wrote which personal fields of whom (names of fields, never their values).
        const given = new Map(docs.map((d) => [d.externalId, PERSONAL_INPUT_FIELDS.filter((f) => d[f] !== undefined)]));
        await this.audit.record(
          { ...ctx, em },
          rows.map((r) => ({ action: r.inserted ? 'CREATE' : 'UPDATE', customerId: r.id, fields: given.get(r.external_id) ?? [] })),
        );
      }
      return rows;
    });
    result.created = written.filter((w) => w.inserted).length;
    result.updated = written.length - result.created;
    result.unchanged -= result.created + result.updated;
    return result;
  }

  /**
   * Staff edits of one customer: its tags (replaced) and custom fields (merged; null removes a key),
   * checked, audited and reflected in segments like every other customer write.
   */
  async update(ctx: KokyakuContext, id: string, patch: { tags?: string[] | null; customFields?: Record<string, unknown> | null }): Promise<CustomerRecord> {
    const found = await this.findById(ctx, id);
    if (!found) throw KokyakuError.notFound('Customer', id);
    const input: CustomerInput = { externalId: found.externalId };
    if (patch.tags !== undefined) input.tags = patch.tags;
    if (patch.customFields != null) input.customFields = patch.customFields as CustomerInput['customFields'];
    const result = await this.upsert(ctx, [input]);
    const error = result.errors[0];
    if (error) throw KokyakuError.badInput(error.message, { field: error.field });
    return (await this.findById(ctx, id))!;
  }

  async findById(ctx: KokyakuContext, id: string): Promise<CustomerRecord | null> {
    if (!/^\d{1,18}$/.test(id)) return null;
    return (await this.findByIds(ctx, [id])).get(id) ?? null;
  }

  /** By the shop's id, or a shop id that was merged into this customer. */
  async findByExternalId(ctx: KokyakuContext, externalId: string): Promise<CustomerRecord | null> {
    const rows = await sql<CustomerRow>(ctx.em, `select ${CUSTOMER_COLUMNS} from ${CUSTOMER_FROM} where c.tenant_id = $1 and c.external_id = $2`, [ctx.tenantId, externalId]);
    if (rows[0]) return mapCustomer(rows[0], ctx.shop.currency);
    const merged = await sql<CustomerRow>(
      ctx.em,
      `select ${CUSTOMER_COLUMNS} from ${CUSTOMER_FROM}
       where c.tenant_id = $1 and c.id = (select customer_id from kokyaku.customer_aliases where tenant_id = $1 and external_id = $2)`,
      [ctx.tenantId, externalId],
    );
    return merged[0] ? mapCustomer(merged[0], ctx.shop.currency) : null;
  }

  /** Loads customers by internal id in one statement (for DataLoaders); unknown ids are absent. */
  async findByIds(ctx: KokyakuContext, ids: readonly string[]): Promise<Map<string, CustomerRecord>> {
    const wanted = ids.filter((id) => /^\d{1,18}$/.test(id));
    if (wanted.length === 0) return new Map();
    const rows = await sql<CustomerRow>(ctx.em, CUSTOMERS_BY_IDS, [ctx.tenantId, JSON.stringify(wanted)]);
    return new Map(rows.map((r) => [r.id, mapCustomer(r, ctx.shop.currency)]));
  }

  /** Customers in a stable order (oldest first), one page at a time. */
  async list(ctx: KokyakuContext, args: PageArgs = {}): Promise<Page<CustomerRecord>> {
    const first = pageSize(args.first);
    const after = args.after ? decodeCursor(args.after, 'c') : null;
    const afterId = after ? (after[0] ?? '') : null;
    if (afterId !== null && !/^\d{1,18}$/.test(afterId)) throw KokyakuError.invalidCursor(args.after ?? '');
    const rows = await sql<CustomerRow>(
      ctx.em,
      `select ${CUSTOMER_COLUMNS} from ${CUSTOMER_FROM}
       where c.tenant_id = $1 and ($2::bigint is null or c.id > $2::bigint)
       order by c.id
       limit $3`,
      [ctx.tenantId, afterId, first + 1],
    );
    return keysetPage(
      rows,
      first,
      (r) => mapCustomer(r, ctx.shop.currency),
      'c',
      (c) => [c.id],
    );
  }

  /** Finds customers from a fragment of a name, kana, email, phone or id (see search/customer-search.ts). */
  search(ctx: KokyakuContext, query: string, options: CustomerSearchOptions = {}): Promise<Page<CustomerSearchHit>> {
    return searchCustomers(ctx, query, options);
  }

  async count(ctx: KokyakuContext): Promise<number> {
    const [row] = await sql<{ n: number }>(ctx.em, `select count(*)::int as n from kokyaku.customers where tenant_id = $1`, [ctx.tenantId]);
    return row?.n ?? 0;
  }
}
