import type { EntityManager } from '@mikro-orm/postgresql';
import type { Actor, KokyakuContext } from '../shared/context.js';
import type { PrivacyService } from '../privacy/privacy.service.js';
import { KokyakuError } from '../shared/errors.js';
import { asDate, sql } from '../shared/sql.js';
import type { Channel } from './definition.js';
import type { JourneyService } from './journeys.js';

const TOKEN = /^[0-9a-f-]{36}$/;
const UNSUBSCRIBE_ACTOR: Actor = Object.freeze({ id: 'unsubscribe-link', roles: Object.freeze([] as const) });

/**
 * What arrives from outside with no tenant: clicks on tracked links, unsubscribe links and
 * provider delivery reports. Each finds its message across shops by an unguessable token (or the
 * provider's id) and acts in that message's shop.
 */
export class MessageLinks {
  constructor(
    private readonly deps: {
      /** An EntityManager bound to the database user (across tenants). */
      system: () => EntityManager;
      context: (tenantId: string, actor?: Actor) => KokyakuContext;
      privacy: PrivacyService;
      journeys: JourneyService;
    },
  ) {}

  /** Records a click on link `link` of the message and returns where it leads (null: unknown). */
  async follow(token: string, link: number): Promise<string | null> {
    if (!TOKEN.test(token) || !Number.isInteger(link) || link < 0) return null;
    const [row] = await sql<{ url: string | null }>(
      this.deps.system(),
      `with m as (select id, tenant_id, links->>$2::int as url from kokyaku.messages /* every shop */ where token = $1::uuid),
            clicked as (insert into kokyaku.message_clicks (tenant_id, message_id, link) select tenant_id, id, $2 from m where url is not null)
       select url from m`,
      [token, link],
    );
    return row?.url ?? null;
  }

  /** Withdraws consent on the message's channel, with the message as its source. */
  async unsubscribe(token: string): Promise<{ channel: Channel; customerId: string } | null> {
    if (!TOKEN.test(token)) return null;
    const [row] = await sql<{ id: string; tenant_id: string; customer_id: string | null; channel: Channel | 'WEBHOOK'; created_at: Date }>(
      this.deps.system(),
      `select id::text as id, tenant_id, customer_id::text as customer_id, channel, created_at from kokyaku.messages /* every shop */ where token = $1::uuid`,
      [token],
    );
    if (!row?.customer_id || row.channel === 'WEBHOOK') return null;
    const done = { channel: row.channel, customerId: row.customer_id };
    try {
      await this.deps.privacy.recordConsent(
        this.deps.context(row.tenant_id, UNSUBSCRIBE_ACTOR),
        { id: row.customer_id },
        {
          channel: row.channel,
          granted: false,
          source: `unsubscribe link of message ${row.id} (${asDate(row.created_at)!.toISOString().slice(0, 10)})`,
        },
      );
    } catch (error) {
      // An erased customer gets nothing any more: there is nothing to withdraw.
      if (!(error instanceof KokyakuError && error.code === 'FORBIDDEN')) throw error;
    }
    return done;
  }

  /** A provider's delivery report: finds the sent message by channel and provider id in any shop. */
  async recordDelivery(input: { channel: Channel; providerId: string; status: 'DELIVERED' | 'FAILED'; error?: string | null }): Promise<boolean> {
    const [row] = await sql<{ tenant_id: string }>(
      this.deps.system(),
      `select tenant_id from kokyaku.messages /* every shop */ where channel = $1 and provider_id = $2 order by id desc limit 1`,
      [input.channel, input.providerId],
    );
    return row ? this.deps.journeys.recordDelivery(this.deps.context(row.tenant_id), input) : false;
  }
}
