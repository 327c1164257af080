import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase } from '@kokyaku/core/testing';
import pg from 'pg';
import { afterAll, expect, inject, it } from 'vitest';
import { gql } from './helpers.js';

/**
 * A fleet on one database, as `kokyaku serve` and `kokyaku worker` run in production: two servers
 * and two workers share the budget of costly operations, drop each other's cached figures when
 * one of them changes them, run each slot of the scheduled refresh once, and stop gracefully.
 */
const root = path.resolve(import.meta.dirname, '../../..');
const entry = path.join(root, 'packages/server/src/cli/main.ts');
const children: ChildProcess[] = [];
const TOKEN = 'fleet-admin';

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
});

/** `kokyaku <args>` in a node process of its own (tsx as a loader: a signal reaches the CLI itself). */
function kokyaku(args: string[], env: Record<string, string>) {
  // A process that does not come up is asked for Node's diagnostic report (its stacks and open handles).
  const reports = mkdtempSync(path.join(os.tmpdir(), 'kokyaku-fleet-report-'));
  const child = spawn(
    process.execPath,
    ['--report-on-signal', '--report-signal=SIGUSR2', `--report-directory=${reports}`, '--import', 'tsx', '--conditions=@kokyaku/source', entry, ...args],
    {
      cwd: root,
      env: { ...process.env, KOKYAKU_ADMIN_TOKEN: TOKEN, TSX_TSCONFIG_PATH: path.join(root, 'tsconfig.json'), ...env },
    },
  );
  children.push(child);
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (d) => (out.stdout += d));
  child.stderr.on('data', (d) => (out.stderr += d));
  const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const waitFor = async (pattern: RegExp) => {
    // Starting four CLIs (each compiling the sources) on a busy machine takes what it takes.
    await expect
      .poll(() => pattern.test(out.stdout) || child.exitCode !== null, { timeout: 180_000, interval: 50 })
      .toBe(true)
      .catch(async () => {
        throw new Error(`${args[0]} never printed ${pattern}; stdout: ${out.stdout}; stderr: ${out.stderr}\n${await diagnose(child, reports, env.DATABASE_URL!)}`);
      });
    const m = pattern.exec(out.stdout);
    if (!m) throw new Error(`exited before printing ${pattern}; stderr: ${out.stderr}`);
    return m;
  };
  return { child, out, done, waitFor };
}

/** What a process that hangs is doing: its JavaScript stack and open handles, and the database's sessions and lock waits. */
async function diagnose(child: ChildProcess, reports: string, url: string): Promise<string> {
  const parts: string[] = [];
  child.kill('SIGUSR2');
  await expect
    .poll(() => readdirSync(reports).length, { timeout: 10_000, interval: 100 })
    .toBeGreaterThan(0)
    .catch(() => undefined);
  for (const file of readdirSync(reports)) {
    try {
      const report = JSON.parse(readFileSync(path.join(reports, file), 'utf8'));
      parts.push(`JavaScript stack: ${JSON.stringify(report.javascriptStack)}`);
      parts.push(`open handles: ${JSON.stringify((report.libuv ?? []).filter((h: { is_active?: boolean }) => h.is_active))}`);
    } catch (error) {
      parts.push(`report ${file} unreadable: ${String(error)}`);
    }
  }
  const db = new pg.Client({ connectionString: url });
  try {
    await db.connect();
    const sessions = await db.query(
      `select pid, state, wait_event_type, wait_event, now() - query_start as running, left(query, 300) as query
         from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`,
    );
    const waits = await db.query(`select pid, locktype, mode, objid, relation::regclass::text as relation from pg_locks where not granted`);
    parts.push(`sessions: ${JSON.stringify(sessions.rows)}`, `lock waits: ${JSON.stringify(waits.rows)}`);
  } catch (error) {
    parts.push(`database unreadable: ${String(error)}`);
  } finally {
    await db.end().catch(() => undefined);
  }
  return parts.join('\n');
}

// Retried once: a start-up that hung in one CI run of several is under investigation (docs/scaling.md).
it('shares the rate limit, drops cached figures in every process, refreshes each slot once, and drains on SIGTERM', { timeout: 900_000, retry: 1 }, async () => {
  const url = await createTestDatabase(inject('kokyakuAdminUrl'));
  const env = { DATABASE_URL: url, KOKYAKU_TIME_ZONE: 'UTC', KOKYAKU_CURRENCY: 'JPY' };
  // A refresh slot every 1.8 s (0.0005 h), so that a few pass during the test.
  const refresh = ['--refresh-hours', '0.0005'];
  // Started one after the other (each once the one before says it is up), then all running together.
  const servers: ReturnType<typeof kokyaku>[] = [];
  const endpoints: string[] = [];
  for (let i = 0; i < 2; i++) {
    const server = kokyaku(['serve', '--port', '0', '--no-console', '--no-worker', '--cost-points', '20', ...refresh], env);
    servers.push(server);
    endpoints.push((await server.waitFor(/GraphQL API at (\S+)/))[1]!);
  }
  const workers: ReturnType<typeof kokyaku>[] = [];
  for (let i = 0; i < 2; i++) {
    const worker = kokyaku(['worker', ...refresh], env);
    workers.push(worker);
    await worker.waitFor(/journey worker started/);
  }
  const [a, b] = endpoints;
  const auth = { authorization: `Bearer ${TOKEN}` };
  const ask = (endpoint: string, query: string, variables: Record<string, unknown> = {}) => gql(endpoint, query, variables, auth);

  // 1. One budget: 20 points, a segment preview costs 5. A spends it all; B then refuses too.
  const preview = '{ segmentPreview(query: "number_of_orders >= 0", first: 1) { count } }';
  let allowed = 0;
  for (;;) {
    const res = await ask(a!, preview);
    if (res.errors?.[0]?.extensions?.code === 'RATE_LIMITED') break;
    expect(res.errors).toBeUndefined();
    allowed++;
    expect(allowed).toBeLessThanOrEqual(4);
  }
  expect(allowed).toBe(4);
  const onB = await ask(b!, preview);
  expect(onB.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');

  // 2. Cached figures: B caches the popular list (for a minute); orders recorded through A
  // change it, and B shows the new list long before its cache would expire.
  const day = new Date(Date.now() - 86_400_000).toISOString();
  const order = (id: string, customer: string, product: string) => ({
    externalId: id,
    customerExternalId: customer,
    placedAt: day,
    lines: [{ productExternalId: product, quantity: 1, unitPrice: 1000 }],
  });
  const record = 'mutation($o: [OrderInput!]!) { recordOrders(orders: $o) { created errors { message } } }';
  expect((await ask(a!, record, { o: [1, 2, 3].map((i) => order(`old-${i}`, `c-${i}`, 'p-old')) })).data).toMatchObject({ recordOrders: { created: 3 } });
  const popular = `{ recommendations(strategy: POPULAR, first: 1) { product { externalId } } }`;
  const top = async (endpoint: string) =>
    ((await ask(endpoint, popular)).data as { recommendations: { product: { externalId: string } }[] }).recommendations[0]?.product.externalId;
  expect(await top(b!)).toBe('p-old');
  expect(await top(b!)).toBe('p-old');
  const changedAt = performance.now();
  const created = await ask(a!, record, { o: Array.from({ length: 8 }, (_, i) => order(`new-${i}`, `d-${i}`, 'p-new')) });
  expect(created.data).toMatchObject({ recordOrders: { created: 8 } });
  await expect.poll(() => top(b!), { timeout: 30_000, interval: 20 }).toBe('p-new');
  const seenAfterMs = performance.now() - changedAt;
  console.log(`fleet: server B showed the new popular list ${seenAfterMs.toFixed(0)} ms after server A recorded the orders`);
  // Its cache keeps figures for 60 s: only the drop sent through the database explains this.
  expect(seenAfterMs).toBeLessThan(30_000);

  // 3. The scheduled refresh: four processes schedule it, each slot runs in one of them.
  const db = new pg.Client({ connectionString: url });
  await db.connect();
  try {
    await expect
      .poll(async () => (await db.query(`select count(*)::int as n from kokyaku.scheduled_runs where finished_at is not null`)).rows[0].n, { timeout: 300_000, interval: 100 })
      .toBeGreaterThanOrEqual(3);
    const everyone = [...servers, ...workers];
    const runs = everyone.flatMap((p) => [...p.out.stdout.matchAll(/refresh of slot (\d+) done/g)].map((m) => Number(m[1])));
    const slots = (await db.query<{ slot: string; process: string }>(`select slot::text, process from kokyaku.scheduled_runs where job = 'refresh' order by slot`)).rows;
    // Every refresh a process ran is a slot it claimed, and no slot ran twice.
    expect(new Set(runs).size).toBe(runs.length);
    for (const slot of runs) expect(slots.map((s) => Number(s.slot))).toContain(slot);
    expect(runs.length).toBeGreaterThanOrEqual(3);
  } finally {
    await db.end();
  }

  // 4. Graceful shutdown: a request A is still reading when SIGTERM arrives is answered; A takes
  // no new connection meanwhile, then exits 0.
  const body = JSON.stringify({ query: '{ segmentPreview(query: "amount_spent >= 0", first: 5) { count } }' });
  // "Expect: 100-continue": A answers "continue" once it has read the request's head, so the
  // request is under way on A before the signal is sent.
  const inFlight = http.request(a!, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), expect: '100-continue' },
  });
  const answered = new Promise<{ status: number; text: string }>((resolve, reject) => {
    inFlight.on('response', (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    inFlight.on('error', reject);
  });
  const continued = new Promise((resolve) => inFlight.once('continue', resolve));
  inFlight.flushHeaders();
  await continued;
  servers[0]!.child.kill('SIGTERM');
  const refused = async () =>
    fetch(a!.replace(/\/graphql$/, '/healthz')).then(
      () => false,
      () => true,
    );
  await expect.poll(refused, { timeout: 30_000, interval: 20 }).toBe(true);
  inFlight.end(body);
  const { status, text } = await answered;
  expect(status).toBe(200);
  expect(JSON.parse(text).errors?.[0]?.extensions?.code ?? 'answered').toMatch(/answered|RATE_LIMITED/);
  for (const p of [servers[1]!, ...workers]) p.child.kill('SIGTERM');
  expect(await Promise.all([...servers, ...workers].map((p) => p.done))).toEqual([0, 0, 0, 0]);
});
