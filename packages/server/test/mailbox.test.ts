import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Kokyaku, type Role, SYSTEM, bindTenant, sql } from '@kokyaku/core';
import { addMailUser, createTestKokyaku } from '@kokyaku/core/testing';
import express from 'express';
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type KokyakuRouter, kokyakuExpress } from '../src/express.js';
import { createLogger } from '../src/logger.js';
import { gql } from './helpers.js';

const dovecot = inject('kokyakuDovecot');
if (!dovecot) console.warn('mailbox API tests skipped: Dovecot is not installed (apt-get install dovecot-imapd)');

let kokyaku: Kokyaku;
let router: KokyakuRouter;
let server: Server;
let url: string;
const as = (role: Role, id = `${role.toLowerCase()}-1`) => ({ 'x-actor': `${role}:${id}` });
const SHOP = 'shop@kokyaku-api.example';
const account = { user: `api-${randomBytes(4).toString('hex')}`, pass: randomBytes(9).toString('base64url') };

const CONNECT = /* GraphQL */ `
  mutation Connect($input: MailboxInput!) {
    connectMailbox(input: $input) { id name status errorCode username auth folders }
  }
`;
const SYNC = /* GraphQL */ `
  mutation Sync($id: ID!) {
    syncMailbox(id: $id) { fetched stored unmatched duplicates mailbox { status errorCode lastSyncedAt storedMessages } }
  }
`;
const MAIL = /* GraphQL */ `
  query Mail($customerId: ID!) {
    emailMessages(customerId: $customerId) { nodes { id direction from to subject snippet sentAt body { text html } } }
  }
`;

describe.skipIf(!dovecot)('mailboxes over GraphQL', () => {
  let customerId: string;
  let mailboxId: string;

  beforeAll(async () => {
    kokyaku = await createTestKokyaku(inject('kokyakuAdminUrl'), { mailbox: { encryptionKey: randomBytes(32).toString('hex') } });
    const app = express();
    router = await kokyakuExpress(kokyaku, {
      identify: (req) => {
        const [role, id] = String(req.headers['x-actor'] ?? '').split(':');
        return { actor: role ? { id: id!, roles: [role as Role] } : null };
      },
      logger: createLogger({ level: 'warn', destination: { write: () => {} } }),
      auditFlushMs: 0,
    });
    app.use('/graphql', router);
    server = app.listen(0);
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
    await kokyaku.customers.upsert(kokyaku.context(), [{ externalId: 'c-1', email: 'mio@example.jp', firstName: 'Mio' }]);
    customerId = (await kokyaku.customers.findByExternalId(kokyaku.context(), 'c-1'))!.id;
    await addMailUser(dovecot!, account.user, account.pass);
    const client = new ImapFlow({ host: dovecot!.host, port: dovecot!.port, secure: false, auth: account, logger: false });
    await client.connect();
    await client.append('INBOX', ['From: Mio <mio@example.jp>', `To: ${SHOP}`, 'Subject: My size', 'Message-ID: <size@example.jp>', '', 'Is the M size back?', ''].join('\r\n'));
    await client.logout();
  });

  afterAll(async () => {
    await router?.stop();
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await kokyaku?.close();
  });

  it('lets only ADMIN connect and sync a mailbox; the password is never part of the answer', async () => {
    const input = { name: 'Support', address: SHOP, host: dovecot!.host, port: dovecot!.port, secure: false, username: account.user, password: account.pass };
    const refused = await gql(url, CONNECT, { input }, as('SUPPORT'));
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const connected = await gql(url, CONNECT, { input }, as('ADMIN'));
    expect(connected.errors).toBeUndefined();
    expect(JSON.stringify(connected)).not.toContain(account.pass);
    mailboxId = connected.data!.connectMailbox.id;
    const synced = await gql(url, SYNC, { id: mailboxId }, as('ADMIN'));
    expect(synced.data!.syncMailbox).toMatchObject({ fetched: 1, stored: 1, unmatched: 0, mailbox: { status: 'ACTIVE', errorCode: null, storedMessages: 1 } });
    const listed = await gql(url, `{ mailboxes { id name status storedMessages } }`, {}, as('ADMIN'));
    expect(listed.data!.mailboxes).toEqual([{ id: mailboxId, name: 'Support', status: 'ACTIVE', storedMessages: 1 }]);
    expect((await gql(url, `{ mailboxes { id } }`, {}, as('MARKETER'))).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('shows SUPPORT the mail and audits the read; a VIEWER sees when and which way, not who or what', async () => {
    const support = await gql(url, MAIL, { customerId }, as('SUPPORT', 'agent-9'));
    expect(support.data!.emailMessages.nodes).toEqual([
      expect.objectContaining({ direction: 'RECEIVED', from: 'mio@example.jp', to: [SHOP], subject: 'My size', body: { text: 'Is the M size back?', html: null } }),
    ]);
    const audit = await sql<{ fields: string[] }>(
      bindTenant(kokyaku.orm.em.fork(), SYSTEM),
      `select fields from kokyaku.audit_log where actor_id = 'agent-9' and action = 'READ' and customer_id = $1::bigint`,
      [customerId],
    );
    expect(audit.flatMap((a) => a.fields)).toEqual(expect.arrayContaining(['text', 'subject', 'from']));

    const viewer = await gql(url, MAIL, { customerId }, as('VIEWER'));
    expect(viewer.errors).toBeUndefined();
    expect(viewer.data!.emailMessages.nodes).toEqual([
      expect.objectContaining({ direction: 'RECEIVED', from: 'm***@example.jp', to: ['s***@kokyaku-api.example'], subject: null, snippet: null, body: { text: null, html: null } }),
    ]);
    const timeline = await gql(
      url,
      `query ($id: ID!) { customer(id: $id) { timeline(kinds: [EMAIL_RECEIVED]) { nodes { kind summary data } } } }`,
      { id: customerId },
      as('VIEWER'),
    );
    expect(timeline.data!.customer.timeline.nodes).toEqual([expect.objectContaining({ kind: 'EMAIL_RECEIVED', summary: 'Email received' })]);
    expect(JSON.stringify(timeline.data)).not.toContain('mio@');
  });
});
