import { type CustomerService, PERSONAL_CUSTOMER_COLUMNS, findCustomerId } from '../customers/customer.service.js';
import type { HookDispatcher } from '../module/hooks.js';
import type { KokyakuContext } from '../shared/context.js';
import type { MetricsService } from '../metrics/metrics.service.js';
import { KokyakuError } from '../shared/errors.js';
import { asDate, sql, sqlOne, transaction } from '../shared/sql.js';
import type { AuditService } from '../audit/audit.service.js';

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

export { PERSONAL_CUSTOMER_COLUMNS };

/**
 * Privacy requests under GDPR and Japan's APPI: export all held about a customer, erase them,
 * record consent, and object to marketing. Each request is written to the audit log.
 */
export class PrivacyService {
  constructor(
    private readonly audit: AuditService,
    private readonly metrics: MetricsService,
    private readonly hooks: HookDispatcher,
    private readonly customers: CustomerService,
  ) {}

  private async resolve(ctx: KokyakuContext, ref: CustomerRef): Promise<string> {
    const id = await findCustomerId(ctx, ref);
    if (!id) throw KokyakuError.notFound('Customer', 'id' in ref ? ref.id : ref.externalId);
    return id;
  }

  /** A customer by the shop's id (or one merged into it), else by email (as a platform's privacy webhook names them); null if unknown. */
  findCustomer(ctx: KokyakuContext, keys: { externalId?: string | null; email?: string | null }): Promise<string | null> {
    return this.customers.findByKeys(ctx, keys);
  }

  /**
   * Everything Kokyaku holds about one customer, as plain JSON: the profile, derived facts and
   * scores, orders with their lines, events, consents, segment memberships and their history,
   * what they bought (as the recommender keeps it), and who accessed their data.
   */
  async exportCustomer(ctx: KokyakuContext, ref: CustomerRef, options: { requestId?: string | null } = {}): Promise<Record<string, unknown>> {
    const id = await this.resolve(ctx, ref);
    // Every module adds what it holds (docs/architecture.md); plugins under `plugins.<name>`.
    const data: Record<string, unknown> = { exportedAt: new Date().toISOString(), tenantId: ctx.tenantId, ...(await this.hooks.exportCustomer(ctx, id)) };
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
      // Every module removes or blanks what it holds, dependents first; the profile itself last.
      await this.hooks.customerErased(tx, id);
      const state = await this.customers.marketingState(tx, id);
      await this.metrics.syncProfiles(tx, [id]);
      await this.hooks.customersChanged(tx, [id]);
      await this.audit.record(tx, [
        { action: 'ERASE', customerId: id, requestId: options.requestId, fields: [...PERSONAL_CUSTOMER_COLUMNS], detail: options.reason ? { reason: options.reason } : {} },
      ]);
      return { customerId: id, erasedAt: state!.erasedAt! };
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
      const state = await this.customers.marketingState(tx, id);
      if (state?.erasedAt) throw KokyakuError.forbidden('This customer was erased; no consent can be recorded for them.', { customerId: id });
      const [row] = await sql<{ recorded_at: Date | string }>(
        em,
        `insert into kokyaku.consents (tenant_id, customer_id, channel, granted, source, recorded_at, actor_id)
         values ($1, $2::bigint, $3, $4, $5, coalesce($6::timestamptz, now()), $7) returning recorded_at`,
        [ctx.tenantId, id, input.channel, input.granted, source, input.at ?? null, ctx.actor?.id ?? null],
      );
      // Granting again after an objection lifts it for marketing on that channel only when the
      // customer says so: a new grant is that statement.
      if (input.granted && state?.objected) await this.customers.setMarketing(tx, id, { objection: 'LIFT' });
      if (input.channel === 'EMAIL') {
        await this.customers.setMarketing(tx, id, { emailConsent: input.granted });
        await this.metrics.syncProfiles(tx, [id]);
        await this.hooks.customersChanged(tx, [id]);
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
      const objectedAt = await this.customers.setMarketing(tx, id, { objection: 'SET' });
      await sql(
        em,
        `insert into kokyaku.consents (tenant_id, customer_id, channel, granted, source, actor_id)
         select $1, $2::bigint, channel, false, $3, $4 from unnest(kokyaku.json_texts($5::jsonb)) as channel`,
        [ctx.tenantId, id, reason.slice(0, 500), ctx.actor?.id ?? null, JSON.stringify(CONSENT_CHANNELS)],
      );
      await this.metrics.syncProfiles(tx, [id]);
      await this.hooks.customersChanged(tx, [id]);
      await this.audit.record(tx, [{ action: 'OBJECTION', customerId: id, requestId: options.requestId }]);
      return { customerId: id, objectedAt: objectedAt! };
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
      const rows = await this.hooks.shopErased({ ...ctx, em });
      return { rows };
    });
  }
}
