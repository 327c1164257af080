import { defineModule } from '../module/module.js';
import { sqlValue } from '../shared/sql.js';
import type { SegmentService } from './segment.service.js';

/**
 * Saved segments, their members and the history of who entered and left. Members follow every
 * change of the customers' figures, in the change's transaction.
 */
export const segmentsModule = defineModule<{ segments: SegmentService }>({
  name: 'segments',
  tenantTables: ['segment_changes', 'segment_members', 'segments'],
  customerTables: [
    { table: 'segment_members', merge: 'custom', erase: 'custom', export: 'custom' },
    { table: 'segment_changes', merge: 'custom', erase: 'custom', export: 'custom' },
  ],
  timeline: [
    {
      kind: 'SEGMENT_ENTERED',
      at: 'sc.occurred_at',
      id: 'sc.id',
      select: `null::text as actor_id, sc.customer_id,
        jsonb_build_object('segmentId', sc.segment_id::text, 'segment', s.name) as data`,
      from: 'kokyaku.segment_changes sc left join kokyaku.segments s on s.tenant_id = sc.tenant_id and s.id = sc.segment_id',
      where: ({ who }) => `sc.tenant_id = $1 and sc.change = 'ENTERED' and ${who('sc.customer_id')}`,
      present: (d) => ({ summary: `Entered segment ${d.segment ?? d.segmentId}` }),
    },
    {
      kind: 'SEGMENT_LEFT',
      at: 'sc.occurred_at',
      id: 'sc.id',
      select: `null::text as actor_id, sc.customer_id,
        jsonb_build_object('segmentId', sc.segment_id::text, 'segment', s.name) as data`,
      from: 'kokyaku.segment_changes sc left join kokyaku.segments s on s.tenant_id = sc.tenant_id and s.id = sc.segment_id',
      where: ({ who }) => `sc.tenant_id = $1 and sc.change = 'LEFT' and ${who('sc.customer_id')}`,
      present: (d) => ({ summary: `Left segment ${d.segment ?? d.segmentId}` }),
    },
  ],
  hooks: {
    customersChanged: async (ctx, { customerIds }, kokyaku) => {
      await kokyaku.segments.reevaluate(ctx, customerIds);
    },
    eventsTracked: async (ctx, { customerIds, newCustomerIds }, kokyaku) => {
      // Events change no order figure: only the segments reading events or scores can move.
      const created = new Set(newCustomerIds);
      await kokyaku.segments.reevaluate(
        ctx,
        customerIds.filter((id) => !created.has(id)),
        { onlyReadingActivity: true },
      );
    },
    inquiryActivity: async (ctx, { customerIds }, kokyaku) => {
      await kokyaku.segments.reevaluate(ctx, customerIds, { onlyReadingActivity: true });
    },
    emailsStored: async (ctx, { messages }, kokyaku) => {
      await kokyaku.segments.reevaluate(ctx, [...new Set(messages.flatMap((m) => m.customerIds))], { onlyReadingActivity: true });
    },
    exportCustomer: async (ctx, customerId) => {
      const p = [ctx.tenantId, customerId];
      return {
        segments: await sqlValue(
          ctx.em,
          `select coalesce(jsonb_agg(jsonb_build_object('segment', s.name, 'enteredAt', m.entered_at) order by s.name), '[]') as v
           from kokyaku.segment_members m join kokyaku.segments s on s.tenant_id = m.tenant_id and s.id = m.segment_id where m.tenant_id = $1 and m.customer_id = $2::bigint`,
          p,
        ),
        segmentHistory: await sqlValue(
          ctx.em,
          `select coalesce(jsonb_agg(jsonb_build_object('segment', s.name, 'change', c.change, 'at', c.occurred_at) order by c.id), '[]') as v
           from kokyaku.segment_changes c join kokyaku.segments s on s.tenant_id = c.tenant_id and s.id = c.segment_id where c.tenant_id = $1 and c.customer_id = $2::bigint`,
          p,
        ),
      };
    },
    refresh: async (ctx, run, kokyaku) => {
      const moved = await run.step('segments', () => kokyaku.segments.reevaluate(ctx, null));
      run.count('segmentChanges', moved ? moved.entered + moved.left : 0);
    },
  },
});
