import fs from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Kokyaku, Role } from '@kokyaku/core';
import { createTestKokyaku } from '@kokyaku/core/testing';
import express from 'express';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type KokyakuRouter, kokyakuExpress } from '../src/express.js';
import { createLogger } from '../src/logger.js';
import { gql } from './helpers.js';

let kokyaku: Kokyaku;
let router: KokyakuRouter;
let server: Server;
let url: string;
let dir: string;
const as = (role: Role) => ({ 'x-role': role });

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kokyaku-gql-import-'));
  kokyaku = await createTestKokyaku(inject('kokyakuAdminUrl'), { shop: { currency: 'JPY', defaultCountry: 'JP' }, imports: { directory: dir } });
  const app = express();
  router = await kokyakuExpress(kokyaku, {
    identify: (req) => ({ actor: req.headers['x-role'] ? { id: 'staff', roles: [req.headers['x-role'] as Role] } : null }),
    logger: createLogger({ level: 'warn' }),
  });
  app.use('/graphql', router);
  server = app.listen(0);
  await new Promise((resolve) => server.once('listening', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  await fs.writeFile(
    path.join(dir, 'customers.csv'),
    ['会員番号,氏名,メールアドレス,電話番号', 'A-1,山田 花子,hanako@example.jp,090-1234-5678', 'G-7,山田 花子,HANAKO@example.jp,', 'B-2,佐藤 太郎,bad-email,'].join('\n'),
  );
});
afterAll(async () => {
  await router?.stop();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await kokyaku?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

const IMPORT = `mutation($path: String!, $dryRun: Boolean) { importFile(kind: customers, path: $path, dryRun: $dryRun) {
  runId phase encoding rowsRead rowsValid rowsFailed rowsWarned columns { field header } problems { line column reason stored } } }`;

describe('imports and identity over GraphQL', () => {
  it('imports a file of the import folder for admins, with its problems and progress', async () => {
    const dry = await gql(url, IMPORT, { path: 'customers.csv', dryRun: true }, as('ADMIN'));
    // The bad email costs the email, not the customer: a warning by line and column.
    const warning = { line: 4, column: 'メールアドレス', reason: 'Must be an email address, e.g. hanako@example.com. (stored without it)', stored: true };
    expect(dry.data?.importFile).toMatchObject({ runId: null, rowsRead: 3, rowsValid: 3, rowsFailed: 0, rowsWarned: 1, problems: [warning] });
    expect(await kokyaku.customers.count(kokyaku.context())).toBe(0);
    const done = await gql(url, IMPORT, { path: 'customers.csv' }, as('ADMIN'));
    expect(done.data?.importFile).toMatchObject({ phase: 'DONE', rowsValid: 3, rowsFailed: 0, rowsWarned: 1, problems: [warning] });
    expect(done.data?.importFile.columns).toContainEqual({ field: 'fullName', header: '氏名' });
    expect(await kokyaku.customers.findByExternalId(kokyaku.context(), 'B-2')).toMatchObject({ lastName: '佐藤', email: null });
    const runs = await gql(url, `{ importRuns { kind status rowsRead rowsFailed rowsApplied } }`, {}, as('ADMIN'));
    expect(runs.data?.importRuns).toEqual([{ kind: 'customers', status: 'DONE', rowsRead: 3, rowsFailed: 0, rowsApplied: 3 }]);
  });

  it('refuses paths outside the import folder, and non-admins', async () => {
    const outside = await gql(url, IMPORT, { path: '../etc/passwd' }, as('ADMIN'));
    expect(outside.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'path' });
    const marketer = await gql(url, IMPORT, { path: 'customers.csv' }, as('MARKETER'));
    expect(marketer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('finds the duplicate, previews and merges it', async () => {
    const dupes = await gql(url, `{ duplicateCustomers { rule customers { id externalId } } }`, {}, as('SUPPORT'));
    expect(dupes.data?.duplicateCustomers).toHaveLength(1);
    const [first, second] = dupes.data?.duplicateCustomers[0].customers as { id: string; externalId: string }[];
    expect([first!.externalId, second!.externalId]).toEqual(['A-1', 'G-7']);
    const preview = await gql(
      url,
      `query($s: ID!, $o: [ID!]!) { mergePreview(survivorId: $s, otherIds: $o) { aliases fields { field value } } }`,
      { s: first!.id, o: [second!.id] },
      as('ADMIN'),
    );
    expect(preview.data?.mergePreview.aliases).toEqual(['G-7']);
    const merged = await gql(url, `mutation($s: ID!, $o: [ID!]!) { mergeCustomers(survivorId: $s, otherIds: $o) { survivorId } }`, { s: first!.id, o: [second!.id] }, as('ADMIN'));
    expect(merged.data?.mergeCustomers.survivorId).toBe(first!.id);
    const byOldId = await gql(url, `{ customer(externalId: "G-7") { id } }`, {}, as('ADMIN'));
    expect(byOldId.data?.customer.id).toBe(first!.id);
    const notAdmin = await gql(
      url,
      `mutation($s: ID!, $o: [ID!]!) { mergeCustomers(survivorId: $s, otherIds: $o) { survivorId } }`,
      { s: first!.id, o: [second!.id] },
      as('SUPPORT'),
    );
    expect(notAdmin.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('answers at once with wait: false and goes on in the background; a bad header still fails at once', async () => {
    await fs.writeFile(path.join(dir, 'many.csv'), ['customer_id,email', ...Array.from({ length: 3000 }, (_, i) => `M-${i},m${i}@example.jp`)].join('\n'));
    const started = await gql(url, `mutation { importFile(kind: customers, path: "many.csv", wait: false) { runId phase columns { field header } } }`, {}, as('ADMIN'));
    expect(started.errors).toBeUndefined();
    expect(started.data?.importFile).toMatchObject({
      phase: 'STAGING',
      columns: [
        { field: 'externalId', header: 'customer_id' },
        { field: 'email', header: 'email' },
      ],
    });
    const runId = started.data?.importFile.runId as string;
    let status = '';
    for (let i = 0; i < 200 && status !== 'DONE'; i++) {
      const runs = await gql(url, `{ importRuns { id status rowsApplied } }`, {}, as('ADMIN'));
      status = (runs.data?.importRuns as { id: string; status: string }[]).find((r) => r.id === runId)?.status ?? '';
      if (status !== 'DONE') await new Promise((r) => setTimeout(r, 50));
    }
    expect(status).toBe('DONE');
    expect((await kokyaku.customers.findByExternalId(kokyaku.context(), 'M-2999'))?.email).toBe('m2999@example.jp');
    await fs.writeFile(path.join(dir, 'headless.csv'), 'foo,bar\n1,2\n');
    const bad = await gql(url, `mutation { importFile(kind: customers, path: "headless.csv", wait: false) { runId } }`, {}, as('ADMIN'));
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(bad.errors?.[0]?.message).toMatch(/No column for externalId/);
  });

  it('takes a file from a browser in pieces: resumable, a piece sent twice changes nothing, then importFile', async () => {
    const UPLOAD = `mutation($name: String!, $data: String!, $offset: Float, $uploadId: String) {
      uploadImportFile(name: $name, data: $data, offset: $offset, uploadId: $uploadId) { uploadId path bytes } }`;
    const csv = Buffer.from('会員番号,氏名,メールアドレス\nU-1,木村 拓也,taku@example.jp\nU-2,林 檎,ringo@example.jp\n');
    const [a, b] = [csv.subarray(0, 40), csv.subarray(40)];
    const first = await gql(url, UPLOAD, { name: '../会員 一覧.csv', data: a.toString('base64') }, as('ADMIN'));
    expect(first.errors).toBeUndefined();
    const { uploadId, path: stored } = first.data!.uploadImportFile;
    expect(stored).toMatch(/^uploads\/default\/[0-9a-f-]{36}\/会員 一覧\.csv$/);
    // Sent again after a lost answer: nothing changes.
    expect((await gql(url, UPLOAD, { name: 'x.csv', data: a.toString('base64'), offset: 0, uploadId }, as('ADMIN'))).data!.uploadImportFile.bytes).toBe(40);
    // A gap is refused with the offset to send.
    const gap = await gql(url, UPLOAD, { name: 'x.csv', data: b.toString('base64'), offset: 50, uploadId }, as('ADMIN'));
    expect(gap.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'offset', expected: 40 });
    const last = await gql(url, UPLOAD, { name: 'x.csv', data: b.toString('base64'), offset: 40, uploadId }, as('ADMIN'));
    expect(last.data!.uploadImportFile).toEqual({ uploadId, path: stored, bytes: csv.length });
    expect(await fs.readFile(path.join(dir, stored))).toEqual(csv);
    const run = await gql(url, IMPORT, { path: stored }, as('ADMIN'));
    expect(run.data!.importFile).toMatchObject({ phase: 'DONE', rowsRead: 2, rowsFailed: 0 });
    expect((await gql(url, `{ importRuns(first: 1) { fileName } }`, {}, as('ADMIN'))).data!.importRuns[0].fileName).toBe('会員 一覧.csv');
    // Only administrators upload; an unknown upload and bad base64 are refused clearly.
    expect((await gql(url, UPLOAD, { name: 'a.csv', data: 'YQ==' }, as('MARKETER'))).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await gql(url, UPLOAD, { name: 'a.csv', data: 'YQ==', offset: 1, uploadId: '00000000-0000-0000-0000-000000000000' }, as('ADMIN'))).errors?.[0]?.extensions?.code).toBe(
      'NOT_FOUND',
    );
    expect((await gql(url, UPLOAD, { name: 'a.csv', data: '<script>' }, as('ADMIN'))).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'data' });
    expect((await gql(url, UPLOAD, { name: '.hidden', data: 'YQ==' }, as('ADMIN'))).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' });
  });

  it('lists the fields a file of each kind can fill, the targets of a mapping', async () => {
    const { data } = await gql(url, `{ importFields(kind: orders) { field required } }`, {}, as('ADMIN'));
    expect(data!.importFields).toEqual(
      expect.arrayContaining([
        { field: 'orderId', required: false },
        { field: 'productId', required: true },
        { field: 'quantity', required: false },
      ]),
    );
    expect((await gql(url, `{ importFields(kind: customers) { field } }`, {}, as('MARKETER'))).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });
});
