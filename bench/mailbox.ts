import { randomBytes } from 'node:crypto';
import { type Kokyaku, SYSTEM, bindTenant, createKokyaku, sql } from '@kokyaku/core';
import { addMailUser, startTestDovecot } from '@kokyaku/core/testing';
import { ImapFlow } from 'imapflow';
import { time } from './stats.js';

/**
 * Mailbox sync against a real Dovecot: the first pass over an inbox (fetch, parse, match each
 * address against the shop's customers, store, in chunks of 50 with the folder's position) against
 * a bare fetch of the same messages, in the same chunks, with the same library (imapflow), in the
 * same run. Half the messages are from the seeded shop's customers, half from strangers.
 */
export interface MailboxBenchRow {
  name: string;
  kokyaku: string;
  baseline: string;
  ratio: string;
}

export async function benchMailbox(kokyaku: Kokyaku, options: { messages: number }, log: (line: string) => void): Promise<MailboxBenchRow[]> {
  const dovecot = await startTestDovecot();
  if (!dovecot) {
    log('  skipped: Dovecot is not installed (apt-get install dovecot-imapd)');
    return [];
  }
  const tenantId = kokyaku.config.defaultTenant;
  try {
    const account = { user: `bench-${randomBytes(3).toString('hex')}`, pass: randomBytes(9).toString('base64url') };
    await addMailUser(dovecot, account.user, account.pass);
    const emails = (
      await sql<{ email: string }>(
        bindTenant(kokyaku.orm.em.fork(), SYSTEM),
        `select email from kokyaku.customers where tenant_id = $1 and email is not null order by id limit $2`,
        [tenantId, Math.ceil(options.messages / 2)],
      )
    ).map((r) => r.email);
    const client = new ImapFlow({ host: dovecot.host, port: dovecot.port, secure: false, auth: account, logger: false });
    await client.connect();
    for (let i = 0; i < options.messages; i++) {
      const from = i % 2 === 0 && emails.length ? emails[(i / 2) % emails.length]! : `stranger${i}@elsewhere.example`;
      const body = `Hello,\r\n\r\nabout order ${i}: ${'is it on its way? '.repeat(20)}\r\n\r\nThanks`;
      await client.append(
        'INBOX',
        `From: ${from}\r\nTo: shop@bench.example\r\nSubject: Order ${i}\r\nMessage-ID: <bench-${i}@mail.example>\r\nDate: ${new Date().toUTCString()}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n`,
      );
    }
    // The baseline: the same fetch, chunk by chunk, and nothing else.
    let fetched = 0;
    const bareMs = await time(async () => {
      await client.mailboxOpen('INBOX', { readOnly: true });
      const uids = ((await client.search({ since: new Date(Date.now() - 86_400_000) }, { uid: true })) || []).sort((a, b) => a - b);
      for (let i = 0; i < uids.length; i += 50) {
        fetched += (await client.fetchAll(uids.slice(i, i + 50).join(','), { uid: true, internalDate: true, source: { maxLength: 10 * 1024 * 1024 } }, { uid: true })).length;
      }
    });
    await client.logout();

    // The same database, with a key to seal the mailbox's password.
    const withKey = await createKokyaku({
      ...kokyaku.config,
      database: { ...kokyaku.config.database, url: kokyaku.databaseUrl, migrate: false },
      mailbox: { ...kokyaku.config.mailbox, encryptionKey: randomBytes(32).toString('base64') },
    });
    let syncMs = 0;
    let result: Awaited<ReturnType<Kokyaku['mailbox']['sync']>>['result'] = null;
    try {
      const ctx = withKey.context({ tenantId });
      const mailbox = await withKey.mailbox.connect(ctx, {
        name: 'bench',
        address: 'shop@bench.example',
        host: dovecot.host,
        port: dovecot.port,
        secure: false,
        username: account.user,
        password: account.pass,
      });
      const started = performance.now();
      result = (await withKey.mailbox.sync(ctx, mailbox.id)).result;
      syncMs = performance.now() - started;
    } finally {
      await withKey.close();
    }
    if (!result || result.fetched !== fetched) throw new Error(`mailbox bench: the pass read ${result?.fetched} messages, the bare fetch ${fetched}`);
    log(`  ${fetched} messages: first pass ${(syncMs / 1000).toFixed(2)} s (${result.stored} stored, ${result.unmatched} counted), bare fetch ${(bareMs / 1000).toFixed(2)} s`);
    const perSecond = (ms: number) => `${Math.round((fetched / ms) * 1000)} messages/s`;
    return [
      {
        name: `first pass over ${fetched} messages (fetch, parse, match, store; half from customers)`,
        kokyaku: perSecond(syncMs),
        baseline: `${perSecond(bareMs)} (the same fetch alone, imapflow)`,
        ratio: `${(bareMs / syncMs).toFixed(2)}x`,
      },
    ];
  } finally {
    await dovecot.stop();
  }
}
