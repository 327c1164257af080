import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Kokyaku, type KokyakuContext, SYSTEM, bindTenant, createKokyaku, definePlugin, sql } from '@kokyaku/core';
import { type TestSmtpServer, addMailToken, addMailUser, createTestKokyaku, revokeMailToken, setUidValidity, startTestDovecot, startTestSmtp } from '@kokyaku/core/testing';

const dovecot = inject('kokyakuDovecot');
if (!dovecot) console.warn('mailbox tests skipped: Dovecot is not installed (apt-get install dovecot-imapd)');

const KEY = randomBytes(32).toString('base64');
const staff = { id: 'staff-1', roles: ['ADMIN'] as const };
let kokyaku: Kokyaku;
let smtp: TestSmtpServer;
const ctx = (tenantId = 'default'): KokyakuContext => kokyaku.context({ tenantId, actor: staff });
const system = () => bindTenant(kokyaku.orm.em.fork(), SYSTEM);
const SHOP = 'shop@kokyaku-shop.example';
/** The host's OAuth2 tokens, by user name (what `mailbox.accessToken` hands out). */
const tokens = new Map<string, string>();

/** A mail account of its own on the run's Dovecot. */
async function account(): Promise<{ user: string; pass: string }> {
  const user = `shop-${randomBytes(4).toString('hex')}`;
  const pass = randomBytes(9).toString('base64url');
  await addMailUser(dovecot!, user, pass);
  return { user, pass };
}

interface Mail {
  from: string;
  to: string;
  cc?: string;
  subject: string;
  body?: string;
  id?: string;
  inReplyTo?: string;
  date?: Date;
  headers?: string;
}

const raw = (m: Mail) =>
  [
    `From: ${m.from}`,
    `To: ${m.to}`,
    ...(m.cc ? [`Cc: ${m.cc}`] : []),
    `Subject: ${m.subject}`,
    `Date: ${(m.date ?? new Date()).toUTCString()}`,
    `Message-ID: ${m.id ?? `<${randomBytes(6).toString('hex')}@mail.example>`}`,
    ...(m.inReplyTo ? [`In-Reply-To: ${m.inReplyTo}`, `References: ${m.inReplyTo}`] : []),
    ...(m.headers ? [m.headers] : []),
    'Content-Type: text/plain; charset=utf-8',
    '',
    m.body ?? `${m.subject}.`,
    '',
  ].join('\r\n');

/** Puts mail in a folder through IMAP APPEND, as a mail server's delivery would. */
async function deliver(a: { user: string; pass: string }, folder: string, mails: Mail[]): Promise<void> {
  const client = new ImapFlow({ host: dovecot!.host, port: dovecot!.port, secure: false, auth: a, logger: false });
  await client.connect();
  for (const m of mails) await client.append(folder, raw(m), [], m.date ?? new Date());
  await client.logout();
}

async function connect(tenantId: string, a: { user: string; pass: string }, extra: Record<string, unknown> = {}) {
  return kokyaku.mailbox.connect(ctx(tenantId), {
    name: `Shop mail ${a.user}`,
    address: SHOP,
    host: dovecot!.host,
    port: dovecot!.port,
    secure: false,
    username: a.user,
    password: a.pass,
    smtpHost: '127.0.0.1',
    smtpPort: Number(new URL(smtp.url).port),
    smtpSecure: false,
    ...extra,
  });
}

async function customerId(tenantId: string, externalId: string): Promise<string> {
  return (await kokyaku.customers.findByExternalId(ctx(tenantId), externalId))!.id;
}

/** Waits for a condition (never for a guessed time), up to `ms`. */
async function until<T>(what: string, check: () => Promise<T | null | undefined | false>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function seed(tenantId: string): Promise<void> {
  await kokyaku.customers.upsert(ctx(tenantId), [
    { externalId: 'hanako', email: 'Hanako@Example.jp', firstName: '花子' },
    { externalId: 'taro', email: 'taro@example.jp', firstName: '太郎' },
  ]);
}

describe.skipIf(!dovecot)('mailbox sync against Dovecot', () => {
  const mailAccount = { user: 'mail-smtp', pass: randomBytes(9).toString('base64url') };

  beforeAll(async () => {
    smtp = await startTestSmtp();
    kokyaku = await createTestKokyaku(inject('kokyakuAdminUrl'), {
      mailbox: { encryptionKey: KEY, pollSeconds: 30, chunkSize: 3, accessToken: async ({ username }) => tokens.get(username) ?? 'no-token-at-all' },
    });
  });
  afterAll(async () => {
    await kokyaku?.close();
    await smtp?.close();
  });

  it('imports the recent window: customers’ mail once, the rest only counted; the password stays sealed', async () => {
    const t = 'window';
    await seed(t);
    const a = await account();
    const old = new Date(Date.now() - 200 * 86_400_000);
    const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000);
    await deliver(a, 'INBOX', [
      { from: '花子 <hanako@example.jp>', to: SHOP, subject: 'Where is my order?', body: 'I ordered tea on Monday.', date: hoursAgo(2) },
      { from: 'someone@elsewhere.example', to: SHOP, subject: 'Partnership offer' },
      { from: 'hanako@example.jp', to: SHOP, subject: 'Old mail', date: old },
      { from: 'MAILER-DAEMON@mx.example', to: SHOP, subject: 'Undelivered Mail', body: 'hanako@example.jp: mailbox full', headers: 'Auto-Submitted: auto-replied' },
    ]);
    await deliver(a, 'Sent', [{ from: SHOP, to: 'taro@example.jp, hanako@example.jp', subject: 'Your tea is on its way', date: hoursAgo(1) }]);
    const mailbox = await connect(t, a);
    expect(JSON.stringify(mailbox)).not.toContain(a.pass);
    const [sealed] = await sql<{ secret: string }>(system(), `select encode(secret, 'escape') as secret from kokyaku.mail_connections where id = $1::bigint`, [mailbox.id]);
    expect(sealed!.secret).not.toContain(a.pass);

    const { mailbox: after, result } = await kokyaku.mailbox.sync(ctx(t), mailbox.id);
    expect(after.status).toBe('ACTIVE');
    expect(result).toMatchObject({ stored: 2, unmatched: 2, duplicates: 0, fetched: 4 });
    const hanako = await customerId(t, 'hanako');
    const taro = await customerId(t, 'taro');
    const hers = await kokyaku.mailbox.messages(ctx(t), hanako);
    expect(hers.nodes.map((m) => [m.direction, m.subject])).toEqual([
      ['SENT', 'Your tea is on its way'],
      ['RECEIVED', 'Where is my order?'],
    ]);
    expect((await kokyaku.mailbox.messages(ctx(t), taro)).nodes.map((m) => m.subject)).toEqual(['Your tea is on its way']);
    expect(after).toMatchObject({ storedMessages: 2, unmatchedMessages: 2 });

    const timeline = await kokyaku.timeline.timeline(ctx(t), { customerId: hanako }, { kinds: ['EMAIL_RECEIVED', 'EMAIL_SENT'] });
    expect(timeline.nodes.map((e) => e.kind)).toEqual(['EMAIL_SENT', 'EMAIL_RECEIVED']);
    expect(timeline.nodes[1]!.summary).toBe('Email from hanako@example.jp: Where is my order?');

    // Nothing new: nothing read again.
    expect((await kokyaku.mailbox.sync(ctx(t), mailbox.id)).result).toMatchObject({ fetched: 0, stored: 0 });
    // The body on request.
    const body = await kokyaku.mailbox.body(ctx(t), hers.nodes[1]!.id);
    expect(body!.text).toBe('I ordered tea on Monday.');
  });

  it('answers the segment language, starts EMAIL_RECEIVED journeys and exports the mail', async () => {
    const t = 'language';
    await seed(t);
    const a = await account();
    const journey = await kokyaku.journeys.create(ctx(t), {
      name: 'Answer within a day',
      definition: { trigger: { type: 'EMAIL_RECEIVED' }, steps: [{ id: 'call', type: 'TASK', title: 'Answer the mail' }] },
    });
    await kokyaku.journeys.setStatus(ctx(t), journey.id, 'ACTIVE');
    // A customer at a partner the shop excludes: counted, never stored.
    await kokyaku.customers.upsert(ctx(t), [{ externalId: 'partner', email: 'buyer@partner.example' }]);
    await deliver(a, 'INBOX', [
      { from: 'hanako@example.jp', to: SHOP, subject: 'A question' },
      { from: 'buyer@partner.example', to: SHOP, subject: 'Wholesale terms' },
    ]);
    const mailbox = await connect(t, a, { excluded: ['@partner.example'] });
    expect((await kokyaku.mailbox.sync(ctx(t), mailbox.id)).result).toMatchObject({ stored: 1, unmatched: 1 });
    expect(await kokyaku.segments.count(ctx(t), "emails MATCHES (direction = 'received', date > -30d, count >= 1)")).toBe(1);
    expect(await kokyaku.segments.count(ctx(t), "emails MATCHES (direction = 'sent')")).toBe(0);
    const hanako = await customerId(t, 'hanako');
    const runs = await sql<{ n: number }>(system(), `select count(*)::int as n from kokyaku.journey_runs where tenant_id = $1 and customer_id = $2::bigint`, [t, hanako]);
    expect(runs[0]!.n).toBe(1);
    const exported = (await kokyaku.privacy.exportCustomer(ctx(t), { id: hanako })) as { emails: { subject: string; text: string }[] };
    expect(exported.emails).toEqual([expect.objectContaining({ subject: 'A question', text: 'A question.' })]);
  });

  it('resumes a pass that died half-way: no message lost, none stored twice', async () => {
    const t = 'crash';
    await seed(t);
    const a = await account();
    await deliver(
      a,
      'INBOX',
      Array.from({ length: 7 }, (_, i) => ({ from: 'hanako@example.jp', to: SHOP, subject: `Message ${i + 1}` })),
    );
    const mailbox = await connect(t, a);
    // A process whose second chunk fails (as a crash mid-pass would leave it): the first chunk stays.
    let chunks = 0;
    const crashing = definePlugin({
      name: 'crashing',
      version: '1.0.0',
      compatibility: '*',
      hooks: {
        emailsStored: async () => {
          if (++chunks === 2) throw new Error('power cut');
        },
      },
    });
    const other = await createKokyaku({ database: { url: kokyaku.databaseUrl, migrate: false }, mailbox: { encryptionKey: KEY, chunkSize: 3 }, plugins: [crashing] });
    try {
      const { mailbox: failed } = await other.mailbox.sync(other.context({ tenantId: t }), mailbox.id);
      expect(failed.status).toBe('ERROR');
    } finally {
      await other.close();
    }
    const stored = async () => (await sql<{ n: number }>(system(), `select count(*)::int as n from kokyaku.mail_messages where tenant_id = $1`, [t]))[0]!.n;
    expect(await stored()).toBe(3);
    // Restarted: the pass resumes after the last committed chunk.
    const { mailbox: resumed, result } = await kokyaku.mailbox.sync(ctx(t), mailbox.id);
    expect(resumed.status).toBe('ACTIVE');
    expect(result).toMatchObject({ fetched: 4, stored: 4, duplicates: 0 });
    expect(await stored()).toBe(7);
    const subjects = await sql<{ subject: string }>(system(), `select subject from kokyaku.mail_messages where tenant_id = $1 order by subject`, [t]);
    expect(subjects.map((s) => s.subject)).toEqual(Array.from({ length: 7 }, (_, i) => `Message ${i + 1}`));
  });

  it('reads a folder again when its UIDVALIDITY changes, storing only what is new', async () => {
    const t = 'uidvalidity';
    await seed(t);
    const a = await account();
    await deliver(a, 'INBOX', [
      { from: 'hanako@example.jp', to: SHOP, subject: 'First' },
      { from: 'taro@example.jp', to: SHOP, subject: 'Second' },
    ]);
    const mailbox = await connect(t, a);
    await kokyaku.mailbox.sync(ctx(t), mailbox.id);
    await setUidValidity(dovecot!, a.user, 'INBOX', 4242);
    await deliver(a, 'INBOX', [{ from: 'hanako@example.jp', to: SHOP, subject: 'Third' }]);
    const { result } = await kokyaku.mailbox.sync(ctx(t), mailbox.id);
    expect(result).toMatchObject({ resetFolders: ['INBOX'], fetched: 3, stored: 1, duplicates: 2 });
    const [folder] = await sql<{ uid_validity: string }>(system(), `select uid_validity::text from kokyaku.mail_folders where connection_id = $1::bigint and path = 'INBOX'`, [
      mailbox.id,
    ]);
    expect(folder!.uid_validity).toBe('4242');
  });

  it('threads a reply into its inquiry, opens one for a first mail, and records mail sent from Kokyaku once', async () => {
    const t = 'threads';
    await seed(t);
    const a = await account();
    const authed = await startTestSmtp({ auth: a });
    try {
      await deliver(a, 'INBOX', [{ from: 'hanako@example.jp', to: SHOP, subject: 'Broken cup', body: 'The cup arrived broken.', date: new Date(Date.now() - 60_000) }]);
      const mailbox = await connect(t, a, { openInquiries: true, smtpPort: Number(new URL(authed.url).port) });
      await kokyaku.mailbox.sync(ctx(t), mailbox.id);
      const hanako = await customerId(t, 'hanako');
      const inquiries = await kokyaku.inquiries.list(ctx(t), { customerId: hanako });
      expect(inquiries.nodes).toHaveLength(1);
      const inquiry = inquiries.nodes[0]!;
      expect(inquiry).toMatchObject({ channel: 'EMAIL', subject: 'Broken cup' });

      const sent = await kokyaku.mailbox.send(ctx(t), {
        mailboxId: mailbox.id,
        customerId: hanako,
        subject: 'Re: Broken cup',
        text: 'We are sending a new one.',
        inquiryId: inquiry.id,
      });
      const [received] = await authed.waitFor(1);
      expect(received!.to).toEqual(['hanako@example.jp']);
      expect(received!.messageId).toBe(sent.messageId);
      expect(sent).toMatchObject({ direction: 'SENT', inquiryId: inquiry.id });

      // Her answer to our mail joins the same inquiry; the copy of ours in Sent is not stored again.
      const later = new Date(Date.now() + 60_000);
      await deliver(a, 'INBOX', [{ from: 'hanako@example.jp', to: SHOP, subject: 'Re: Broken cup', body: 'Thank you!', inReplyTo: sent.messageId, date: later }]);
      const { result } = await kokyaku.mailbox.sync(ctx(t), mailbox.id);
      expect(result).toMatchObject({ stored: 1, duplicates: 1 });
      expect((await kokyaku.inquiries.list(ctx(t), { customerId: hanako })).nodes).toHaveLength(1);
      const thread = (await kokyaku.inquiries.messages(ctx(t), [inquiry.id])).get(inquiry.id)!;
      expect(thread.map((m) => [m.direction, m.body])).toEqual([
        ['INBOUND', 'The cup arrived broken.'],
        ['OUTBOUND', 'We are sending a new one.'],
        ['INBOUND', 'Thank you!'],
      ]);
      const copies = await sql<{ n: number }>(system(), `select count(*)::int as n from kokyaku.mail_messages where tenant_id = $1 and message_id = $2`, [t, sent.messageId]);
      expect(copies[0]!.n).toBe(1);
    } finally {
      await authed.close();
    }
  });

  it('erases every message of a customer, and finds her mail after a merge by her old address', async () => {
    const t = 'erase';
    await kokyaku.customers.upsert(ctx(t), [
      { externalId: 'sakura', email: 'sakura.tanaka@example.jp', firstName: 'さくら' },
      { externalId: 'sakura-2', email: 'sakura.old@example.jp' },
      { externalId: 'ken', email: 'ken@example.jp' },
    ]);
    const a = await account();
    await deliver(a, 'INBOX', [
      { from: 'sakura.tanaka@example.jp', to: SHOP, subject: 'About my buckwheat allergy', body: 'I am allergic to buckwheat.' },
      { from: 'sakura.old@example.jp', to: SHOP, subject: 'From my old address' },
      { from: 'ken@example.jp', to: SHOP, cc: 'sakura.tanaka@example.jp', subject: 'Ken and a friend' },
    ]);
    const mailbox = await connect(t, a);
    const sakura = await customerId(t, 'sakura');
    await kokyaku.identity.merge(ctx(t), sakura, [await customerId(t, 'sakura-2')]);
    await kokyaku.mailbox.sync(ctx(t), mailbox.id);
    expect((await kokyaku.mailbox.messages(ctx(t), sakura)).nodes.map((m) => m.subject).sort()).toEqual(['About my buckwheat allergy', 'From my old address', 'Ken and a friend']);

    await kokyaku.privacy.eraseCustomer(ctx(t), { id: sakura });
    const traces: string[] = [];
    const tables = await sql<{ name: string }>(
      system(),
      `select relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'kokyaku' and relkind = 'r'`,
    );
    for (const { name } of tables) {
      const rows = await sql<{ row: string }>(
        system(),
        `select t::text as row from kokyaku.${name} t where t::text ilike any (array['%sakura%', '%buckwheat%', '%old address%', '%さくら%'])`,
      );
      traces.push(...rows.map((r) => `${name}: ${r.row}`));
    }
    expect(traces).toEqual([]);
    // Ken's mail that copied her goes too: her address is in it.
    expect((await kokyaku.mailbox.messages(ctx(t), await customerId(t, 'ken'))).nodes).toHaveLength(0);
  });

  it('signs in with the OAuth2 access token the host gives (XOAUTH2), and reports a refused one', async () => {
    const t = 'oauth';
    await seed(t);
    const a = await account();
    const token = `token-${randomBytes(12).toString('hex')}`;
    await addMailToken(dovecot!, a.user, token);
    tokens.set(a.user, token);
    await deliver(a, 'INBOX', [{ from: 'hanako@example.jp', to: SHOP, subject: 'Signed in with a token' }]);
    const mailbox = await kokyaku.mailbox.connect(ctx(t), {
      name: 'OAuth',
      address: SHOP,
      host: dovecot!.host,
      port: dovecot!.port,
      secure: false,
      username: a.user,
      auth: 'OAUTH2',
    });
    const { mailbox: ok, result } = await kokyaku.mailbox.sync(ctx(t), mailbox.id);
    expect(ok.status).toBe('ACTIVE');
    expect(result).toMatchObject({ stored: 1 });
    await revokeMailToken(dovecot!, token);
    const { mailbox: refused } = await kokyaku.mailbox.sync(ctx(t), mailbox.id);
    expect(refused).toMatchObject({ status: 'ERROR', errorCode: 'MAIL_AUTH_FAILED' });
    expect(refused.errorMessage).not.toContain(token);
  });

  it('reads over TLS, and refuses a certificate nobody vouches for', async () => {
    // A Dovecot of its own with TLS (the run's offers none, so its plain port offers no STARTTLS).
    const secure = await startTestDovecot({ tls: true });
    if (!secure?.tlsPort) return void console.warn('TLS test skipped: openssl is not installed');
    const trusting = await createKokyaku({ database: { url: kokyaku.databaseUrl, migrate: false }, mailbox: { encryptionKey: KEY, tls: { ca: secure.ca! } } });
    try {
      const t = 'tls';
      await seed(t);
      const a = { user: `tls-${randomBytes(4).toString('hex')}`, pass: randomBytes(9).toString('base64url') };
      await addMailUser(secure, a.user, a.pass);
      const mailbox = await kokyaku.mailbox.connect(ctx(t), {
        name: 'TLS',
        address: SHOP,
        host: '127.0.0.1',
        port: secure.tlsPort,
        secure: true,
        username: a.user,
        password: a.pass,
      });
      const refused = (await kokyaku.mailbox.sync(ctx(t), mailbox.id)).mailbox;
      expect(refused).toMatchObject({ status: 'ERROR', errorCode: 'MAIL_TLS_FAILED' });
      const client = new ImapFlow({ host: '127.0.0.1', port: secure.tlsPort, secure: true, tls: { ca: secure.ca! }, auth: a, logger: false });
      await client.connect();
      await client.append('INBOX', raw({ from: 'hanako@example.jp', to: SHOP, subject: 'Over TLS' }));
      await client.logout();
      const { mailbox: ok, result } = await trusting.mailbox.sync(trusting.context({ tenantId: t, actor: staff }), mailbox.id);
      expect(ok.status).toBe('ACTIVE');
      expect(result).toMatchObject({ stored: 1 });
    } finally {
      await trusting.close();
      await secure.stop();
    }
  });

  it('reports bad credentials and an unreachable server on their mailboxes while other shops’ mail keeps coming', async () => {
    await seed('good');
    await seed('badpass');
    await seed('nowhere');
    const a = await account();
    const good = await connect('good', a);
    const bad = await connect('badpass', { user: a.user, pass: 'wrong' });
    const closedPort = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const { port } = s.address() as { port: number };
        s.close(() => resolve(port));
      });
    });
    const nowhere = await connect('nowhere', a, { port: closedPort });
    const worker = await kokyaku.startMailboxWorker({ log: () => {} });
    try {
      const status = async (tenant: string, id: string) => (await kokyaku.mailbox.get(ctx(tenant), id))!;
      await until('both errors', async () => (await status('badpass', bad.id)).errorCode && (await status('nowhere', nowhere.id)).errorCode);
      expect(await status('badpass', bad.id)).toMatchObject({ status: 'ERROR', errorCode: 'MAIL_AUTH_FAILED' });
      expect(await status('nowhere', nowhere.id)).toMatchObject({ status: 'ERROR', errorCode: 'MAIL_UNREACHABLE' });
      expect((await status('badpass', bad.id)).errorMessage).not.toContain('wrong');
      // Followed: mail arriving now reaches the good shop's timeline (IDLE, well before the 30 s poll).
      const hanako = await customerId('good', 'hanako');
      await until('the first pass', async () => (await status('good', good.id)).lastSyncedAt);
      await deliver(a, 'INBOX', [{ from: 'hanako@example.jp', to: SHOP, subject: 'Arrived while following' }]);
      await until('the new mail', async () => (await kokyaku.mailbox.messages(ctx('good'), hanako)).nodes.find((m) => m.subject === 'Arrived while following'));
      expect(worker.following()).toEqual(expect.arrayContaining([bad.id, good.id, nowhere.id]));
    } finally {
      await worker.stop();
    }
  });
});
