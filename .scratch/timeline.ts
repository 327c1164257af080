const keepAlive = setInterval(() => {}, 1000);
import { sql } from '@kokyaku/core';
import pg from '../packages/core/node_modules/pg/lib/index.js';
let captured: { text: string; values: unknown[] } | null = null;
const q = (pg as any).Client.prototype.query;
(pg as any).Client.prototype.query = function (config: any, ...rest: any[]) { if (config && typeof config === 'object' && String(config.text).includes("'SEGMENT_ENTERED'")) captured = { text: config.text, values: config.values }; return q.call(this, config, ...rest); };
import { createTestKokyaku, startTestPostgres } from '@kokyaku/core/testing';
const server = await startTestPostgres();
const kokyaku = await createTestKokyaku(server.adminUrl, { shop: { currency: 'JPY' }, database: { onQuery: (q) => { if (q.includes('TIMELINE_MARK')) last = q; } } as never });
let last = '';
const ctx = kokyaku.context({ actor: { id: 'x', roles: ['ADMIN'] } });
const { seedShop } = await import('../bench/seed.js');
await seedShop(kokyaku, { customers: 100_000 }, () => {});
for (const q of (await import('../bench/segments.js')).SEGMENT_QUERIES) await kokyaku.segments.create(ctx, { name: q.name, query: q.query });
await kokyaku.orders.record(ctx, Array.from({ length: 30 }, (_, k) => ({ externalId: `o${k}`, customerExternalId: 'C7', placedAt: new Date(Date.now() - k * 86400000), lines: [{ productExternalId: 'p', quantity: 1, unitPrice: 100 }] })));
for (let b = 0; b < 3; b++) await kokyaku.events.track(ctx, Array.from({ length: 1000 }, (_, k) => ({ eventId: `tl-${b}-${k}`, type: k % 3 ? 'product_viewed' : 'added_to_cart', customerExternalId: 'C7', productExternalId: `P${k % 50}`, occurredAt: new Date(Date.now() - (b * 1000 + k) * 60_000) })));
const customerId = (await kokyaku.customers.findByExternalId(ctx, 'C7'))!.id;
for (let n = 0; n < 200; n++) await kokyaku.notes.add(ctx, { customerId, body: `Note ${n}` });
for (let n = 0; n < 100; n++) await kokyaku.tasks.create(ctx, { customerId, title: `T ${n}` });
// no analyze
for (let i = 0; i < 5; i++) { const t = performance.now(); await kokyaku.timeline.timeline(ctx, { customerId }, { first: 20 }); console.log('page', performance.now() - t); }
const plan = await sql<{ 'QUERY PLAN': string }>(ctx.em, 'explain (analyze, buffers off) ' + captured!.text, captured!.values);
console.log(plan.map((r) => r['QUERY PLAN']).join('\n'));
await kokyaku.close(); await server.stop(); clearInterval(keepAlive);
