import { randomUUID } from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import nodemailer from 'nodemailer';
import { z } from 'zod';
import type { CustomerService } from '../customers/customer.service.js';
import type { InquiryService } from '../crm/inquiries.js';
import type { HookDispatcher } from '../module/hooks.js';
import type { KokyakuContext } from '../shared/context.js';
import { KokyakuError } from '../shared/errors.js';
import { decodeCursor, keysetPage, type Page, type PageArgs, pageSize } from '../shared/pagination.js';
import { unique } from '../shared/pg-errors.js';
import { asDate, sql, sqlOne, transaction } from '../shared/sql.js';
import { isId, parseInput } from '../shared/validation.js';
import type { MailboxConfig } from './config.js';
import { type ConnectionRow, connectImap, credentials } from './imap.js';
import { parseMessage } from './parse.js';
import { mailKey, seal } from './secrets.js';
import { storeMessages } from './store.js';
import { type SyncResult, syncMailbox } from './sync.js';

export type MailboxAuth = 'PASSWORD' | 'OAUTH2';
export type MailboxStatus = 'ACTIVE' | 'ERROR' | 'PAUSED';

/** A mailbox as the API shows it: never its secret. */
export interface MailboxRecord {
  id: string;
  name: string;
  address: string;
  host: string;
  port: number;
  secure: boolean;
  username: string;
  auth: MailboxAuth;
  folders: string[];
  smtpHost: string | null;
  smtpPort: number | null;
  smtpSecure: boolean;
  initialDays: number;
  openInquiries: boolean;
  excluded: string[];
  status: MailboxStatus;
  errorCode: string | null;
  errorMessage: string | null;
  errorAt: Date | null;
  lastSyncedAt: Date | null;
  storedMessages: number;
  unmatchedMessages: number;
  createdAt: Date;
}

export interface MailboxInput {
  name: string;
  /** The shop's address of this account (mail from it was sent by staff). */
  address: string;
  host: string;
  port?: number | null;
  secure?: boolean | null;
  username: string;
  auth?: MailboxAuth | null;
  /** For PASSWORD: stored encrypted, never returned. */
  password?: string | null;
  folders?: string[] | null;
  smtpHost?: string | null;
  smtpPort?: number | null;
  smtpSecure?: boolean | null;
  initialDays?: number | null;
  openInquiries?: boolean | null;
  excluded?: string[] | null;
  paused?: boolean | null;
}

export interface EmailMessageRecord {
  id: string;
  mailboxId: string | null;
  messageId: string;
  direction: 'RECEIVED' | 'SENT';
  from: string | null;
  fromName: string | null;
  to: string[];
  cc: string[];
  subject: string | null;
  snippet: string | null;
  sentAt: Date;
  inquiryId: string | null;
  customerIds: string[];
}

export interface EmailBody {
  text: string | null;
  /** Sanitised: no scripts, styles, forms or remote images. */
  html: string | null;
}

export interface SendEmailInput {
  mailboxId: string;
  customerId: string;
  subject: string;
  text: string;
  html?: string | null;
  /** The inquiry this answers: the mail joins its thread, and the customer's reply will too. */
  inquiryId?: string | null;
}

const host = z
  .string()
  .trim()
  .min(1)
  .max(255)
  .regex(/^[A-Za-z0-9.-]+$|^\[[0-9a-fA-F:.]+\]$/, 'A host name or address.');
const email = z.string().trim().toLowerCase().email('An email address.').max(320);
const inputSchema = z.strictObject({
  name: z.string().trim().min(1).max(100),
  address: email,
  host,
  port: z.number().int().min(1).max(65535).nullish(),
  secure: z.boolean().nullish(),
  username: z.string().min(1).max(320),
  auth: z.enum(['PASSWORD', 'OAUTH2']).nullish(),
  password: z.string().min(1).max(1000).nullish(),
  folders: z.array(z.string().min(1).max(200)).min(1).max(20).nullish(),
  smtpHost: host.nullish(),
  smtpPort: z.number().int().min(1).max(65535).nullish(),
  smtpSecure: z.boolean().nullish(),
  initialDays: z.number().int().min(0).max(3650).nullish(),
  openInquiries: z.boolean().nullish(),
  excluded: z.array(z.string().trim().toLowerCase().min(1).max(320)).max(500).nullish(),
  paused: z.boolean().nullish(),
});
const sendSchema = z.strictObject({
  mailboxId: z.string().refine(isId, 'A mailbox id.'),
  customerId: z.string().refine(isId, 'A customer id.'),
  subject: z.string().trim().min(1).max(1000),
  text: z.string().min(1).max(100_000),
  html: z.string().max(500_000).nullish(),
  inquiryId: z.string().refine(isId, 'An inquiry id.').nullish(),
});

const COLUMNS = `c.id::text as id, c.name, c.address, c.host, c.port, c.secure, c.username, c.auth, c.folders, c.smtp_host, c.smtp_port, c.smtp_secure,
  c.initial_days, c.open_inquiries, c.excluded, c.status, c.error_code, c.error_message, c.error_at, c.last_synced_at, c.unmatched_count::float8 as unmatched,
  (select count(*)::float8 from kokyaku.mail_messages m where m.tenant_id = c.tenant_id and m.connection_id = c.id) as stored, c.created_at`;

type Row = Record<string, any>;
const mapRecord = (r: Row): MailboxRecord => ({
  id: r.id,
  name: r.name,
  address: r.address,
  host: r.host,
  port: r.port,
  secure: r.secure,
  username: r.username,
  auth: r.auth,
  folders: r.folders,
  smtpHost: r.smtp_host,
  smtpPort: r.smtp_port,
  smtpSecure: r.smtp_secure,
  initialDays: r.initial_days,
  openInquiries: r.open_inquiries,
  excluded: r.excluded,
  status: r.status,
  errorCode: r.error_code,
  errorMessage: r.error_message,
  errorAt: r.error_at ? asDate(r.error_at) : null,
  lastSyncedAt: r.last_synced_at ? asDate(r.last_synced_at) : null,
  storedMessages: r.stored,
  unmatchedMessages: r.unmatched,
  createdAt: asDate(r.created_at),
});

const MESSAGE_COLUMNS = `m.id::text as id, m.connection_id::text as mailbox_id, m.message_id, m.direction, m.from_address, m.from_name, m.to_addresses, m.cc_addresses,
  m.subject, m.snippet, m.sent_at, m.inquiry_id::text as inquiry_id,
  array(select mc2.customer_id::text from kokyaku.mail_message_customers mc2 where mc2.tenant_id = m.tenant_id and mc2.message_id = m.id order by mc2.customer_id) as customer_ids`;
const mapMessage = (r: Row): EmailMessageRecord => ({
  id: r.id,
  mailboxId: r.mailbox_id,
  messageId: r.message_id,
  direction: r.direction,
  from: r.from_address,
  fromName: r.from_name,
  to: r.to_addresses,
  cc: r.cc_addresses,
  subject: r.subject,
  snippet: r.snippet,
  sentAt: asDate(r.sent_at),
  inquiryId: r.inquiry_id,
  customerIds: r.customer_ids,
});

/**
 * Mailboxes of the shop (IMAP to read, SMTP to send) and the mail they hold about customers
 * (docs/mailbox.md). Secrets are sealed with `mailbox.encryptionKey` and never leave this class.
 */
export class MailboxService {
  constructor(
    private readonly config: MailboxConfig,
    private readonly customers: CustomerService,
    private readonly inquiries: InquiryService,
    private readonly hooks: HookDispatcher,
  ) {}

  async list(ctx: KokyakuContext): Promise<MailboxRecord[]> {
    return (await sql<Row>(ctx.em, `select ${COLUMNS} from kokyaku.mail_connections c where c.tenant_id = $1 order by c.name`, [ctx.tenantId])).map(mapRecord);
  }

  async get(ctx: KokyakuContext, id: string): Promise<MailboxRecord | null> {
    if (!isId(id)) return null;
    const row = await sqlOne<Row>(ctx.em, `select ${COLUMNS} from kokyaku.mail_connections c where c.tenant_id = $1 and c.id = $2::bigint`, [ctx.tenantId, id]);
    return row ? mapRecord(row) : null;
  }

  /** Connects a mailbox (nothing is read until the follower or `sync` runs). */
  async connect(ctx: KokyakuContext, input: MailboxInput): Promise<MailboxRecord> {
    const i = parseInput(inputSchema, input, 'mailbox');
    const auth = i.auth ?? 'PASSWORD';
    if (auth === 'PASSWORD' && !i.password) throw KokyakuError.badInput('password: Required for a mailbox with PASSWORD auth.', { field: 'password' });
    const secret = auth === 'PASSWORD' ? seal(mailKey(this.config.encryptionKey), i.password!) : null;
    const secure = i.secure ?? true;
    const row = await unique(
      () =>
        sqlOne<{ id: string }>(
          ctx.em,
          `insert into kokyaku.mail_connections (tenant_id, name, address, host, port, secure, username, auth, secret, folders, smtp_host, smtp_port, smtp_secure,
                                                  initial_days, open_inquiries, excluded, status)
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9, kokyaku.json_texts($10::jsonb), $11, $12, $13, $14, $15, kokyaku.json_texts($16::jsonb), $17)
           returning id::text as id`,
          [
            ctx.tenantId,
            i.name,
            i.address,
            i.host,
            i.port ?? (secure ? 993 : 143),
            secure,
            i.username,
            auth,
            secret,
            JSON.stringify(i.folders ?? ['INBOX', 'Sent']),
            i.smtpHost ?? null,
            i.smtpPort ?? null,
            i.smtpSecure ?? true,
            i.initialDays ?? 90,
            i.openInquiries ?? false,
            JSON.stringify(i.excluded ?? []),
            i.paused ? 'PAUSED' : 'ACTIVE',
          ],
        ),
      'name',
      `A mailbox named "${i.name}" exists already.`,
    );
    return (await this.get(ctx, row!.id))!;
  }

  /** Changes a mailbox: the fields given (a new password is sealed again; a new server reads the folders from the start). */
  async update(ctx: KokyakuContext, id: string, patch: Partial<MailboxInput>): Promise<MailboxRecord> {
    const current = await this.row(ctx, id);
    const i = parseInput(inputSchema.partial(), patch, 'mailbox');
    const secret = i.password ? seal(mailKey(this.config.encryptionKey), i.password) : undefined;
    const moved = (i.host !== undefined && i.host !== current.host) || (i.username !== undefined && i.username !== current.username);
    await transaction(ctx, async (em) => {
      await sql(
        em,
        `update kokyaku.mail_connections set
           name = coalesce($3, name), address = coalesce($4, address), host = coalesce($5, host), port = coalesce($6, port), secure = coalesce($7, secure),
           username = coalesce($8, username), auth = coalesce($9, auth), secret = coalesce($10, secret),
           folders = coalesce(kokyaku.json_texts($11::jsonb), folders), smtp_host = coalesce($12, smtp_host), smtp_port = coalesce($13, smtp_port),
           smtp_secure = coalesce($14, smtp_secure), initial_days = coalesce($15, initial_days), open_inquiries = coalesce($16, open_inquiries),
           excluded = coalesce(kokyaku.json_texts($17::jsonb), excluded),
           status = case when $18::boolean then 'PAUSED' when $18::boolean = false then 'ACTIVE' else status end,
           updated_at = now()
         where tenant_id = $1 and id = $2::bigint`,
        [
          ctx.tenantId,
          id,
          i.name ?? null,
          i.address ?? null,
          i.host ?? null,
          i.port ?? null,
          i.secure ?? null,
          i.username ?? null,
          i.auth ?? null,
          secret ?? null,
          i.folders ? JSON.stringify(i.folders) : null,
          i.smtpHost ?? null,
          i.smtpPort ?? null,
          i.smtpSecure ?? null,
          i.initialDays ?? null,
          i.openInquiries ?? null,
          i.excluded ? JSON.stringify(i.excluded) : null,
          i.paused ?? null,
        ],
      );
      if (moved) await sql(em, `delete from kokyaku.mail_folders where tenant_id = $1 and connection_id = $2::bigint`, [ctx.tenantId, id]);
    });
    return (await this.get(ctx, id))!;
  }

  /** Disconnects a mailbox. Its stored mail stays on the customers' timelines (`keepMessages: false` deletes it too). */
  async remove(ctx: KokyakuContext, id: string, options: { keepMessages?: boolean } = {}): Promise<boolean> {
    if (!isId(id)) return false;
    return transaction(ctx, async (em) => {
      if (options.keepMessages === false) await sql(em, `delete from kokyaku.mail_messages where tenant_id = $1 and connection_id = $2::bigint`, [ctx.tenantId, id]);
      const rows = await sql(em, `delete from kokyaku.mail_connections where tenant_id = $1 and id = $2::bigint returning id`, [ctx.tenantId, id]);
      return rows.length > 0;
    });
  }

  /** One sync pass now; a failure is reported on the mailbox (its code and message), not thrown. */
  async sync(
    ctx: KokyakuContext,
    id: string,
    options: { now?: Date; progress?: (folder: string, done: number, total: number) => void } = {},
  ): Promise<{ mailbox: MailboxRecord; result: SyncResult | null }> {
    const row = await this.row(ctx, id);
    let result: SyncResult | null = null;
    try {
      result = await syncMailbox(ctx, this.storeDeps(), row, options);
    } catch (error) {
      if (!(error as { mailErrorCode?: string }).mailErrorCode) throw error;
    }
    return { mailbox: (await this.get(ctx, id))!, result };
  }

  /** The mailbox's row with its sealed secret (for sync and sending; never returned by the API). */
  async row(ctx: KokyakuContext, id: string): Promise<ConnectionRow> {
    const row = isId(id)
      ? await sqlOne<ConnectionRow>(
          ctx.em,
          `select id::text as id, tenant_id, name, host, port, secure, username, auth, secret, folders, smtp_host, smtp_port, smtp_secure, address,
                  initial_days, open_inquiries, excluded
           from kokyaku.mail_connections where tenant_id = $1 and id = $2::bigint`,
          [ctx.tenantId, id],
        )
      : null;
    if (!row) throw KokyakuError.notFound('Mailbox', id);
    return row;
  }

  /** The last UID stored of a folder (null: never read). */
  async lastUid(ctx: KokyakuContext, id: string, path: string): Promise<number | null> {
    const row = await sqlOne<{ last_uid: string }>(ctx.em, `select last_uid::text from kokyaku.mail_folders where tenant_id = $1 and connection_id = $2::bigint and path = $3`, [
      ctx.tenantId,
      id,
      path,
    ]);
    return row ? Number(row.last_uid) : null;
  }

  storeDeps() {
    return { customers: this.customers, inquiries: this.inquiries, hooks: this.hooks, config: this.config };
  }

  /** The mail of a customer, newest first. */
  async messages(ctx: KokyakuContext, customerId: string, args: PageArgs = {}): Promise<Page<EmailMessageRecord>> {
    const first = pageSize(args.first);
    const [atText, idText] = args.after ? decodeCursor(args.after, 'm') : [null, null];
    if (!isId(customerId) || (idText !== null && !isId(idText ?? ''))) throw KokyakuError.invalidCursor(args.after ?? '');
    const rows = await sql<Row>(
      ctx.em,
      `select ${MESSAGE_COLUMNS} from kokyaku.mail_message_customers mc join kokyaku.mail_messages m on m.tenant_id = mc.tenant_id and m.id = mc.message_id
       where mc.tenant_id = $1 and mc.customer_id = $2::bigint and ($3::timestamptz is null or (mc.sent_at, mc.message_id) < ($3::timestamptz, $4::bigint))
       order by mc.sent_at desc, mc.message_id desc limit $5`,
      [ctx.tenantId, customerId, atText, idText, first + 1],
    );
    return keysetPage(rows, first, mapMessage, 'm', (m) => [m.sentAt.toISOString(), m.id]);
  }

  async message(ctx: KokyakuContext, id: string): Promise<EmailMessageRecord | null> {
    if (!isId(id)) return null;
    const row = await sqlOne<Row>(ctx.em, `select ${MESSAGE_COLUMNS} from kokyaku.mail_messages m where m.tenant_id = $1 and m.id = $2::bigint`, [ctx.tenantId, id]);
    return row ? mapMessage(row) : null;
  }

  /** A message's body (personal data: the server audits who reads it, and hides it from roles without contact data). */
  async body(ctx: KokyakuContext, id: string): Promise<EmailBody | null> {
    if (!isId(id)) return null;
    const row = await sqlOne<{ body_text: string | null; body_html: string | null }>(
      ctx.em,
      `select body_text, body_html from kokyaku.mail_messages where tenant_id = $1 and id = $2::bigint`,
      [ctx.tenantId, id],
    );
    return row ? { text: row.body_text, html: row.body_html } : null;
  }

  /**
   * Sends a mail to a customer from the mailbox's account (its SMTP server), records it once
   * (the Message-ID is Kokyaku's: the copy sync finds in Sent is the same message), adds it to the
   * inquiry's thread when it answers one, and appends it to the account's Sent folder.
   */
  async send(ctx: KokyakuContext, input: SendEmailInput): Promise<EmailMessageRecord> {
    const i = parseInput(sendSchema, input, 'email');
    const row = await this.row(ctx, i.mailboxId);
    if (!row.smtp_host) throw KokyakuError.badInput('mailboxId: This mailbox has no SMTP server (smtpHost).', { field: 'mailboxId' });
    const customer = await this.customers.findById(ctx, i.customerId);
    if (!customer) throw KokyakuError.notFound('Customer', i.customerId);
    if (!customer.email) throw KokyakuError.badInput('customerId: The customer has no email address.', { field: 'customerId' });
    const domain = row.address.split('@')[1] ?? 'kokyaku.invalid';
    const messageId = `<${randomUUID()}@${domain}>`;
    const references = i.inquiryId ? await this.threadOf(ctx, i.inquiryId) : [];
    const raw = await new MailComposer({
      from: row.address,
      to: customer.email,
      subject: i.subject,
      text: i.text,
      ...(i.html ? { html: i.html } : {}),
      messageId,
      date: new Date(),
      ...(references.length ? { inReplyTo: references[references.length - 1], references } : {}),
    })
      .compile()
      .build();
    const auth = await credentials(this.config, row);
    const transport = nodemailer.createTransport({
      host: row.smtp_host,
      port: row.smtp_port ?? (row.smtp_secure ? 465 : 587),
      secure: row.smtp_secure,
      auth: auth.accessToken ? { type: 'OAuth2', user: auth.user, accessToken: auth.accessToken } : { user: auth.user, pass: auth.pass! },
      connectionTimeout: this.config.timeoutSeconds * 1000,
      ...(this.config.tls ? { tls: this.config.tls } : {}),
    });
    try {
      await transport.sendMail({ envelope: { from: row.address, to: [customer.email] }, raw });
    } catch (error) {
      throw KokyakuError.badInput(`The mailbox's SMTP server refused the mail: ${String((error as Error).message).slice(0, 300)}`, { field: 'mailboxId' });
    } finally {
      transport.close();
    }
    const id = await transaction(ctx, async (em) => {
      const tx = { ...ctx, em };
      await storeMessages(
        tx,
        { customers: this.customers, inquiries: this.inquiries, hooks: this.hooks },
        { id: row.id, address: row.address, excluded: [], openInquiries: false },
        [{ ...(await parseMessage(raw, new Date())), messageId }],
      );
      const stored = await sqlOne<{ id: string }>(em, `select id::text as id from kokyaku.mail_messages where tenant_id = $1 and message_id = $2`, [ctx.tenantId, messageId]);
      await sql(em, `update kokyaku.mail_messages set sent_by = $3, inquiry_id = $4::bigint where tenant_id = $1 and id = $2::bigint`, [
        ctx.tenantId,
        stored!.id,
        ctx.actor?.id ?? null,
        i.inquiryId ?? null,
      ]);
      if (i.inquiryId) await this.inquiries.reply(tx, i.inquiryId, { body: i.text, direction: 'OUTBOUND' });
      return stored!.id;
    });
    await this.appendToSent(row, raw).catch(() => {});
    return (await this.message(ctx, id))!;
  }

  /** The Message-IDs of an inquiry's mail, oldest first (the References of an answer). */
  private async threadOf(ctx: KokyakuContext, inquiryId: string): Promise<string[]> {
    const rows = await sql<{ message_id: string }>(ctx.em, `select message_id from kokyaku.mail_messages where tenant_id = $1 and inquiry_id = $2::bigint order by sent_at, id`, [
      ctx.tenantId,
      inquiryId,
    ]);
    return rows.map((r) => r.message_id);
  }

  /** A copy in the account's Sent folder, as a mail client keeps one (the follower finds it and skips it). */
  private async appendToSent(row: ConnectionRow, raw: Buffer): Promise<void> {
    const client = await connectImap(this.config, row);
    try {
      const boxes = await client.list();
      const sent = boxes.find((b) => b.specialUse === '\\Sent')?.path ?? row.folders.find((f) => /sent/i.test(f)) ?? 'Sent';
      await client.append(sent, raw, ['\\Seen']);
    } finally {
      await client.logout().catch(() => client.close());
    }
  }
}
