import { type Kokyaku, createKokyaku } from '@kokyaku/core';
import { type TestReplicaPair, startTestReplicaPair } from '@kokyaku/core/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StandaloneServer, startStandaloneServer } from '../src/standalone.js';

/**
 * Read replicas against a real PostgreSQL primary and hot standby (Debian's postgresql, started
 * here): queries read the standby, an actor reads their own writes at once, and stopping the
 * standby under load fails no request.
 */
const pair = await startTestReplicaPair();
if (!pair) console.warn('read replica tests skipped: Debian PostgreSQL is not installed (apt-get install postgresql)');

describe.skipIf(!pair)('read replicas (a real streaming standby)', () => {
  const TOKEN = 'replica-admin';
  let kokyaku: Kokyaku;
  let server: StandaloneServer;
  let standby: pg.Client;

  beforeAll(async () => {
    await pair!.createDatabase('kokyaku');
    kokyaku = await createKokyaku({
      database: { url: pair!.primaryUrl('kokyaku'), readReplicas: [pair!.replicaUrl('kokyaku')], poolSize: 6, replicaWaitMs: 300 },
      shop: { timeZone: 'Asia/Tokyo', currency: 'JPY' },
    });
    server = await startStandaloneServer(kokyaku, { port: 0, host: '127.0.0.1', adminToken: TOKEN, costLimiter: false });
    standby = new pg.Client({ connectionString: pair!.replicaUrl('kokyaku') });
    standby.on('error', () => undefined);
    await standby.connect();
  }, 120_000);

  afterAll(async () => {
    await standby?.end().catch(() => undefined);
    await server?.close();
    await kokyaku?.close();
    await pair?.stop();
  });

  const gql = async (query: string, variables: Record<string, unknown> = {}) => {
    const res = await fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data?: Record<string, any>; errors?: { message: string }[] };
    return { status: res.status, ...body };
  };
  const customerNamed = async (externalId: string) =>
    (await gql('query($id: String!) { customer(externalId: $id) { externalId firstName } }', { id: externalId })).data?.customer as { firstName: string } | null;
  const replayed = async () => (await standby.query<{ lsn: string }>('select pg_last_wal_replay_lsn()::text as lsn')).rows[0]!.lsn;
  const primaryPosition = async () => (await kokyaku.orm.em.getKnex().raw<{ rows: { lsn: string }[] }>('select pg_current_wal_lsn()::text as lsn')).rows[0]!.lsn;
  /** Waits until the standby has replayed everything the primary wrote so far. */
  const caughtUp = async () => {
    const target = await primaryPosition();
    await expect
      .poll(async () => (await standby.query<{ ok: boolean }>('select pg_last_wal_replay_lsn() >= $1::pg_lsn as ok', [target])).rows[0]!.ok, { timeout: 20_000, interval: 20 })
      .toBe(true);
  };

  it('serves queries from the standby: a write the replica has not replayed is not seen by another actor', async () => {
    expect(kokyaku.replicas?.status()[0]).toMatchObject({ healthy: true });
    await kokyaku.customers.upsert(kokyaku.context(), [{ externalId: 'c-seen', firstName: 'Aiko' }]);
    await caughtUp();
    expect(await customerNamed('c-seen')).toMatchObject({ firstName: 'Aiko' });

    // Replay paused: the standby stops where it is; the primary goes on.
    await standby.query('select pg_wal_replay_pause()');
    try {
      const readsBefore = kokyaku.replicas!.status()[0]!.reads;
      // Written by someone else (a core context, not this GraphQL actor).
      await kokyaku.customers.upsert(kokyaku.context(), [{ externalId: 'c-hidden', firstName: 'Hana' }]);
      expect(await customerNamed('c-hidden')).toBeNull();
      expect(kokyaku.replicas!.status()[0]!.reads).toBeGreaterThan(readsBefore);
    } finally {
      await standby.query('select pg_wal_replay_resume()');
    }
    await caughtUp();
    expect(await customerNamed('c-hidden')).toMatchObject({ firstName: 'Hana' });
  });

  it('lets an actor read their own write at once, from the primary while the replica lags, from the replica once it replayed', async () => {
    await standby.query('select pg_wal_replay_pause()');
    const paused = await replayed();
    try {
      const written = await gql('mutation($c: [CustomerInput!]!) { upsertCustomers(customers: $c) { created updated } }', {
        c: [{ externalId: 'c-mine', firstName: 'Yui' }],
      });
      expect(written.errors).toBeUndefined();
      // The replica has not replayed it (replay is paused), yet the writer reads it.
      expect(await customerNamed('c-mine')).toMatchObject({ firstName: 'Yui' });
      expect(await replayed()).toBe(paused);
    } finally {
      await standby.query('select pg_wal_replay_resume()');
    }
    // Once replayed, the writer's reads go back to the replica.
    await caughtUp();
    const before = kokyaku.replicas!.status()[0]!.reads;
    expect(await customerNamed('c-mine')).toMatchObject({ firstName: 'Yui' });
    expect(kokyaku.replicas!.status()[0]!.reads).toBeGreaterThan(before);
  });

  it('exports the replica lag as a metric', async () => {
    await kokyaku.replicas!.check();
    const [status] = kokyaku.replicas!.status();
    expect(status!.lagBytes).toBeGreaterThanOrEqual(0);
    expect(status!.lagSeconds).toBeGreaterThanOrEqual(0);
    const res = await fetch(server.url.replace(/\/graphql$/, '/metrics'), { headers: { authorization: `Bearer ${TOKEN}` } });
    const text = await res.text();
    const name = status!.name.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    expect(text).toMatch(new RegExp(`kokyaku_replica_lag_bytes\\{replica="${name}"\\} \\d+`));
    expect(text).toMatch(new RegExp(`kokyaku_replica_healthy\\{replica="${name}"\\} 1`));
    expect(text).toMatch(new RegExp(`kokyaku_db_pool_connections\\{pool="${name}",state="free"\\} \\d+`));
  });

  it('takes a standby that stops mid-load out, and no request fails', async () => {
    // A shop to read: 200 customers, some orders, a segment to count.
    await kokyaku.orders.record(
      kokyaku.context(),
      Array.from({ length: 200 }, (_, i) => ({
        externalId: `o-${i}`,
        customerExternalId: `load-${i}`,
        placedAt: new Date(Date.UTC(2026, 0, 1 + (i % 28))),
        lines: [{ productExternalId: `p-${i % 7}`, quantity: 1 + (i % 3), unitPrice: 1000 + i }],
      })),
    );
    await caughtUp();
    const queries = [
      '{ customers(first: 50, segment: "number_of_orders >= 1") { totalCount nodes { externalId } } }',
      '{ segmentPreview(query: "amount_spent >= 1500", first: 5) { count } }',
      '{ customer(externalId: "load-7") { externalId orders { totalCount } } }',
    ];
    const failures: unknown[] = [];
    let done = 0;
    let stopped = false;
    const worker = async (n: number) => {
      for (let i = 0; ; i++) {
        if (stopped && done > stopAt + 150) return;
        const answer = await gql(queries[(n + i) % queries.length]!).catch((error: unknown) => ({ status: 0, errors: [{ message: String(error) }] }));
        if (answer.status !== 200 || answer.errors) failures.push(answer.errors ?? answer.status);
        done++;
      }
    };
    let stopAt = Number.POSITIVE_INFINITY;
    const load = Promise.all(Array.from({ length: 6 }, (_, n) => worker(n)));
    // Under load: the replica serves, then goes away at once.
    await expect.poll(() => kokyaku.replicas!.status()[0]!.reads, { timeout: 20_000, interval: 10 }).toBeGreaterThan(100);
    stopAt = done;
    await pair!.stopReplica();
    stopped = true;
    await load;
    expect(failures).toEqual([]);
    expect(done).toBeGreaterThan(stopAt + 150);
    const [status] = kokyaku.replicas!.status();
    expect(status).toMatchObject({ healthy: false });

    // It comes back: the health check puts it back in.
    await pair!.startReplica();
    await expect.poll(() => kokyaku.replicas!.status()[0]!.healthy, { timeout: 30_000, interval: 50 }).toBe(true);
    const before = kokyaku.replicas!.status()[0]!.reads;
    expect((await gql(queries[0]!)).errors).toBeUndefined();
    expect(kokyaku.replicas!.status()[0]!.reads).toBeGreaterThan(before);
  }, 120_000);
});

it.runIf(!pair)('needs Debian PostgreSQL for the read replica tests (apt-get install postgresql)', () => {
  expect(pair).toBeNull();
});
