const keepAlive = setInterval(() => {}, 1000);
import pg from '../packages/core/node_modules/pg/lib/index.js';
import { createTestKokyaku, startTestPostgres } from '@kokyaku/core/testing';
let timings: { text: string; ms: number }[] = [];
let recording = false;
let n = 0;
const keep: Record<string, { text: string; values: unknown[] }> = {};
const q = (pg as any).Client.prototype.query;
(pg as any).Client.prototype.query = function (config: any, ...rest: any[]) {
  const started = performance.now();
  const text = (typeof config === 'string' ? config : String(config?.text ?? '')).replace(/\s+/g, ' ').slice(0, 110);
  const done = () => recording && timings.push({ text, ms: performance.now() - started });
  if (recording && config && typeof config === 'object' && /^with (contributions|matching)/.test(text)) keep[text.slice(0, 16)] = { text: config.text, values: config.values };
  const last = rest.length ? rest[rest.length - 1] : typeof config?.callback === 'function' ? null : undefined;
  if (typeof last === 'function') {
    rest[rest.length - 1] = (...args: any[]) => { done(); return last(...args); };
    return q.call(this, config, ...rest);
  }
  if (config && typeof config.callback === 'function') {
    const cb = config.callback;
    config.callback = (...args: any[]) => { done(); return cb(...args); };
    return q.call(this, config, ...rest);
  }
  const result = q.call(this, config, ...rest);
  if (result && typeof result.then === 'function') result.then(done, () => {});
  return result;
};
const server = await startTestPostgres();
const kokyaku = await createTestKokyaku(server.adminUrl, { shop: { currency: 'JPY', timeZone: 'Asia/Tokyo' } });
const ctx = kokyaku.context({ actor: { id: 'x', roles: ['ADMIN'] } });
const { seedShop } = await import('../bench/seed.js');
const { eventStream } = await import('../bench/ingestion.js');
await seedShop(kokyaku, { customers: 100_000 }, () => {});
await kokyaku.orm.em.getKnex().raw('analyze');
const send = async (prefix: string) => {
  const events = eventStream(2000, 100_000, 632, prefix);
  const t = performance.now();
  for (let i = 0; i < events.length; i += 1000) await kokyaku.events.track(ctx, events.slice(i, i + 1000));
  return performance.now() - t;
};
await send('warm-');
console.log('without', await send('a-'));
await kokyaku.scoring.createRule(ctx, { name: 'Viewed 3 times this week', activity: 'EVENT', eventType: 'product_viewed', minCount: 3, withinDays: 7, halfLifeDays: 7, points: 30 });
await kokyaku.scoring.createRule(ctx, { name: 'Ordered', activity: 'ORDER', halfLifeDays: 30, points: 20 });
await kokyaku.scoring.createRule(ctx, { name: 'Subscribed', condition: 'email_subscription_status = SUBSCRIBED', points: 10 });
await kokyaku.segments.create(ctx, { name: 'Bench hot leads', query: 'score_band = HOT' });
await kokyaku.orm.em.getKnex().raw('analyze');
recording = true;
console.log('with', await send('b-'));
recording = false;
const by = new Map<string, number>();
for (const t of timings) by.set(t.text, (by.get(t.text) ?? 0) + t.ms);
console.log([...by.entries()].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([k, v]) => `${v.toFixed(1)}ms ${k}`).join('\n'));
const { sql } = await import('@kokyaku/core');
for (const [k, v] of Object.entries(keep)) {
  const plan = await sql<{ 'QUERY PLAN': string }>(ctx.em, 'explain (analyze, buffers off) ' + v.text, v.values);
  console.log('=== ' + k + '\n' + plan.map((r) => r['QUERY PLAN']).join('\n'));
}
await kokyaku.close(); await server.stop(); clearInterval(keepAlive);
