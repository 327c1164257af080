import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { type EmbeddedPostgres, type Kokyaku, createKokyaku, startEmbeddedPostgres } from '@kokyaku/core';
import { afterAll, expect, it } from 'vitest';
import { type StandaloneServer, startStandaloneServer } from '../src/standalone.js';

/**
 * PostgreSQL restarts under load (an upgrade, a failover): every request that fails meanwhile
 * says so with a retryable code, the readiness probe says the server cannot serve, and once the
 * database is back every request succeeds again, with no restart of the server.
 */
let dir = '';
let database: EmbeddedPostgres | undefined;
let kokyaku: Kokyaku | undefined;
let server: StandaloneServer | undefined;

afterAll(async () => {
  await server?.close();
  await kokyaku?.close();
  await database?.stop();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

it('codes every request that fails while PostgreSQL restarts as DATABASE_UNAVAILABLE (retryable), and none after', async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kokyaku-outage-'));
  await fs.chmod(dir, 0o755);
  const port = await freePort();
  const embedded = { dataDir: path.join(dir, 'pg'), databaseName: 'kokyaku', port, ephemeral: false };
  database = await startEmbeddedPostgres(embedded);
  await database.ensureDatabase('kokyaku');
  kokyaku = await createKokyaku({ database: { url: database.url('kokyaku'), poolSize: 4 }, shop: { timeZone: 'Asia/Tokyo' } });
  server = await startStandaloneServer(kokyaku, { port: 0, host: '127.0.0.1', adminToken: 'outage' });
  const endpoint = server.url;
  const base = endpoint.replace(/\/graphql$/, '');

  let n = 0;
  const send = async () => {
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer outage' },
      body: JSON.stringify({
        query: `mutation($o: [OrderInput!]!) { recordOrders(orders: $o) { created unchanged } }`,
        variables: {
          o: [{ externalId: `o-${n++}`, customerExternalId: 'c-1', placedAt: '2026-01-01T00:00:00Z', lines: [{ productExternalId: 'p', quantity: 1, unitPrice: 100 }] }],
        },
      }),
    });
    return (await res.json()) as { data?: unknown; errors?: { extensions?: { code?: string; retryable?: boolean; retryAfterSeconds?: number } }[] };
  };
  expect((await send()).errors).toBeUndefined();

  // Load while the database goes away.
  const during: Awaited<ReturnType<typeof send>>[] = [];
  let loading = true;
  const load = (async () => {
    while (loading) during.push(await send());
  })();
  await expect.poll(() => during.length, { timeout: 30_000 }).toBeGreaterThan(5);
  await database.stop();
  await expect.poll(() => during.filter((r) => r.errors).length, { timeout: 30_000 }).toBeGreaterThan(3);
  const readyz = await fetch(`${base}/readyz`);
  expect(readyz.status).toBe(503);
  expect(await readyz.json()).toMatchObject({ ok: false, database: false });
  expect((await fetch(`${base}/healthz`)).status).toBe(200);

  // Back, on the same files and port: the same server serves again.
  database = await startEmbeddedPostgres(embedded);
  await expect.poll(async () => (await fetch(`${base}/readyz`)).status, { timeout: 30_000 }).toBe(200);
  const settled = during.length;
  await expect.poll(() => during.length - settled, { timeout: 30_000 }).toBeGreaterThan(10);
  loading = false;
  await load;

  const failed = during.filter((r) => r.errors);
  expect(failed.length).toBeGreaterThan(0);
  for (const r of failed) expect(r.errors![0]!.extensions).toMatchObject({ code: 'DATABASE_UNAVAILABLE', retryable: true, retryAfterSeconds: 5 });
  // Every request after the database came back succeeded (the last ten, taken well after readyz said so).
  for (const r of during.slice(-10)) expect(r.errors).toBeUndefined();
}, 120_000);
