import { defineModule } from '../module/module.js';
import type { SegmentFunction } from '../module/segment-language.js';
import { sql, sqlValue } from '../shared/sql.js';
import { truncate } from '../shared/text.js';
import type { MailboxService } from './mailbox.service.js';

/** `emails MATCHES (direction = 'received', date > -30d, count >= 1)`: the customer's mail (`r`, one row per message and customer). */
const EMAIL_FUNCTIONS: readonly SegmentFunction[] = [
  {
    name: 'emails',
    description: 'Mail to or from the customer (mailbox sync and mail sent from Kokyaku).',
    example: "emails MATCHES (direction = 'received', date > -30d, count >= 1)",
    table: 'kokyaku.mail_message_customers',
    filters: [
      { name: 'direction', type: 'text', column: 'direction', description: "'received' or 'sent'", match: (v) => `(r.direction = upper(${v}))` },
      { name: 'date', type: 'timestamp', column: 'sent_at', description: 'when it was sent' },
    ],
    count: { description: 'number of matching messages (default >= 1)' },
    activity: true,
  },
];

const entry = (direction: 'RECEIVED' | 'SENT') => ({
  kind: direction === 'RECEIVED' ? 'EMAIL_RECEIVED' : 'EMAIL_SENT',
  at: 'mc.sent_at',
  id: 'mc.message_id',
  select: `m.sent_by as actor_id, mc.customer_id,
    jsonb_build_object('emailId', m.id::text, 'subject', m.subject, 'snippet', m.snippet, 'from', m.from_address, 'to', to_jsonb(m.to_addresses),
                       'inquiryId', m.inquiry_id::text) as data`,
  from: 'kokyaku.mail_message_customers mc join kokyaku.mail_messages m on m.tenant_id = mc.tenant_id and m.id = mc.message_id',
  where: ({ who }: { who: (column: string) => string }) => `mc.tenant_id = $1 and mc.direction = '${direction}' and ${who('mc.customer_id')}`,
  present: (d: Record<string, unknown>) => ({
    summary: `${direction === 'RECEIVED' ? 'Email from' : 'Email to'} ${direction === 'RECEIVED' ? d.from : ((d.to as string[]) ?? []).join(', ')}: ${truncate(String(d.subject ?? '(no subject)'), 120)}`,
  }),
});

/**
 * Mailbox sync: the shop's accounts, how far each folder is read, and the mail to or from
 * customers. Mail is personal data: an erasure deletes every message of the customer, the data
 * export lists them with their bodies, and reading a body is audited (docs/mailbox.md).
 */
export const mailboxModule = defineModule<{ mailbox: MailboxService }>({
  name: 'mailbox',
  tenantTables: ['mail_message_customers', 'mail_messages', 'mail_folders', 'mail_connections'],
  customerTables: [{ table: 'mail_message_customers', merge: 'custom', erase: 'custom', export: 'custom' }],
  segmentFunctions: EMAIL_FUNCTIONS,
  timeline: [entry('RECEIVED'), entry('SENT')],
  hooks: {
    customerMerged: async (ctx, { survivorId, mergedIds }) => {
      // A message of both customers stays once, the survivor's.
      await sql(
        ctx.em,
        `with moved as (
           delete from kokyaku.mail_message_customers where tenant_id = $1 and customer_id = any(kokyaku.json_bigints($3::jsonb))
           returning message_id, direction, sent_at
         )
         insert into kokyaku.mail_message_customers (tenant_id, message_id, customer_id, direction, sent_at)
         select distinct $1, message_id, $2::bigint, direction, sent_at from moved on conflict do nothing`,
        [ctx.tenantId, survivorId, JSON.stringify(mergedIds)],
      );
    },
    customerErased: async (ctx, customerId) => {
      // Every message of the customer goes whole (its addresses, subject and body are theirs too).
      await sql(
        ctx.em,
        `delete from kokyaku.mail_messages m where m.tenant_id = $1
           and m.id in (select message_id from kokyaku.mail_message_customers where tenant_id = $1 and customer_id = $2::bigint)`,
        [ctx.tenantId, customerId],
      );
    },
    exportCustomer: async (ctx, customerId) => ({
      emails: await sqlValue(
        ctx.em,
        `select coalesce(jsonb_agg(jsonb_build_object('direction', m.direction, 'from', m.from_address, 'to', m.to_addresses, 'cc', m.cc_addresses,
                  'subject', m.subject, 'sentAt', m.sent_at, 'text', m.body_text, 'html', m.body_html, 'messageId', m.message_id) order by m.sent_at), '[]') as v
         from kokyaku.mail_message_customers mc join kokyaku.mail_messages m on m.tenant_id = mc.tenant_id and m.id = mc.message_id
         where mc.tenant_id = $1 and mc.customer_id = $2::bigint`,
        [ctx.tenantId, customerId],
      ),
    }),
  },
});
