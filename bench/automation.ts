import { type Kokyaku, sql } from '@kokyaku/core';
import type { TestSmtpServer } from '@kokyaku/core/testing';
import nodemailer from 'nodemailer';

/**
 * Journeys, each against a baseline measured in the same run, with a real SMTP server on this
 * machine (smtp-server) receiving every mail:
 *
 * - sends through journeys: N one-step journeys (render a Liquid template with the customer, send
 *   over SMTP, record the message and the step, all under the run's lock), advanced one after the
 *   other by `runDue`, against the bare cost of the mails: the same N mails sent with the same
 *   nodemailer transport from a loop;
 * - the same N runs through the worker (pg-boss, 4 at a time), against `runDue`;
 * - the cost of triggers on ingestion: recording new orders while an ORDER_PLACED journey listens
 *   (each order starts a run in its transaction) against recording them with the journey paused.
 */
export interface AutomationBenchRow {
  name: string;
  kokyaku: string;
  baseline: string;
  ratio: string;
}

const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

export async function benchAutomation(
  kokyaku: Kokyaku,
  smtp: TestSmtpServer,
  options: { runs: number; orders: number },
  log: (line: string) => void,
): Promise<AutomationBenchRow[]> {
  const rows: AutomationBenchRow[] = [];
  const ctx = kokyaku.context({ actor: { id: 'bench', roles: ['ADMIN'] } });
  const n = options.runs;
  const ids = (tag: string) => Array.from({ length: n }, (_, i) => `aut-${tag}-${i}`);
  for (const tag of ['a', 'b']) {
    await kokyaku.customers.upsert(
      ctx,
      ids(tag).map((id, i) => ({ externalId: id, email: `${id}@example.jp`, lastName: '山田', firstName: `${i}` })),
    );
  }
  const template = { subject: '{{ customer.salutation }}、新しい豆が入りました', text: '{{ customer.salutation }}\n今週のおすすめ: {{ data.item }}\nhttps://shop.example/new' };
  const journey = await kokyaku.journeys.create(ctx, {
    name: 'bench: one mail',
    definition: { trigger: { type: 'MANUAL' }, reentry: 'EVERY_TIME', steps: [{ id: 'mail', type: 'SEND', channel: 'EMAIL', purpose: 'TRANSACTIONAL', ...template }] },
  });
  await kokyaku.journeys.setStatus(ctx, journey.id, 'ACTIVE');

  // Baseline: the same mails from a loop, through the same kind of pooled transport.
  const transport = nodemailer.createTransport({ url: smtp.url, pool: true } as never);
  let start = performance.now();
  for (const id of ids('a')) {
    await transport.sendMail({
      from: 'bench@example.jp',
      to: `${id}@example.jp`,
      subject: '山田 様、新しい豆が入りました',
      text: `山田 様\n今週のおすすめ: エチオピア\nhttps://shop.example/new`,
    });
  }
  const bare = performance.now() - start;
  transport.close();

  const startAll = async (tag: string, item: string) => {
    for (let i = 0; i < n; i += 1000) await kokyaku.journeys.start(ctx, journey.id, { customerExternalIds: ids(tag).slice(i, i + 1000), data: { item } });
  };
  await startAll('a', 'エチオピア');
  const before = smtp.mails.length;
  start = performance.now();
  await kokyaku.journeys.runDue(ctx, { limit: n + 10 });
  const sequential = performance.now() - start;
  if (smtp.mails.length - before !== n) throw new Error(`runDue sent ${smtp.mails.length - before} mails, not ${n}`);
  rows.push({
    name: `${n} journey sends (render, SMTP, record), runDue one by one`,
    kokyaku: `${secs(sequential)} (${(n / (sequential / 1000)).toFixed(0)}/s)`,
    baseline: `${secs(bare)} (the same mails from a loop)`,
    ratio: `${(bare / sequential).toFixed(2)}x`,
  });
  log(`  ${n} sends: journeys ${secs(sequential)}, bare nodemailer ${secs(bare)}`);

  // The worker: pg-boss, four runs at a time, told by NOTIFY.
  const worker = await kokyaku.startWorker({ log: (m) => log(`  worker: ${m}`) });
  try {
    const sent = smtp.mails.length;
    start = performance.now();
    await startAll('b', 'グアテマラ');
    await smtp.waitFor(sent + n, 600_000);
    const viaWorker = performance.now() - start;
    rows.push({
      name: `the same ${n} sends through the worker (4 at a time)`,
      kokyaku: `${secs(viaWorker)} (${(n / (viaWorker / 1000)).toFixed(0)}/s)`,
      baseline: `${secs(sequential)} (runDue one by one)`,
      ratio: `${(sequential / viaWorker).toFixed(2)}x`,
    });
    log(`  worker: ${secs(viaWorker)}`);
  } finally {
    await worker.stop();
  }

  // Triggers on ingestion: the same kind of orders with an ORDER_PLACED journey listening, and paused.
  const listening = await kokyaku.journeys.create(ctx, {
    name: 'bench: order listener',
    definition: { trigger: { type: 'ORDER_PLACED' }, reentry: 'EVERY_TIME', steps: [{ id: 'w', type: 'WAIT', days: 30 }] },
  });
  const record = async (tag: string) => {
    const t0 = performance.now();
    for (let b = 0; b < options.orders / 100; b++) {
      await kokyaku.orders.record(
        ctx,
        Array.from({ length: 100 }, (_, k) => ({
          externalId: `aut-o-${tag}-${b}-${k}`,
          customerExternalId: `aut-a-${(b * 100 + k) % n}`,
          placedAt: new Date(),
          lines: [{ productExternalId: 'P1', quantity: 1, unitPrice: 1000 }],
        })),
      );
    }
    return performance.now() - t0;
  };
  const paused = await record('p');
  await kokyaku.journeys.setStatus(ctx, listening.id, 'ACTIVE');
  const active = await record('l');
  const started = await sql<{ n: number }>(ctx.em, `select count(*)::int as n from kokyaku.journey_runs where journey_id = $1::bigint`, [listening.id]);
  if (started[0]!.n !== options.orders) throw new Error(`${started[0]!.n} runs started for ${options.orders} orders`);
  rows.push({
    name: `${options.orders} new orders (batches of 100), each starting a run`,
    kokyaku: secs(active),
    baseline: `${secs(paused)} (no journey listening)`,
    ratio: `${(paused / active).toFixed(2)}x`,
  });
  log(`  orders with a listening journey ${secs(active)}, without ${secs(paused)}`);
  await kokyaku.journeys.setStatus(ctx, listening.id, 'ARCHIVED');
  await kokyaku.journeys.setStatus(ctx, journey.id, 'ARCHIVED');
  return rows;
}
