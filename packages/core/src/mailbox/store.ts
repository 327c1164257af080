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
  const kept: { m: ParsedMessage; direction: 'RECEIVED' | 'SENT'; customerIds: string[] }[] = [];
  for (const m of messages) {
    const customerIds = [...new Set(people(m).flatMap((a) => owners.get(a) ?? []))];
    if (m.automatic || customerIds.length === 0 || (m.from && isExcluded(m.from.address))) result.unmatched++;
    else kept.push({ m, direction: m.from?.address === own ? 'SENT' : 'RECEIVED', customerIds });
  }
  const ids = await insertMessages(ctx, connection.id, kept);
  const stored: StoredEmail[] = [];
  for (const { m, direction, customerIds } of kept) {
    const row = ids.get(m.messageId);
    if (!row || stored.some((s) => s.id === row)) {
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

/**
 * The new messages in one statement and their customers in another (a chunk is two round trips,
 * not two per message). Returns the id of each message stored now, by Message-ID; one stored
 * before is left as it is and not returned.
 */
async function insertMessages(
  ctx: KokyakuContext,
  connectionId: string | null,
  kept: readonly { m: ParsedMessage; direction: 'RECEIVED' | 'SENT'; customerIds: readonly string[] }[],
): Promise<Map<string, string>> {
  if (kept.length === 0) return new Map();
  const rows = await sql<{ id: string; message_id: string }>(
    ctx.em,
    `insert into kokyaku.mail_messages (tenant_id, connection_id, message_id, direction, from_address, from_name, to_addresses, cc_addresses,
                                        subject, snippet, body_text, body_html, sent_at, in_reply_to, refs)
     select $1, $2::bigint, x.message_id, x.direction, x.from_address, x.from_name,
            array(select jsonb_array_elements_text(x.to_addresses)), array(select jsonb_array_elements_text(x.cc_addresses)),
            x.subject, x.snippet, x.body_text, x.body_html, x.sent_at, x.in_reply_to, array(select jsonb_array_elements_text(x.refs))
     from jsonb_to_recordset($3::jsonb) as x(i int, message_id text, direction text, from_address text, from_name text, to_addresses jsonb, cc_addresses jsonb,
                                              subject text, snippet text, body_text text, body_html text, sent_at timestamptz, in_reply_to text, refs jsonb)
     order by x.i
     on conflict (tenant_id, message_id) do nothing
     returning id::text as id, message_id`,
    [
      ctx.tenantId,
      connectionId,
      JSON.stringify(
        kept.map(({ m, direction }, i) => ({
          i,
          message_id: m.messageId,
          direction,
          from_address: m.from?.address ?? null,
          from_name: m.from?.name ?? null,
          to_addresses: m.to,
          cc_addresses: m.cc,
          subject: m.subject,
          snippet: m.snippet,
          body_text: m.text,
          body_html: m.html,
          sent_at: m.sentAt,
          in_reply_to: m.inReplyTo,
          refs: m.references,
        })),
      ),
    ],
  );
  const ids = new Map(rows.map((r) => [r.message_id, r.id]));
  const links = kept.flatMap(({ m, direction, customerIds }) => {
    const id = ids.get(m.messageId);
    return id ? customerIds.map((customer_id) => ({ message_id: id, customer_id, direction, sent_at: m.sentAt })) : [];
  });
  if (links.length > 0) {
    await sql(
      ctx.em,
      `insert into kokyaku.mail_message_customers (tenant_id, message_id, customer_id, direction, sent_at)
       select $1, x.message_id, x.customer_id, x.direction, x.sent_at
       from jsonb_to_recordset($2::jsonb) as x(message_id bigint, customer_id bigint, direction text, sent_at timestamptz)
       on conflict do nothing`,
      [ctx.tenantId, JSON.stringify(links)],
    );
  }
  return ids;
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
           join kokyaku.mail_message_customers mc on mc.tenant_id = m.tenant_id and mc.message_id = m.id and mc.customer_id = $3::bigint
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
