import { NO_PLUGINS, type PluginRegistry } from '../plugins/registry.js';
import { findCustomerId } from '../customers/customer.service.js';
import { CRM_TABLES } from '../database/migrations/Migration20261122120000_crm.js';
import { AUTOMATION_TABLES } from '../database/migrations/Migration20261122130000_automation.js';
import type { KokyakuContext } from '../context.js';
import type { CustomersChanged } from '../ingestion/batch.js';
import type { MetricsService } from '../metrics/metrics.service.js';
import { KokyakuError } from '../shared/errors.js';
import { asDate, sql, sqlOne, transaction } from '../shared/sql.js';
import type { AuditService } from './audit.service.js';

export const CONSENT_CHANNELS = ['EMAIL', 'SMS', 'LINE', 'PHONE', 'POST'] as const;
export type ConsentChannel = (typeof CONSENT_CHANNELS)[number];

/** Which customer a privacy request is about: Kokyaku's id or the shop's. */
export type CustomerRef = { id: string } | { externalId: string };

export interface ConsentInput {
  channel: ConsentChannel;
  granted: boolean;
  /** Where the consent (or its withdrawal) was given: "checkout form", "support call 2026-05-01"... */
  source: string;
  /** When it was given; default now. */
  at?: Date | null;
}

export interface ConsentRecord {
  channel: ConsentChannel;
  granted: boolean;
  source: string;
  recordedAt: Date;
  actorId: string | null;
}

/** The personal fields of a customer row: cleared on erasure. */
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

/**
 * Every tenant table, children before parents: what `eraseShop` deletes, in this order. The
 * tenancy test fails when a table with a tenant_id is missing here.
 */
export const TENANT_TABLES = [
  ...AUTOMATION_TABLES,
  ...CRM_TABLES,
  'customer_aliases',
  'import_rows',
  'import_runs',
  'audit_log',
  'consents',
  'customer_product_changes',
  'product_neighbours_stale',
  'product_neighbours',
  'product_pairs',
  'product_daily',
  'product_stats',
  'customer_products',
  'recommendation_state',
  'analytics_state',
  'segment_changes',
  'segment_members',
  'segments',
  'customer_scores',
  'customer_facts',
  'events',
  'order_lines',
  'orders',
  'customers',
  'products',
] as const;

/**
 * Privacy requests under GDPR and Japan's APPI: export all held about a customer, erase them,
 * record consent, and object to marketing. Each request is written to the audit log.
 */
export class PrivacyService {
  constructor(
    private readonly audit: AuditService,
    private readonly metrics: MetricsService,
    private readonly changed: CustomersChanged,
    private readonly plugins: PluginRegistry = NO_PLUGINS,
  ) {}

  private async resolve(ctx: KokyakuContext, ref: CustomerRef): Promise<string> {
    const id = await findCustomerId(ctx, ref);
    if (!id) throw KokyakuError.notFound('Customer', 'id' in ref ? ref.id : ref.externalId);
    return id;
  }

  /** A customer by the shop's id (or one merged into it), else by email (as a platform's privacy webhook names them); null if unknown. */
  async findCustomer(ctx: KokyakuContext, keys: { externalId?: string | null; email?: string | null }): Promise<string | null> {
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
   * Everything Kokyaku holds about one customer, as plain JSON: the profile, derived facts and
   * scores, orders with their lines, events, consents, segment memberships and their history,
   * what they bought (as the recommender keeps it), and who accessed their data.
   */
  async exportCustomer(ctx: KokyakuContext, ref: CustomerRef, options: { requestId?: string | null } = {}): Promise<Record<string, unknown>> {
    const id = await this.resolve(ctx, ref);
    const p = [ctx.tenantId, id];
    const one = async (text: string) => (await sqlOne<{ v: unknown }>(ctx.em, text, p))?.v ?? null;
    const data: Record<string, unknown> = {
      exportedAt: new Date().toISOString(),
      tenantId: ctx.tenantId,
      customer: await one(`select to_jsonb(c) - 'search_name' - 'search_kana' as v from kokyaku.customers c where tenant_id = $1 and id = $2::bigint`),
      facts: await one(`select to_jsonb(f) as v from kokyaku.customer_facts f where tenant_id = $1 and customer_id = $2::bigint`),
      scores: await one(`select to_jsonb(s) as v from kokyaku.customer_scores s where tenant_id = $1 and customer_id = $2::bigint`),
      orders: await one(
        `select coalesce(jsonb_agg(to_jsonb(o) || jsonb_build_object('lines', (
                  select coalesce(jsonb_agg(jsonb_build_object('productExternalId', pr.external_id, 'productName', pr.name,
                                                               'quantity', l.quantity, 'unitPriceMinor', l.unit_price_minor) order by l.position), '[]')
                  from kokyaku.order_lines l join kokyaku.products pr on pr.id = l.product_id
                  where l.tenant_id = $1 and l.order_id = o.id)) order by o.placed_at), '[]') as v
         from kokyaku.orders o where o.tenant_id = $1 and o.customer_id = $2::bigint`,
      ),
      events: await one(
        `select coalesce(jsonb_agg(to_jsonb(e) order by e.occurred_at), '[]') as v from kokyaku.events e where tenant_id = $1 and customer_id = $2::bigint`,
      ),
      consents: await one(
        `select coalesce(jsonb_agg(to_jsonb(c) order by c.recorded_at, c.id), '[]') as v from kokyaku.consents c where tenant_id = $1 and customer_id = $2::bigint`,
      ),
      segments: await one(
        `select coalesce(jsonb_agg(jsonb_build_object('segment', s.name, 'enteredAt', m.entered_at) order by s.name), '[]') as v
         from kokyaku.segment_members m join kokyaku.segments s on s.id = m.segment_id where m.tenant_id = $1 and m.customer_id = $2::bigint`,
      ),
      segmentHistory: await one(
        `select coalesce(jsonb_agg(jsonb_build_object('segment', s.name, 'change', c.change, 'at', c.occurred_at) order by c.id), '[]') as v
         from kokyaku.segment_changes c join kokyaku.segments s on s.id = c.segment_id where c.tenant_id = $1 and c.customer_id = $2::bigint`,
      ),
      leadScore: await one(`select to_jsonb(l) as v from kokyaku.lead_scores l where tenant_id = $1 and customer_id = $2::bigint`),
      companies: await one(
        `select coalesce(jsonb_agg(jsonb_build_object('company', co.name, 'title', ct.title, 'role', ct.role, 'since', ct.created_at) order by co.name), '[]') as v
         from kokyaku.company_contacts ct join kokyaku.companies co on co.id = ct.company_id where ct.tenant_id = $1 and ct.customer_id = $2::bigint`,
      ),
      notes: await one(`select coalesce(jsonb_agg(to_jsonb(n) order by n.created_at, n.id), '[]') as v from kokyaku.notes n where tenant_id = $1 and customer_id = $2::bigint`),
      tasks: await one(`select coalesce(jsonb_agg(to_jsonb(t) order by t.created_at, t.id), '[]') as v from kokyaku.tasks t where tenant_id = $1 and customer_id = $2::bigint`),
      inquiries: await one(
        `select coalesce(jsonb_agg(to_jsonb(i) || jsonb_build_object('messages', (
                  select coalesce(jsonb_agg(jsonb_build_object('direction', m.direction, 'body', m.body, 'sentAt', m.sent_at) order by m.sent_at, m.id), '[]')
                  from kokyaku.inquiry_messages m where m.tenant_id = $1 and m.inquiry_id = i.id)) order by i.opened_at), '[]') as v
         from kokyaku.inquiries i where i.tenant_id = $1 and i.customer_id = $2::bigint`,
      ),
      deals: await one(`select coalesce(jsonb_agg(to_jsonb(d) order by d.created_at, d.id), '[]') as v from kokyaku.deals d where tenant_id = $1 and customer_id = $2::bigint`),
      journeyRuns: await one(
        `select coalesce(jsonb_agg(jsonb_build_object('journey', j.name, 'status', r.status, 'step', r.step_id, 'startedAt', r.started_at, 'finishedAt', r.finished_at) order by r.id), '[]') as v
         from kokyaku.journey_runs r join kokyaku.journeys j on j.id = r.journey_id where r.tenant_id = $1 and r.customer_id = $2::bigint`,
      ),
      messages: await one(
        `select coalesce(jsonb_agg(to_jsonb(m) - 'token' - 'idempotency_key' || jsonb_build_object('clicks', (select count(*) from kokyaku.message_clicks k where k.message_id = m.id))
                 order by m.id), '[]') as v
         from kokyaku.messages m where m.tenant_id = $1 and m.customer_id = $2::bigint`,
      ),
      purchasedProducts: await one(
        `select coalesce(jsonb_agg(jsonb_build_object('productExternalId', pr.external_id, 'orders', cp.orders, 'quantity', cp.quantity,
                                                      'firstAt', cp.first_at, 'lastAt', cp.last_at) order by pr.external_id), '[]') as v
         from kokyaku.customer_products cp join kokyaku.products pr on pr.id = cp.product_id where cp.tenant_id = $1 and cp.customer_id = $2::bigint`,
      ),
      accessLog: await one(
        `select coalesce(jsonb_agg(jsonb_build_object('at', a.at, 'actorId', a.actor_id, 'action', a.action, 'fields', a.fields) order by a.id), '[]') as v
         from kokyaku.audit_log a where a.tenant_id = $1 and a.customer_id = $2::bigint`,
      ),
      // What each plugin holds about them, under its name.
      ...(this.plugins.has('exportCustomer') ? { plugins: await this.plugins.exportCustomer(ctx, id) } : {}),
    };
    await this.audit.record(ctx, [{ action: 'EXPORT', customerId: id, requestId: options.requestId }]);
    return data;
  }

  /**
   * Erases a customer: every personal field is cleared, the shop's id is replaced by a random
   * pseudonym, tags, custom fields and event properties are emptied, and consent is withdrawn.
   * Orders, order lines and events stay, attached to the anonymous row, so revenue, order counts
   * and recommendations keep adding up. Later records naming the old shop id create a new
   * customer. The same request twice erases nothing more.
   */
  async eraseCustomer(ctx: KokyakuContext, ref: CustomerRef, options: { requestId?: string | null; reason?: string } = {}): Promise<{ customerId: string; erasedAt: Date }> {
    return transaction(ctx, async (em) => {
      const tx: KokyakuContext = { ...ctx, em };
      const id = await this.resolve(tx, ref);
      // The shop ids that name this customer: their own, and those merged into it.
      const names = await sql<{ external_id: string }>(
        em,
        `select external_id from kokyaku.customers where tenant_id = $1 and id = $2::bigint and erased_at is null
         union all select external_id from kokyaku.customer_aliases where tenant_id = $1 and customer_id = $2::bigint`,
        [ctx.tenantId, id],
      );
      const [row] = await sql<{ erased_at: Date | string }>(
        em,
        `update kokyaku.customers set
           ${PERSONAL_CUSTOMER_COLUMNS.map((c) => `${c} = null`).join(', ')},
           external_id = 'erased:' || md5(random()::text || clock_timestamp()::text),
           tags = '{}', custom_fields = '{}', email_consent = false,
           marketing_objection_at = coalesce(marketing_objection_at, now()),
           erased_at = coalesce(erased_at, now()), updated_at = now()
         where tenant_id = $1 and id = $2::bigint
         returning erased_at`,
        [ctx.tenantId, id],
      );
      await sql(em, `update kokyaku.events set properties = '{}' where tenant_id = $1 and customer_id = $2::bigint and properties <> '{}'`, [ctx.tenantId, id]);
      // Old shop ids no longer name anyone, and rows of unfinished imports about them go.
      await sql(em, `delete from kokyaku.customer_aliases where tenant_id = $1 and customer_id = $2::bigint`, [ctx.tenantId, id]);
      await sql(
        em,
        `delete from kokyaku.import_rows r using kokyaku.import_runs u
         where r.tenant_id = $1 and u.id = r.run_id and u.status <> 'DONE'
           and (u.kind = 'customers' and r.doc->>'externalId' = any(kokyaku.json_texts($2::jsonb))
                or u.kind in ('orders', 'events') and r.doc->>'customerExternalId' = any(kokyaku.json_texts($2::jsonb)))`,
        [ctx.tenantId, JSON.stringify(names.map((n) => n.external_id))],
      );
      await sql(em, `update kokyaku.consents set source = 'erased' where tenant_id = $1 and customer_id = $2::bigint`, [ctx.tenantId, id]);
      // What staff wrote about them, and what they wrote: free text that may hold anything personal.
      // Inquiries keep their times (response figures stay right); tasks stay as work done.
      await sql(em, `delete from kokyaku.notes where tenant_id = $1 and customer_id = $2::bigint`, [ctx.tenantId, id]);
      await sql(em, `delete from kokyaku.company_contacts where tenant_id = $1 and customer_id = $2::bigint`, [ctx.tenantId, id]);
      await sql(
        em,
        `update kokyaku.inquiry_messages set body = '(erased)' where tenant_id = $1 and inquiry_id in (select id from kokyaku.inquiries where tenant_id = $1 and customer_id = $2::bigint)`,
        [ctx.tenantId, id],
      );
      await sql(em, `update kokyaku.inquiries set subject = '(erased)', category = null where tenant_id = $1 and customer_id = $2::bigint`, [ctx.tenantId, id]);
      await sql(em, `update kokyaku.tasks set title = '(erased)', description = null where tenant_id = $1 and customer_id = $2::bigint`, [ctx.tenantId, id]);
      // Messages keep their times and statuses (the journey figures stay right), not their words or
      // addresses; journeys under way stop, and what a manual start passed in goes.
      await sql(
        em,
        `update kokyaku.messages set recipient = null, subject = case when subject is null then null else '(erased)' end, body = '(erased)', links = '[]'
         where tenant_id = $1 and customer_id = $2::bigint`,
        [ctx.tenantId, id],
      );
      await sql(
        em,
        `update kokyaku.journey_runs set context = context - 'data',
           status = case when status in ('ACTIVE', 'WAITING') then 'CANCELLED' else status end,
           error = case when status in ('ACTIVE', 'WAITING') then 'The customer was erased.' else error end,
           finished_at = coalesce(finished_at, now())
         where tenant_id = $1 and customer_id = $2::bigint`,
        [ctx.tenantId, id],
      );
      await this.plugins.customerErased(tx, id);
      await this.metrics.syncProfiles(tx, [id]);
      await this.changed(tx, [id]);
      await this.audit.record(tx, [
        { action: 'ERASE', customerId: id, requestId: options.requestId, fields: [...PERSONAL_CUSTOMER_COLUMNS], detail: options.reason ? { reason: options.reason } : {} },
      ]);
      return { customerId: id, erasedAt: asDate(row!.erased_at) };
    });
  }

  /** Records consent (or its withdrawal) for one channel, with its source and time. EMAIL also sets `emailConsent`. */
  async recordConsent(ctx: KokyakuContext, ref: CustomerRef, input: ConsentInput, options: { requestId?: string | null } = {}): Promise<ConsentRecord> {
    if (!CONSENT_CHANNELS.includes(input.channel)) {
      throw KokyakuError.badInput(`Unknown channel "${input.channel}"; one of ${CONSENT_CHANNELS.join(', ')}.`, { field: 'channel' });
    }
    const source = input.source?.trim();
    if (!source) throw KokyakuError.badInput('Say where the consent was given (source).', { field: 'source' });
    if (source.length > 500) throw KokyakuError.badInput('source holds at most 500 characters.', { field: 'source' });
    return transaction(ctx, async (em) => {
      const tx: KokyakuContext = { ...ctx, em };
      const id = await this.resolve(tx, ref);
      const objected = await sqlOne<{ objected: boolean; erased: boolean }>(
        em,
        `select marketing_objection_at is not null as objected, erased_at is not null as erased from kokyaku.customers where tenant_id = $1 and id = $2::bigint`,
        [ctx.tenantId, id],
      );
      if (objected?.erased) throw new KokyakuError('FORBIDDEN', 'This customer was erased; no consent can be recorded for them.', { customerId: id });
      const [row] = await sql<{ recorded_at: Date | string }>(
        em,
        `insert into kokyaku.consents (tenant_id, customer_id, channel, granted, source, recorded_at, actor_id)
         values ($1, $2::bigint, $3, $4, $5, coalesce($6::timestamptz, now()), $7) returning recorded_at`,
        [ctx.tenantId, id, input.channel, input.granted, source, input.at ?? null, ctx.actor?.id ?? null],
      );
      // Granting again after an objection lifts it for marketing on that channel only when the
      // customer says so: a new grant is that statement.
      if (input.granted && objected?.objected) {
        await sql(em, `update kokyaku.customers set marketing_objection_at = null where tenant_id = $1 and id = $2::bigint`, [ctx.tenantId, id]);
      }
      if (input.channel === 'EMAIL') {
        await sql(em, `update kokyaku.customers set email_consent = $3, updated_at = now() where tenant_id = $1 and id = $2::bigint`, [ctx.tenantId, id, input.granted]);
        await this.metrics.syncProfiles(tx, [id]);
        await this.changed(tx, [id]);
      }
      await this.audit.record(tx, [{ action: 'CONSENT', customerId: id, requestId: options.requestId, detail: { channel: input.channel, granted: input.granted } }]);
      return { channel: input.channel, granted: input.granted, source, recordedAt: asDate(row!.recorded_at), actorId: ctx.actor?.id ?? null };
    });
  }

  /** The customer objects to marketing: consent is withdrawn on every channel and marketing is suppressed. */
  async objectToMarketing(ctx: KokyakuContext, ref: CustomerRef, source: string, options: { requestId?: string | null } = {}): Promise<{ customerId: string; objectedAt: Date }> {
    const reason = source?.trim();
    if (!reason) throw KokyakuError.badInput('Say where the objection was made (source).', { field: 'source' });
    return transaction(ctx, async (em) => {
      const tx: KokyakuContext = { ...ctx, em };
      const id = await this.resolve(tx, ref);
      const [row] = await sql<{ at: Date | string }>(
        em,
        `update kokyaku.customers set marketing_objection_at = now(), email_consent = false, updated_at = now()
         where tenant_id = $1 and id = $2::bigint returning marketing_objection_at as at`,
        [ctx.tenantId, id],
      );
      await sql(
        em,
        `insert into kokyaku.consents (tenant_id, customer_id, channel, granted, source, actor_id)
         select $1, $2::bigint, channel, false, $3, $4 from unnest(kokyaku.json_texts($5::jsonb)) as channel`,
        [ctx.tenantId, id, reason.slice(0, 500), ctx.actor?.id ?? null, JSON.stringify(CONSENT_CHANNELS)],
      );
      await this.metrics.syncProfiles(tx, [id]);
      await this.changed(tx, [id]);
      await this.audit.record(tx, [{ action: 'OBJECTION', customerId: id, requestId: options.requestId }]);
      return { customerId: id, objectedAt: asDate(row!.at) };
    });
  }

  /** The consent history of a customer, newest first. */
  async consents(ctx: KokyakuContext, ref: CustomerRef): Promise<ConsentRecord[]> {
    const id = await this.resolve(ctx, ref);
    const rows = await sql<{ channel: ConsentChannel; granted: boolean; source: string; recorded_at: Date | string; actor_id: string | null }>(
      ctx.em,
      `select channel, granted, source, recorded_at, actor_id from kokyaku.consents where tenant_id = $1 and customer_id = $2::bigint order by recorded_at desc, id desc`,
      [ctx.tenantId, id],
    );
    return rows.map((r) => ({ channel: r.channel, granted: r.granted, source: r.source, recordedAt: asDate(r.recorded_at), actorId: r.actor_id }));
  }

  /**
   * Whether marketing may go to a customer on a channel now: the latest consent on it was a
   * grant (for EMAIL, `emailConsent`), the customer has not objected and was not erased.
   */
  async mayMarket(ctx: KokyakuContext, ref: CustomerRef, channel: ConsentChannel): Promise<boolean> {
    const id = await this.resolve(ctx, ref);
    const row = await sqlOne<{ ok: boolean }>(
      ctx.em,
      `select c.marketing_objection_at is null and c.erased_at is null and coalesce(
                (select k.granted from kokyaku.consents k where k.tenant_id = $1 and k.customer_id = c.id and k.channel = $3
                 order by k.recorded_at desc, k.id desc limit 1),
                case when $3 = 'EMAIL' then c.email_consent else false end) as ok
       from kokyaku.customers c where c.tenant_id = $1 and c.id = $2::bigint`,
      [ctx.tenantId, id, channel],
    );
    return row?.ok ?? false;
  }

  /**
   * Deletes every row of the context's tenant (a shop leaving: Shopify's `shop/redact`). The
   * deletion itself is the last audit entry, and it is deleted with the rest; the caller's log
   * keeps the record.
   */
  async eraseShop(ctx: KokyakuContext): Promise<{ rows: number }> {
    return transaction(ctx, async (em) => {
      let rows = 0;
      for (const table of [...this.plugins.tenantTables, ...TENANT_TABLES]) {
        const [r] = await sql<{ n: number }>(em, `with d as (delete from kokyaku.${table} where tenant_id = $1 returning 1) select count(*)::int as n from d`, [ctx.tenantId]);
        rows += r?.n ?? 0;
      }
      return { rows };
    });
  }
}
