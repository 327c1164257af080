import type { KokyakuContext } from '../shared/context.js';
import { sql } from '../shared/sql.js';
import { todayIn } from '../shared/dates.js';

/**
 * Journey triggers, captured in the transaction of the fact that fires them: an order, event or
 * inquiry is stored and the runs it starts are stored with it, or neither is. A run is unique per
 * journey, customer and trigger key ("once" unless the journey re-enters EVERY_TIME, then the
 * fact's id), so a fact recorded twice starts nothing twice. Facts from before the journey was
 * activated (an import of last year's orders) start nothing. The commit wakes the worker
 * (`NOTIFY kokyaku_automation`); its sweep finds the runs anyway.
 */

export const NOTIFY_CHANNEL = 'kokyaku_automation';

/** The insert shared by every trigger: `facts` is a CTE of (journey id, customer_id, key, context). */
function insertRuns(facts: string): string {
  return `with ${facts},
    ins as (
      insert into kokyaku.journey_runs (tenant_id, journey_id, version, customer_id, trigger_key, context, step_id)
      select $1, j.id, j.version, x.customer_id,
             case when j.definition->>'reentry' = 'EVERY_TIME' then x.key else 'once' end,
             x.context, j.definition->'steps'->0->>'id'
      from x join kokyaku.journeys j on j.tenant_id = $1 and j.id = x.journey_id
      on conflict (journey_id, customer_id, trigger_key, tenant_id) do nothing
      returning 1
    )
    select count(*)::int as n, case when count(*) > 0 then pg_notify('${NOTIFY_CHANNEL}', $1) end as notified from ins`;
}

/** Runs started by newly placed orders (ids of kokyaku.orders). */
export async function captureOrders(ctx: KokyakuContext, orderIds: readonly string[]): Promise<number> {
  if (orderIds.length === 0) return 0;
  const [row] = await sql<{ n: number }>(
    ctx.em,
    insertRuns(`x as (
      select j.id as journey_id, o.customer_id, 'order:' || o.id as key, jsonb_build_object('orderId', o.id::text) as context
      from kokyaku.journeys j
      join kokyaku.orders o on o.tenant_id = $1 and o.id = any(kokyaku.json_bigints($2::jsonb)) and o.status = 'PLACED'
        and o.placed_at >= j.activated_at - interval '1 hour'
        and o.total_minor >= coalesce((j.definition->'trigger'->>'minTotalMinor')::bigint, 0)
      where j.tenant_id = $1 and j.status = 'ACTIVE' and j.trigger_type = 'ORDER_PLACED'
        and (not coalesce((j.definition->'trigger'->>'firstOrder')::boolean, false) or not exists (
          select 1 from kokyaku.orders p where p.tenant_id = $1 and p.customer_id = o.customer_id and p.status = 'PLACED'
            and (p.placed_at, p.id) < (o.placed_at, o.id)))
    )`),
    [ctx.tenantId, JSON.stringify(orderIds)],
  );
  return row?.n ?? 0;
}

/** Runs started by newly stored events (ids of kokyaku.events). */
export async function captureEvents(ctx: KokyakuContext, eventIds: readonly string[]): Promise<number> {
  if (eventIds.length === 0) return 0;
  const [row] = await sql<{ n: number }>(
    ctx.em,
    insertRuns(`x as (
      select j.id as journey_id, e.customer_id, 'event:' || e.id as key, jsonb_build_object('eventId', e.id::text) as context
      from kokyaku.journeys j
      join kokyaku.events e on e.tenant_id = $1 and e.id = any(kokyaku.json_bigints($2::jsonb)) and e.customer_id is not null
        and e.type = j.definition->'trigger'->>'eventType'
        and e.properties @> coalesce(j.definition->'trigger'->'properties', '{}'::jsonb)
        and e.occurred_at >= j.activated_at - interval '1 hour'
      where j.tenant_id = $1 and j.status = 'ACTIVE' and j.trigger_type = 'EVENT'
    )`),
    [ctx.tenantId, JSON.stringify(eventIds)],
  );
  return row?.n ?? 0;
}

/** Runs started by a new inquiry or complaint. */
export async function captureInquiry(ctx: KokyakuContext, inquiryId: string): Promise<number> {
  const [row] = await sql<{ n: number }>(
    ctx.em,
    insertRuns(`x as (
      select j.id as journey_id, i.customer_id, 'inquiry:' || i.id as key, jsonb_build_object('inquiryId', i.id::text) as context
      from kokyaku.journeys j
      join kokyaku.inquiries i on i.tenant_id = $1 and i.id = $2::bigint and i.customer_id is not null
        and (j.definition->'trigger'->>'kind' is null or j.definition->'trigger'->>'kind' = i.kind)
        and i.opened_at >= j.activated_at - interval '1 hour'
      where j.tenant_id = $1 and j.status = 'ACTIVE' and j.trigger_type = 'INQUIRY_OPENED'
    )`),
    [ctx.tenantId, inquiryId],
  );
  return row?.n ?? 0;
}

/** Runs started by mail a customer sent (EMAIL_RECEIVED): the mailbox module says which. */
export async function captureEmails(ctx: KokyakuContext, emails: readonly { emailId: string; customerId: string; sentAt: Date }[]): Promise<number> {
  if (emails.length === 0) return 0;
  const [row] = await sql<{ n: number }>(
    ctx.em,
    insertRuns(`x as (
      select j.id as journey_id, m.customer_id, 'email:' || m.email_id as key, jsonb_build_object('emailId', m.email_id) as context
      from kokyaku.journeys j
      join jsonb_to_recordset($2::jsonb) as m(email_id text, customer_id bigint, sent_at timestamptz) on m.sent_at >= j.activated_at - interval '1 hour'
      where j.tenant_id = $1 and j.status = 'ACTIVE' and j.trigger_type = 'EMAIL_RECEIVED'
    )`),
    [ctx.tenantId, JSON.stringify(emails.map((e) => ({ email_id: e.emailId, customer_id: e.customerId, sent_at: e.sentAt })))],
  );
  return row?.n ?? 0;
}

/**
 * Runs of journeys triggered by entering or leaving a saved segment: the automation module's
 * reaction to `segmentChanged`. A ONCE journey starts once per customer; EVERY_TIME keys each
 * entry or exit by its time.
 */
export async function captureSegmentChange(ctx: KokyakuContext, segmentId: string, entered: readonly string[], left: readonly string[]): Promise<number> {
  const [row] = await sql<{ n: number }>(
    ctx.em,
    `with x as (
       select c as customer_id, 'ENTERED' as change from unnest(kokyaku.json_bigints($3::jsonb)) c
       union all select c, 'LEFT' from unnest(kokyaku.json_bigints($4::jsonb)) c
     ),
     started as (
       insert into kokyaku.journey_runs (tenant_id, journey_id, version, customer_id, trigger_key, context, step_id)
       select $1, j.id, j.version, x.customer_id,
              case when j.definition->>'reentry' = 'EVERY_TIME' then 'segment:' || x.change || ':' || to_char(clock_timestamp(), 'YYYYMMDDHH24MISSUS') else 'once' end,
              jsonb_build_object('segmentId', $2::bigint::text), j.definition->'steps'->0->>'id'
       from x
       join kokyaku.journeys j on j.trigger_segment_id = $2::bigint and j.status = 'ACTIVE' and j.tenant_id = $1
         and j.trigger_type = case x.change when 'ENTERED' then 'SEGMENT_ENTERED' else 'SEGMENT_LEFT' end
       on conflict (journey_id, customer_id, trigger_key, tenant_id) do nothing
       returning 1
     )
     select count(*)::int as n, case when count(*) > 0 then pg_notify('${NOTIFY_CHANNEL}', $1) end as notified from started`,
    [ctx.tenantId, segmentId, JSON.stringify(entered), JSON.stringify(left)],
  );
  return row?.n ?? 0;
}

/** The saved segments that start or end journeys (what the automation module watches). */
export async function triggerSegments(ctx: KokyakuContext): Promise<string[]> {
  const rows = await sql<{ id: string }>(
    ctx.em,
    `select distinct trigger_segment_id::text as id from kokyaku.journeys
     where tenant_id = $1 and status = 'ACTIVE' and trigger_type in ('SEGMENT_ENTERED', 'SEGMENT_LEFT') and trigger_segment_id is not null`,
    [ctx.tenantId],
  );
  return rows.map((r) => r.id);
}

/**
 * Runs of DATE journeys for the shop's today: birthdays, first-order anniversaries, and N days
 * after the last order. Idempotent per day (the key holds the date), so running it again the
 * same day starts nothing new.
 */
export async function captureDates(ctx: KokyakuContext, now: Date): Promise<number> {
  const today = todayIn(ctx.shop.timeZone, now);
  const [row] = await sql<{ n: number }>(
    ctx.em,
    insertRuns(`x as (
      select j.id as journey_id, c.id as customer_id, 'date:' || $2 as key, jsonb_build_object('date', $2) as context
      from kokyaku.journeys j
      join kokyaku.customers c on c.tenant_id = $1 and c.erased_at is null
      left join kokyaku.customer_facts f on f.tenant_id = c.tenant_id and f.customer_id = c.id
      where j.tenant_id = $1 and j.status = 'ACTIVE' and j.trigger_type = 'DATE'
        and case j.definition->'trigger'->>'date'
          when 'BIRTHDAY' then to_char(c.birthday, 'MM-DD') = right($2, 5)
            or (right($2, 5) = '02-28' and to_char(c.birthday, 'MM-DD') = '02-29' and extract(day from ((left($2, 4) || '-03-01')::date - 1)) = 28)
          when 'FIRST_ORDER_ANNIVERSARY' then to_char(f.first_order_at at time zone $3, 'MM-DD') = right($2, 5)
            and (f.first_order_at at time zone $3)::date < $2::date
          when 'DAYS_AFTER_LAST_ORDER' then (f.last_order_at at time zone $3)::date = $2::date - ((j.definition->'trigger'->>'days')::int)
          else false end
    )`),
    [ctx.tenantId, today, ctx.shop.timeZone],
  );
  return row?.n ?? 0;
}
