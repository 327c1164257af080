import { defineModule } from '../module/module.js';
import { truncate } from '../shared/text.js';
import { sql, sqlValue } from '../shared/sql.js';
import type { ScoringService } from './scoring.js';
import { LEAD_SCORE_ATTRIBUTES } from './segment-language.js';
import { TASK_STEP } from './steps.js';

/**
 * Companies and contacts, pipelines and deals, notes, tasks and inquiries. Free text staff wrote
 * about a customer, or the customer wrote, is personal data: an erasure deletes notes and contacts
 * and blanks inquiries and tasks (their times stay, so the response figures stay right).
 */
export const crmModule = defineModule({
  name: 'crm',
  tenantTables: ['deal_orders', 'deal_stage_history', 'inquiry_messages', 'inquiries', 'tasks', 'notes', 'deals', 'pipeline_stages', 'pipelines', 'company_contacts', 'companies'],
  // Journeys start on an opened inquiry (its kind and time).
  published: ['inquiries'],
  customerTables: [
    { table: 'company_contacts', merge: 'custom', export: 'custom' },
    { table: 'notes', export: 'custom' },
    { table: 'tasks', erase: 'custom', export: 'custom' },
    { table: 'inquiries', erase: 'custom', export: 'custom' },
    { table: 'deals', erase: 'custom', export: 'custom' },
  ],
  automationSteps: [TASK_STEP],
  timeline: [
    {
      kind: 'INQUIRY',
      at: 'i.opened_at',
      id: 'i.id',
      select: `i.created_by as actor_id, i.customer_id,
        jsonb_build_object('kind', i.kind, 'subject', i.subject, 'channel', i.channel, 'status', i.status, 'category', i.category) as data`,
      from: 'kokyaku.inquiries i',
      where: ({ who }) => `i.tenant_id = $1 and ${who('i.customer_id')}`,
      present: (d) => ({ summary: `${d.kind === 'COMPLAINT' ? 'Complaint' : 'Inquiry'} by ${String(d.channel).toLowerCase()}: ${d.subject} (${d.status})` }),
    },
    {
      kind: 'NOTE',
      at: 'n.created_at',
      id: 'n.id',
      select: `n.author_id as actor_id, n.customer_id,
        jsonb_build_object('body', n.body, 'pinned', n.pinned, 'companyId', n.company_id::text, 'dealId', n.deal_id::text) as data`,
      from: 'kokyaku.notes n',
      where: ({ whoOrCompany }) => `n.tenant_id = $1 and ${whoOrCompany('n.customer_id', 'n.company_id')}`,
      present: (d) => ({ summary: `${d.pinned ? 'Pinned note' : 'Note'}: ${truncate(String(d.body), 120)}` }),
    },
    {
      kind: 'TASK',
      at: 't.created_at',
      id: 't.id',
      select: `t.created_by as actor_id, t.customer_id,
        jsonb_build_object('title', t.title, 'status', t.status, 'priority', t.priority, 'assigneeId', t.assignee_id, 'dueAt', t.due_at) as data`,
      from: 'kokyaku.tasks t',
      where: ({ whoOrCompany }) => `t.tenant_id = $1 and ${whoOrCompany('t.customer_id', 't.company_id')}`,
      present: (d) => ({ summary: `Task: ${d.title} (${d.status})` }),
    },
    {
      kind: 'DEAL_STAGE',
      at: 'h.moved_at',
      id: 'h.id',
      select: `h.actor_id, d.customer_id,
        jsonb_build_object('dealId', d.id::text, 'title', d.title, 'fromStage', fs.name, 'toStage', ts.name, 'outcome', ts.outcome) as data`,
      from: `kokyaku.deal_stage_history h join kokyaku.deals d on d.tenant_id = h.tenant_id and d.id = h.deal_id
         join kokyaku.pipeline_stages ts on ts.tenant_id = h.tenant_id and ts.id = h.to_stage_id
         left join kokyaku.pipeline_stages fs on fs.tenant_id = h.tenant_id and fs.id = h.from_stage_id`,
      where: ({ whoOrCompany }) => `h.tenant_id = $1 and ${whoOrCompany('d.customer_id', 'd.company_id')}`,
      present: (d) => ({ summary: d.fromStage ? `Deal ${d.title} moved from ${d.fromStage} to ${d.toStage}` : `Deal ${d.title} created in ${d.toStage}` }),
    },
  ],
  hooks: {
    customerMerged: async (ctx, { survivorId, mergedIds }) => {
      // Their companies become the survivor's (title and role kept where the survivor had none).
      await sql(
        ctx.em,
        `insert into kokyaku.company_contacts (tenant_id, company_id, customer_id, title, role, created_at)
         select distinct on (company_id) $1, company_id, $2::bigint, title, role, created_at from kokyaku.company_contacts
         where tenant_id = $1 and customer_id = any(kokyaku.json_bigints($3::jsonb)) order by company_id, created_at
         on conflict (company_id, customer_id, tenant_id) do nothing`,
        [ctx.tenantId, survivorId, JSON.stringify(mergedIds)],
      );
    },
    customerErased: async (ctx, customerId) => {
      const p = [ctx.tenantId, customerId];
      await sql(
        ctx.em,
        `update kokyaku.inquiry_messages set body = '(erased)' where tenant_id = $1 and inquiry_id in (select id from kokyaku.inquiries where tenant_id = $1 and customer_id = $2::bigint)`,
        p,
      );
      await sql(ctx.em, `update kokyaku.inquiries set subject = '(erased)', category = null where tenant_id = $1 and customer_id = $2::bigint`, p);
      await sql(ctx.em, `update kokyaku.tasks set title = '(erased)', description = null where tenant_id = $1 and customer_id = $2::bigint`, p);
    },
    exportCustomer: async (ctx, customerId) => {
      const one = (text: string) => sqlValue(ctx.em, text, [ctx.tenantId, customerId]);
      return {
        companies: await one(
          `select coalesce(jsonb_agg(jsonb_build_object('company', co.name, 'title', ct.title, 'role', ct.role, 'since', ct.created_at) order by co.name), '[]') as v
           from kokyaku.company_contacts ct join kokyaku.companies co on co.tenant_id = ct.tenant_id and co.id = ct.company_id where ct.tenant_id = $1 and ct.customer_id = $2::bigint`,
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
      };
    },
  },
});

/**
 * Lead scoring: the shop's rules and settings and each customer's score. It reacts after the
 * plugins (whose attributes rules may read) and before segments (which may read the score).
 */
export const scoringModule = defineModule<{ scoring: ScoringService }>({
  name: 'scoring',
  tenantTables: ['lead_scores', 'scoring_settings', 'scoring_rules'],
  customerTables: [{ table: 'lead_scores', merge: 'custom', erase: 'custom', export: 'custom' }],
  segmentAttributes: LEAD_SCORE_ATTRIBUTES,
  hooks: {
    customersChanged: async (ctx, { customerIds }, kokyaku) => {
      await kokyaku.scoring.score(ctx, customerIds);
    },
    eventsTracked: async (ctx, { customerIds, newCustomerIds, types }, kokyaku) => {
      // New placeholders were scored with customersChanged; the others only for what events change.
      const created = new Set(newCustomerIds);
      await kokyaku.scoring.scoreAfterEvents(
        ctx,
        customerIds.filter((id) => !created.has(id)),
        types,
      );
    },
    inquiryActivity: async (ctx, { customerIds }, kokyaku) => {
      await kokyaku.scoring.score(ctx, customerIds);
    },
    exportCustomer: async (ctx, customerId) => ({
      leadScore: await sqlValue(ctx.em, `select to_jsonb(l) as v from kokyaku.lead_scores l where tenant_id = $1 and customer_id = $2::bigint`, [ctx.tenantId, customerId]),
    }),
    refresh: async (ctx, run, kokyaku) => {
      await run.step('lead scores', () => kokyaku.scoring.score(ctx, null, { now: run.requestedNow }));
    },
  },
});
