const keepAlive = setInterval(() => {}, 1000);
import { sql } from '@kokyaku/core';
import { createTestKokyaku, startTestPostgres } from '@kokyaku/core/testing';

const server = await startTestPostgres();
const kokyaku = await createTestKokyaku(server.adminUrl, { shop: { currency: 'JPY' } });
const ctx = kokyaku.context();
for (let b = 0; b < 10; b++) {
  await kokyaku.orders.record(ctx, Array.from({ length: 1000 }, (_, k) => ({ externalId: `o${b}-${k}`, customerExternalId: `C${(b * 1000 + k) % 10000}`, placedAt: new Date(), lines: [{ productExternalId: 'p', quantity: 1, unitPrice: 100 + k }] })));
}
const em = ctx.em;
const [root] = await sql<{ id: string }>(em, `insert into kokyaku.companies (tenant_id, name) values ('default', 'Bench group') returning id::text as id`);
let level = [root!.id];
for (let depth = 1; depth <= 4; depth++) {
  level = (await sql<{ id: string }>(em, `insert into kokyaku.companies (tenant_id, name, parent_id) select 'default', 'Bench ' || p || '-' || k, p from unnest(kokyaku.json_bigints($1::jsonb)) as p, generate_series(1, 10) as k returning id::text as id`, [JSON.stringify(level)])).map((r) => r.id);
}
let t = performance.now();
await sql(em, `insert into kokyaku.company_contacts (tenant_id, company_id, customer_id)
     select 'default', co.id, c.id from (select id, row_number() over (order by id) as n from kokyaku.companies where tenant_id = 'default' and name like 'Bench %') co
     join (select id, row_number() over (order by id) as n from kokyaku.customers where tenant_id = 'default' limit $1) c on c.n % 11111 = co.n % 11111
     on conflict do nothing`, [50000]);
console.log('contacts insert', performance.now() - t);
await kokyaku.orm.em.getKnex().raw('analyze');
for (let i = 0; i < 3; i++) {
  t = performance.now();
  try {
    await kokyaku.companies.subtree(ctx, root!.id);
  } catch (e) {
    console.log('failed after', performance.now() - t, String(e));
    console.log(await sql(kokyaku.context().em, 'select 1 as alive'));
  }
  console.log('subtree', performance.now() - t);
}
{
  const c = kokyaku.context();
  for (let i = 0; i < 2; i++) {
  t = performance.now();
  const tree = await sql<{ id: string }>(c.em, `with recursive tree(id, depth, path) as (
         select id, 0, array[id] from kokyaku.companies where tenant_id = $1 and id = $2::bigint
         union all
         select co.id, t.depth + 1, t.path || co.id from kokyaku.companies co join tree t on co.parent_id = t.id
         where co.tenant_id = $1 and not co.id = any(t.path)
       )
       select co.id::text as id, co.external_id, co.name, co.domain, co.industry, co.size, co.parent_id::text as parent_id, co.custom_fields, co.created_at, co.updated_at, t.depth, t.path::text[] as path from tree t join kokyaku.companies co on co.id = t.id order by t.path`, ['default', root!.id]);
  console.log('tree', performance.now() - t, tree.length);
  t = performance.now();
  const contacts = await sql(c.em, `select ct.company_id::text as company_id, ct.customer_id::text as customer_id, coalesce(f.total_spent_minor, 0)::text as minor, coalesce(f.orders_count, 0) as orders
           from kokyaku.company_contacts ct left join kokyaku.customer_facts f on f.customer_id = ct.customer_id
           where ct.tenant_id = $1 and ct.company_id = any(kokyaku.json_bigints($2::jsonb))`, ['default', JSON.stringify(tree.map((x) => x.id))]);
  console.log('contacts', performance.now() - t, contacts.length);
  const plan = await sql<{ 'QUERY PLAN': string }>(c.em, `explain analyze with recursive tree(id, depth, path) as (
         select id, 0, array[id] from kokyaku.companies where tenant_id = $1 and id = $2::bigint
         union all
         select co.id, t.depth + 1, t.path || co.id from kokyaku.companies co join tree t on co.parent_id = t.id
         where co.tenant_id = $1 and not co.id = any(t.path)
       )
       select co.id::text as id, t.depth, t.path::text[] as path from tree t join kokyaku.companies co on co.id = t.id order by t.path`, ['default', root!.id]);
  if (i === 1) console.log(plan.map((r) => r['QUERY PLAN']).join('\n'));
  }
}
for (let i = 0; i < 3; i++) {
  t = performance.now();
  await kokyaku.companies.subtree(ctx, root!.id, { from: new Date(0), to: new Date(Date.now() + 1e9) });
  console.log('subtree ranged', performance.now() - t);
}
await kokyaku.close();
await server.stop();
clearInterval(keepAlive);
