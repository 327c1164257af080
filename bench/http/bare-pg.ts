import http from 'node:http';
import type pg from 'pg';
import { type CustomerRow, type OrderRow, ORDERS_PER_PAGE, SQL, customerJson, orderJson, yen } from './query.js';

/**
 * Baseline: no GraphQL at all. A bare node:http server that reads the customer id from the
 * request's variables, runs the same statements as the Apollo baseline (four at once, then the
 * lines) and writes the JSON Kokyaku would return. The cheapest way to produce that answer.
 */
async function customer360(pool: pg.Pool, id: string) {
  if (!/^\d{1,18}$/.test(id)) return null;
  const ids = [id];
  const [customers, segments, orders, counts] = await Promise.all([
    pool.query<CustomerRow>(SQL.customers, [ids]),
    pool.query<{ id: string; name: string }>(SQL.segments, [ids]),
    pool.query<OrderRow>(SQL.orders, [ids, ORDERS_PER_PAGE + 1]),
    pool.query<{ n: number }>(SQL.orderCounts, [ids]),
  ]);
  const customer = customers.rows[0];
  if (!customer) return null;
  const page = orders.rows.slice(0, ORDERS_PER_PAGE);
  const lines = await pool.query<{ order_id: string; quantity: number; unit_price_minor: string; product_external_id: string; product_name: string }>(SQL.lines, [
    page.map((o) => o.id),
  ]);
  return {
    ...customerJson(customer),
    segments: segments.rows.map((s) => ({ id: s.id, name: s.name })),
    orders: {
      totalCount: counts.rows[0]?.n ?? 0,
      pageInfo: { hasNextPage: orders.rows.length > ORDERS_PER_PAGE },
      nodes: page.map((o) => ({
        ...orderJson(o),
        lines: lines.rows
          .filter((l) => l.order_id === o.id)
          .map((l) => ({ quantity: l.quantity, unitPrice: yen(l.unit_price_minor), product: { externalId: l.product_external_id, name: l.product_name } })),
      })),
    },
  };
}

export async function startBarePg(pool: pg.Pool): Promise<number> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      let id: string;
      try {
        id = String(JSON.parse(Buffer.concat(chunks).toString('utf8')).variables.id);
      } catch {
        reply(400, { errors: [{ message: 'Expected {"variables": {"id": ...}}' }] });
        return;
      }
      customer360(pool, id).then(
        (customer) => reply(200, { data: { customer } }),
        (error: unknown) => reply(500, { errors: [{ message: String(error) }] }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as import('node:net').AddressInfo).port;
}
