import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { type Kokyaku, sql } from '@kokyaku/core';
import { type TestSmtpServer, createTestKokyaku, startTestSmtp } from '@kokyaku/core/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../../..');
const entry = path.join(root, 'packages/server/src/cli/main.ts');
const RUNS = 30;

let kokyaku: Kokyaku;
let smtp: TestSmtpServer;
const workers: ChildProcess[] = [];

/** `kokyaku worker` in a node process of its own (tsx as a loader, so SIGKILL hits the worker itself). */
async function startWorker(): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@kokyaku/source', entry, 'worker', '--concurrency', '3', '--sweep-seconds', '1', '--stale-seconds', '2'],
    {
      cwd: root,
      env: { ...process.env, DATABASE_URL: kokyaku.databaseUrl, KOKYAKU_SMTP_URL: smtp.url, KOKYAKU_MAIL_FROM: 'shop@example.jp', KOKYAKU_TIME_ZONE: 'Asia/Tokyo' },
    },
  );
  workers.push(child);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  for (let i = 0; i < 600 && !out.includes('journey worker started'); i++) {
    if (child.exitCode !== null) throw new Error(`the worker exited: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!out.includes('journey worker started')) throw new Error(`the worker did not start: ${out}`);
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

async function statuses(): Promise<Record<string, number>> {
  const rows = await sql<{ status: string; n: number }>(kokyaku.context().em, `select status, count(*)::int as n from kokyaku.journey_runs group by status`);
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(await statuses())}, ${smtp.mails.length} mails`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

beforeAll(async () => {
  smtp = await startTestSmtp();
  kokyaku = await createTestKokyaku(inject('kokyakuAdminUrl'), { shop: { currency: 'JPY', timeZone: 'Asia/Tokyo', defaultCountry: 'JP' } });
});
afterAll(async () => {
  for (const w of workers) await kill(w);
  await kokyaku?.close();
  await smtp?.close();
});

describe('the journey worker', () => {
  it('loses no run and sends no mail twice when killed with SIGKILL mid-journey, again and again', async () => {
    const ctx = kokyaku.context({ actor: { id: 'staff', roles: ['ADMIN'] } });
    const ids = Array.from({ length: RUNS }, (_, i) => `k-${String(i).padStart(2, '0')}`);
    await kokyaku.customers.upsert(
      ctx,
      ids.map((id, i) => ({ externalId: id, email: `${id}@example.jp`, lastName: '試験', firstName: String(i) })),
    );
    const journey = await kokyaku.journeys.create(ctx, {
      name: 'Two mails and a wait',
      definition: {
        trigger: { type: 'MANUAL' },
        steps: [
          { id: 'first', type: 'SEND', channel: 'EMAIL', purpose: 'TRANSACTIONAL', subject: 'first {{ customer.external_id }}', text: '{{ customer.salutation }}' },
          { id: 'pause', type: 'WAIT', seconds: 2 },
          { id: 'check', type: 'CONDITION', query: 'number_of_orders >= 0', no: null },
          { id: 'second', type: 'SEND', channel: 'EMAIL', purpose: 'TRANSACTIONAL', subject: 'second {{ customer.external_id }}', text: 'again' },
          { id: 'done', type: 'TAG', add: ['journeyed'] },
        ],
      },
    });
    await kokyaku.journeys.setStatus(ctx, journey.id, 'ACTIVE');

    // Each kill: the SMTP server stops answering (a send under way hangs before its mail is
    // accepted), and once every mail it accepted before is recorded, the worker is killed with
    // SIGKILL wherever it is (in a send, a step, a wait, a sweep); the held sends are refused.
    // (The one moment no test can make safe, between the server's yes and the commit of the
    // run's step, is left out on purpose: docs/automation.md says what happens then.)
    let held = 0;
    const kills: string[] = [];
    const killMidway = async (child: ChildProcess, when: string) => {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      smtp.beforeAccept = async () => {
        held++;
        await gate;
        throw new Error('the client went away');
      };
      // Mails the server accepted before the gate closed: their runs' steps commit first.
      await until('accepted mails recorded', async () => {
        const [row] = await sql<{ n: number }>(kokyaku.context().em, `select count(*)::int as n from kokyaku.messages where status = 'SENT'`);
        return row!.n === smtp.mails.length;
      });
      await new Promise((r) => setTimeout(r, 100));
      await kill(child);
      kills.push(when);
      release();
      await new Promise((r) => setTimeout(r, 50));
      smtp.beforeAccept = null;
    };

    let worker = await startWorker();
    await kokyaku.journeys.start(ctx, journey.id, { customerExternalIds: ids });
    // 1: while first mails go out.
    await until('7 mails', async () => smtp.mails.length >= 7);
    await killMidway(worker, 'sending first mails');
    // 2: while runs wait (a wait of days survives the same way: it is a row with a time).
    worker = await startWorker();
    await until('runs waiting', async () => ((await statuses()).WAITING ?? 0) >= 10);
    await killMidway(worker, 'runs waiting');
    // 3: while second mails go out.
    worker = await startWorker();
    await until('45 mails', async () => smtp.mails.length >= 45);
    await killMidway(worker, 'sending second mails');
    // 4: right after the next mail.
    worker = await startWorker();
    const before = smtp.mails.length;
    await until('another mail', async () => smtp.mails.length > before);
    await killMidway(worker, 'after a mail');

    worker = await startWorker();
    await until('every run completed', async () => (await statuses()).COMPLETED === RUNS, 90_000);
    await kill(worker);
    expect(kills).toHaveLength(4);
    // At least one kill caught a send in the middle (the worker was waiting for the server's answer).
    expect(held).toBeGreaterThan(0);

    // Every run completed; the SMTP server accepted each mail exactly once.
    expect(await statuses()).toEqual({ COMPLETED: RUNS });
    const subjects = smtp.mails.map((m) => m.subject).sort();
    expect(subjects).toEqual(ids.flatMap((id) => [`first ${id}`, `second ${id}`]).sort());
    expect(new Set(smtp.mails.map((m) => m.messageId)).size).toBe(2 * RUNS);
    const rows = await sql<{ status: string; n: number }>(ctx.em, `select status, count(*)::int as n from kokyaku.messages group by status`);
    expect(rows).toEqual([{ status: 'SENT', n: 2 * RUNS }]);
    const tagged = await sql<{ n: number }>(ctx.em, `select count(*)::int as n from kokyaku.customers where 'journeyed' = any(tags)`);
    expect(tagged[0]!.n).toBe(RUNS);
    // Each run's history has each step once.
    const steps = await sql<{ n: number }>(ctx.em, `select count(*)::int as n from kokyaku.journey_run_steps`);
    expect(steps[0]!.n).toBe(RUNS * 6);
  }, 180_000);
});
