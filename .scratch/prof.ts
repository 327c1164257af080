const keepAlive = setInterval(() => {}, 1000);
import { sql } from '@kokyaku/core';
import { createTestKokyaku, startTestPostgres } from '@kokyaku/core/testing';
const server = await startTestPostgres();
const kokyaku = await createTestKokyaku(server.adminUrl, { shop: { currency: 'JPY' } });
const ctx = kokyaku.context();
for (let b = 0; b < 10; b++) await kokyaku.orders.record(ctx, Array.from({ length: 1000 }, (_, k) => ({ externalId: `o${b}-${k}`, customerExternalId: `C${(b * 1000 + k) % 10000}`, placedAt: new Date(), lines: [{ productExternalId: 'p', quantity: 1, unitPrice: 100 + k }] })));
const em = ctx.em;
const [root] = await sql<{ id: string }>(em, `insert into kokyaku.companies (tenant_id, name) values ('default', 'Bench group') returning id::text as id`);
let level = [root!.id];
for (let depth = 1; depth <= 4; depth++) level = (await sql<{ id: string }>(em, `insert into kokyaku.companies (tenant_id, name, parent_id) select 'default', 'Bench ' || p || '-' || k, p from unnest(kokyaku.json_bigints($1::jsonb)) as p, generate_series(1, 10) as k returning id::text as id`, [JSON.stringify(level)])).map((r) => r.id);
await sql(em, `insert into kokyaku.company_contacts (tenant_id, company_id, customer_id) select 'default', co.id, c.id from (select id, row_number() over (order by id) as n from kokyaku.companies where tenant_id = 'default' and name like 'Bench %') co join (select id, row_number() over (order by id) as n from kokyaku.customers where tenant_id = 'default' limit $1) c on c.n % 11111 = co.n % 11111 on conflict do nothing`, [50000]);
await kokyaku.orm.em.getKnex().raw('analyze');
const { Session } = await import('node:inspector/promises');
const session = new Session();
session.connect();
await session.post('Profiler.enable');
await session.post('Profiler.start');
for (let i = 0; i < 5; i++) { let t = performance.now(); await kokyaku.companies.subtree(ctx, root!.id); console.log('subtree', performance.now() - t); t = performance.now(); const r = await kokyaku.companies.rollup(ctx, root!.id); console.log('rollup', performance.now() - t, JSON.stringify(r)); t = performance.now(); await kokyaku.companies.rollup(ctx, root!.id, {from: new Date(0)}); console.log('rollup ranged', performance.now() - t); }
const { profile } = await session.post('Profiler.stop');
const self = new Map<string, number>();
const byId = new Map(profile.nodes.map((n: any) => [n.id, n]));
const dt = profile.timeDeltas; const samples = profile.samples;
for (let i = 0; i < samples.length; i++) { const n: any = byId.get(samples[i]); const key = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber}`; self.set(key, (self.get(key) ?? 0) + dt[i]! / 1000); }
console.log([...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([k, v]) => `${v.toFixed(0)}ms ${k}`).join('\n'));
await kokyaku.close(); await server.stop(); clearInterval(keepAlive);
