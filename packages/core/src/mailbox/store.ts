import type { CustomerService } from '../customers/customer.service.js';
import type { InquiryService } from '../crm/inquiries.js';
import type { HookDispatcher } from '../module/hooks.js';
import type { StoredEmail } from '../module/module.js';
import type { KokyakuContext } from '../shared/context.js';
import { sql, sqlOne } from '../shared/sql.js';
import type { ParsedMessage } from './parse.js';

/** What storing needs of a connection. */
export interface StoringConnection {
  id: string | null;
  /** The shop's own address: mail from it was sent, mail to it received; it is no customer's. */
  address: string;
  /** Addresses (`a@b.jp`) and domains (`b.jp`, `@b.jp`) whose mail is never stored. */
  excluded: readonly string[];
  openInquiries: boolean;
}

export interface StoreDeps {
  customers: CustomerService;
  inquiries: InquiryService;
  hooks: HookDispatcher;
}

export interface StoreResult {
  stored: number;
  /** To or from no customer (or excluded, or a bounce): counted, not kept. */
  unmatched: number;
  /** Seen before (the same Message-ID in another folder, or sent from Kokyaku). */
  duplicates: number;
}

function excludedBy(excluded: readonly string[]): (address: string) => boolean {
  const rules = excluded.map((e) => e.trim().toLowerCase().replace(/^@/, '')).filter(Boolean);
  return (address) => rules.some((r) => (r.includes('@') ? address === r : address.endsWith(`@${r}`)));
}

/**
 * Stores a batch of parsed messages in the caller's transaction: each message once per shop (by
 * Message-ID), linked to every customer among its sender and recipients; mail to or from no
 * customer is only counted. A customer's reply to a message of an inquiry joins its thread; a
 * first mail can open one (the connection's setting). Then `emailsStored` for every module.
 */
export async function storeMessages(ctx: KokyakuContext, deps: StoreDeps, connection: StoringConnection, messages: readonly ParsedMessage[]): Promise<StoreResult> {
  const result: StoreResult = { stored: 0, unmatched: 0, duplicates: 0 };
  const own = connection.address.trim().toLowerCase();
  const isExcluded = excludedBy(connection.excluded);
  const people = (m: ParsedMessage) => [...new Set([...(m.from ? [m.from.address] : []), ...m.to, ...m.cc])].filter((a) => a !== own && !isExcluded(a));
  const owners = await deps.customers.idsByEmails(ctx, [...new Set(messages.flatMap(people))]);
  const stored: StoredEmail[] = [];
  for (const m of messages) {
    const customerIds = [...new Set(people(m).flatMap((a) => owners.get(a) ?? []))];
    if (m.automatic || customerIds.length === 0 || (m.from && isExcluded(m.from.address))) {
      result.unmatched++;
      continue;
    }
    const direction = m.from?.address === own ? 'SENT' : 'RECEIVED';
    const row = await insertMessage(ctx, connection.id, m, direction, customerIds);
    if (!row) {
      result.duplicates++;
      continue;
    }
    result.stored++;
    const senderId = direction === 'RECEIVED' && m.from ? (owners.get(m.from.address)?.[0] ?? null) : null;
    const inquiryId = senderId ? await thread(ctx, deps, connection, row, m, senderId) : null;
    stored.push({ id: row, direction, customerIds, senderId, inquiryId, sentAt: m.sentAt });
  }
  if (stored.length > 0) await deps.hooks.emailsStored(ctx, stored);
  return result;
}

async function insertMessage(
  ctx: KokyakuContext,
  connectionId: string | null,
  m: ParsedMessage,
  direction: 'RECEIVED' | 'SENT',
  customerIds: readonly string[],
): Promise<string | null> {
  const row = await sqlOne<{ id: string }>(
    ctx.em,
    `insert into kokyaku.mail_messages (tenant_id, connection_id, message_id, direction, from_address, from_name, to_addresses, cc_addresses,
                                        subject, snippet, body_text, body_html, sent_at, in_reply_to, refs)
     values ($1, $2::bigint, $3, $4, $5, $6, kokyaku.json_texts($7::jsonb), kokyaku.json_texts($8::jsonb), $9, $10, $11, $12, $13, $14, kokyaku.json_texts($15::jsonb))
     on conflict (tenant_id, message_id) do nothing
     returning id::text as id`,
    [
      ctx.tenantId,
      connectionId,
      m.messageId,
      direction,
      m.from?.address ?? null,
      m.from?.name ?? null,
      JSON.stringify(m.to),
      JSON.stringify(m.cc),
      m.subject,
      m.snippet,
      m.text,
      m.html,
      m.sentAt,
      m.inReplyTo,
      JSON.stringify(m.references),
    ],
  );
  if (!row) return null;
  await sql(
    ctx.em,
    `insert into kokyaku.mail_message_customers (tenant_id, message_id, customer_id, direction, sent_at)
     select $1, $2::bigint, c, $3, $4 from unnest(kokyaku.json_bigints($5::jsonb)) c on conflict do nothing`,
    [ctx.tenantId, row.id, direction, m.sentAt, JSON.stringify(customerIds)],
  );
  return row.id;
}

/**
 * The inquiry a customer's mail belongs to: the one of the message it answers (In-Reply-To,
 * References), when it is the customer's; else a new one, when the connection opens inquiries
 * and the customer has no earlier mail in that thread. The message joins its thread.
 */
async function thread(ctx: KokyakuContext, deps: StoreDeps, connection: StoringConnection, rowId: string, m: ParsedMessage, senderId: string): Promise<string | null> {
  const answered = [...new Set([...(m.inReplyTo ? [m.inReplyTo] : []), ...m.references])];
  const earlier =
    answered.length > 0
      ? await sqlOne<{ inquiry_id: string | null }>(
          ctx.em,
          `select m.inquiry_id::text as inquiry_id from kokyaku.mail_messages m
           join kokyaku.mail_message_customers mc on mc.message_id = m.id and mc.customer_id = $3::bigint
           where m.tenant_id = $1 and m.message_id = any(kokyaku.json_texts($2::jsonb))
           order by m.inquiry_id is null, m.sent_at desc limit 1`,
          [ctx.tenantId, JSON.stringify(answered), senderId],
        )
      : null;
  let inquiryId = earlier?.inquiry_id ?? null;
  const body = m.text ?? m.subject ?? '(no text)';
  if (inquiryId) {
    await deps.inquiries.reply(ctx, inquiryId, { body, direction: 'INBOUND', at: m.sentAt });
  } else if (!earlier && connection.openInquiries) {
    const opened = await deps.inquiries.open(ctx, { customerId: senderId, channel: 'EMAIL', subject: m.subject?.trim() || '(no subject)', body, openedAt: m.sentAt });
    inquiryId = opened.id;
  }
  if (inquiryId) await sql(ctx.em, `update kokyaku.mail_messages set inquiry_id = $3::bigint where tenant_id = $1 and id = $2::bigint`, [ctx.tenantId, rowId, inquiryId]);
  return inquiryId;
}
