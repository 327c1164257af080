import { defineModule } from '../module/module.js';
import { truncate } from '../shared/text.js';
import { sql, sqlValue } from '../shared/sql.js';
import { captureEvents, captureEmails, captureInquiry, captureOrders, captureSegmentChange, triggerSegments } from './triggers.js';
import { WEBHOOK_STEP } from './steps.js';

/**
 * Journeys, their runs and steps, and the messages they send. Journeys start as the automation
 * module's reaction to what the other modules report: an order placed, an event stored, an
 * inquiry opened, a customer entering or leaving a segment.
 */
export const automationModule = defineModule({
  name: 'automation',
  tenantTables: ['message_clicks', 'messages', 'journey_run_steps', 'journey_runs', 'journey_versions', 'journeys', 'messaging_settings'],
  automationSteps: [WEBHOOK_STEP],
  customerTables: [
    { table: 'messages', erase: 'custom', export: 'custom' },
    { table: 'journey_runs', merge: 'custom', erase: 'custom', export: 'custom' },
  ],
  timeline: [
    {
      kind: 'MESSAGE',
      at: 'm.created_at',
      id: 'm.id',
      select: `case when m.journey_id is null then null else 'journey:' || m.journey_id end as actor_id, m.customer_id,
        jsonb_build_object('channel', m.channel, 'purpose', m.purpose, 'status', m.status, 'reason', m.reason, 'subject', m.subject,
                           'journeyId', m.journey_id::text, 'journey', j.name) as data`,
      from: 'kokyaku.messages m left join kokyaku.journeys j on j.tenant_id = m.tenant_id and j.id = m.journey_id',
      where: ({ who }) => `m.tenant_id = $1 and ${who('m.customer_id')}`,
      present: (d) => {
        const what = `${String(d.channel).toLowerCase()}${d.subject ? ` "${truncate(String(d.subject), 80)}"` : ''}`;
        const from = d.journey ? ` (journey ${d.journey})` : '';
        return {
          summary:
            d.status === 'WITHHELD'
              ? `Message withheld, ${String(d.reason).toLowerCase().replace(/_/g, ' ')}: ${what}${from}`
              : `Message ${String(d.status).toLowerCase()}: ${what}${from}`,
        };
      },
    },
  ],
  hooks: {
    orderRecorded: async (ctx, orders) => {
      // Orders placed now (new, or placed again after a cancellation) may start journeys.
      await captureOrders(
        ctx,
        orders.flatMap((o) => (o.after && !o.before ? [o.orderId] : [])),
      );
    },
    eventsTracked: async (ctx, { eventIds }) => {
      await captureEvents(ctx, eventIds);
    },
    inquiryActivity: async (ctx, { inquiryId }) => {
      await captureInquiry(ctx, inquiryId);
    },
    emailsStored: async (ctx, { messages }) => {
      await captureEmails(
        ctx,
        messages.flatMap((m) => (m.direction === 'RECEIVED' && m.senderId ? [{ emailId: m.id, customerId: m.senderId, sentAt: m.sentAt }] : [])),
      );
    },
    watchedSegments: (ctx) => triggerSegments(ctx),
    segmentChanged: async (ctx, { segmentId, entered, left }) => {
      await captureSegmentChange(ctx, segmentId, entered, left);
    },
    customerMerged: async (ctx, { survivorId, mergedIds }) => {
      // One run per journey and trigger (the survivor's own first): a customer goes through a ONCE
      // journey once. The others go with the merged rows; their messages stay (moved before).
      await sql(
        ctx.em,
        `update kokyaku.journey_runs set customer_id = $2::bigint
         where tenant_id = $1 and id in (
           select distinct on (r.journey_id, r.trigger_key) r.id from kokyaku.journey_runs r
           where r.tenant_id = $1 and r.customer_id = any(kokyaku.json_bigints($3::jsonb))
             and not exists (select 1 from kokyaku.journey_runs s where s.tenant_id = r.tenant_id and s.journey_id = r.journey_id and s.customer_id = $2::bigint and s.trigger_key = r.trigger_key)
           order by r.journey_id, r.trigger_key, r.started_at, r.id)`,
        [ctx.tenantId, survivorId, JSON.stringify(mergedIds)],
      );
    },
    customerErased: async (ctx, customerId) => {
      // Messages keep their times and statuses (the journey figures stay right), not their words or
      // addresses; journeys under way stop, and what a manual start passed in goes.
      const p = [ctx.tenantId, customerId];
      await sql(
        ctx.em,
        `update kokyaku.messages set recipient = null, subject = case when subject is null then null else '(erased)' end, body = '(erased)', links = '[]'
         where tenant_id = $1 and customer_id = $2::bigint`,
        p,
      );
      await sql(
        ctx.em,
        `update kokyaku.journey_runs set context = context - 'data',
           status = case when status in ('ACTIVE', 'WAITING') then 'CANCELLED' else status end,
           error = case when status in ('ACTIVE', 'WAITING') then 'The customer was erased.' else error end,
           finished_at = coalesce(finished_at, now())
         where tenant_id = $1 and customer_id = $2::bigint`,
        p,
      );
    },
    exportCustomer: async (ctx, customerId) => {
      const p = [ctx.tenantId, customerId];
      return {
        journeyRuns: await sqlValue(
          ctx.em,
          `select coalesce(jsonb_agg(jsonb_build_object('journey', j.name, 'status', r.status, 'step', r.step_id, 'startedAt', r.started_at, 'finishedAt', r.finished_at) order by r.id), '[]') as v
           from kokyaku.journey_runs r join kokyaku.journeys j on j.tenant_id = r.tenant_id and j.id = r.journey_id where r.tenant_id = $1 and r.customer_id = $2::bigint`,
          p,
        ),
        messages: await sqlValue(
          ctx.em,
          `select coalesce(jsonb_agg(to_jsonb(m) - 'token' - 'idempotency_key' || jsonb_build_object('clicks', (select count(*) from kokyaku.message_clicks k where k.tenant_id = m.tenant_id and k.message_id = m.id))
                   order by m.id), '[]') as v
           from kokyaku.messages m where m.tenant_id = $1 and m.customer_id = $2::bigint`,
          p,
        ),
      };
    },
  },
});
