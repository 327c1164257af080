import { createHash } from 'node:crypto';
import { type AddressObject, simpleParser } from 'mailparser';
import sanitizeHtml from 'sanitize-html';

/** One message as Kokyaku keeps it: who, when, what about, the body (HTML sanitised), the thread. */
export interface ParsedMessage {
  messageId: string;
  from: { address: string; name: string | null } | null;
  to: string[];
  cc: string[];
  subject: string | null;
  snippet: string | null;
  text: string | null;
  html: string | null;
  sentAt: Date;
  inReplyTo: string | null;
  references: string[];
  /** A bounce, an auto-reply or another machine's report: never a customer's mail. */
  automatic: boolean;
}

const addresses = (field: AddressObject | AddressObject[] | undefined): string[] =>
  (Array.isArray(field) ? field : field ? [field] : [])
    .flatMap((o) => o.value.flatMap((v) => (v.group ? v.group : [v])))
    .map((v) => v.address?.trim().toLowerCase() ?? '')
    .filter((a) => a.includes('@'));

/** What staff may see of a message's HTML: text formatting and links, no scripts, styles, forms or remote images. */
export function sanitize(html: string): string {
  return sanitizeHtml(html, {
    allowedTags: sanitizeHtml.defaults.allowedTags.filter((t) => t !== 'img'),
    allowedSchemes: ['http', 'https', 'mailto'],
    transformTags: { a: sanitizeHtml.simpleTransform('a', { rel: 'noopener noreferrer nofollow', target: '_blank' }) },
  });
}

const SNIPPET = 200;

/** Parses a raw message (RFC 5322). A message without a Message-ID gets one from its content, the same every time. */
export async function parseMessage(source: Buffer, fallbackDate: Date | null): Promise<ParsedMessage> {
  const mail = await simpleParser(source, { skipImageLinks: true, skipTextToHtml: true, skipTextLinks: true });
  const text = mail.text?.trim() || (mail.html ? sanitizeHtml(mail.html, { allowedTags: [], allowedAttributes: {} }).trim() : '') || null;
  const from = addresses(mail.from)[0];
  const autoSubmitted = String(mail.headers.get('auto-submitted') ?? 'no').toLowerCase();
  const contentType = mail.headers.get('content-type') as { value?: string } | undefined;
  const references = (Array.isArray(mail.references) ? mail.references : mail.references ? [mail.references] : []).map(String);
  return {
    messageId: mail.messageId?.trim() || `<${createHash('sha256').update(source).digest('hex')}@kokyaku.invalid>`,
    from: from ? { address: from, name: mail.from?.value[0]?.name || null } : null,
    to: addresses(mail.to),
    cc: addresses(mail.cc),
    subject: mail.subject ?? null,
    snippet: text ? text.replace(/\s+/g, ' ').slice(0, SNIPPET) : null,
    text,
    html: typeof mail.html === 'string' ? sanitize(mail.html) : null,
    sentAt: mail.date ?? fallbackDate ?? new Date(),
    inReplyTo: mail.inReplyTo?.trim() || null,
    references,
    automatic: autoSubmitted !== 'no' || contentType?.value?.toLowerCase() === 'multipart/report' || /^(mailer-daemon|postmaster)@/i.test(from ?? ''),
  };
}
