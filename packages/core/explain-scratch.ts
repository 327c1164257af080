import { compileSegmentQuery } from './src/index.js';
import pg from 'pg';
const client = new pg.Client({ connectionString: process.env.PGURL });
await client.connect();
for (const q of process.argv.slice(2)) {
  const c = compileSegmentQuery(q, { timeZone: 'Asia/Tokyo', currency: 'JPY', today: new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Tokyo' }).format(new Date()) });
  const from = c.profile ? 'kokyaku.customer_facts f join kokyaku.customers c on c.id = f.customer_id' : 'kokyaku.customer_facts f';
  const res = await client.query(`explain (analyze, buffers) select count(*) from ${from} where f.tenant_id = $1 and ${c.where}`, ['default', ...c.params]);
  console.log(q); console.log(res.rows.map((r) => r['QUERY PLAN']).join('\n'));
}
await client.end();
