import os from 'node:os';
import path from 'node:path';
import { rm, writeFile } from 'node:fs/promises';
import { type Kokyaku, type OrderInput, sql } from '@kokyaku/core';

/**
 * CSV import of order history: a file of `lines` order lines (3 per order, the lines of an order
 * spread through the file) imported with `imports.run` into a fresh tenant, against recording the
 * same orders with `orders.record` from memory in batches of 500 orders (what the import hands its
 * rows to: the difference is reading, checking and staging the CSV). Then the same file again,
 * which must change nothing. Each run is checked: every order and line stored once.
 */
export interface ImportBenchResult {
  path: string;
  lines: number;
  ms: number;
  linesPerSecond: number;
  orders: number;
  storedLines: number;
}

export async function benchImport(kokyaku: Kokyaku, options: { lines: number; rounds: number }, log: (line: string) => void): Promise<ImportBenchResult[]> {
  const orderCount = Math.floor(options.lines / 3);
  const orders: OrderInput[] = [];
  for (let o = 0; o < orderCount; o++) {
    orders.push({
      externalId: `imp-${o}`,
      customerExternalId: `imp-c-${o % Math.max(1, Math.floor(orderCount / 3))}`,
      placedAt: new Date(Date.UTC(2025, o % 12, 1 + (o % 28), 10)),
      lines: [0, 1, 2].map((k) => ({ productExternalId: `imp-p-${(o * 7 + k * 13) % 500}`, quantity: 1 + k, unitPrice: 100 + (o % 50) * 10 })),
    });
  }
  const rows = ['order_id,customer_id,order_date,sku,quantity,unit_price'];
  for (let k = 0; k < 3; k++) {
    for (const o of orders) {
      const l = o.lines[k]!;
      rows.push(`${o.externalId},${o.customerExternalId},${(o.placedAt as Date).toISOString().replace('T', ' ').slice(0, 16)},${l.productExternalId},${l.quantity},${l.unitPrice}`);
    }
  }
  const file = path.join(os.tmpdir(), `kokyaku-bench-import-${process.pid}.csv`);
  await writeFile(file, `${rows.join('\n')}\n`);
  const count = async (tenant: string) => {
    const ctx = kokyaku.context({ tenantId: tenant });
    const [r] = await sql<{ orders: number; lines: number }>(
      ctx.em,
      `select (select count(*)::int from kokyaku.orders where tenant_id = $1) as orders, (select count(*)::int from kokyaku.order_lines where tenant_id = $1) as lines`,
      [tenant],
    );
    return r!;
  };
  const paths: { name: string; run: (tenant: string) => Promise<void> }[] = [
    {
      name: 'orders.record from memory, batches of 500 orders (baseline)',
      run: async (tenant) => {
        for (let i = 0; i < orders.length; i += 500) {
          const result = await kokyaku.orders.record(kokyaku.context({ tenantId: tenant }), orders.slice(i, i + 500));
          if (result.failed) throw new Error(`orders.record refused ${result.failed} orders`);
        }
      },
    },
    {
      name: 'CSV import (imports.run), a new file',
      run: async (tenant) => {
        const result = await kokyaku.imports.run(kokyaku.context({ tenantId: tenant }), { kind: 'orders', file });
        if (result.rowsFailed) throw new Error(`the import refused ${result.rowsFailed} rows: ${JSON.stringify(result.problems[0])}`);
      },
    },
  ];
  const times = new Map<string, number[]>([...paths.map((p) => [p.name, []] as [string, number[]]), ['CSV import of the same file again (changes nothing)', []]]);
  try {
    for (let round = 0; round < options.rounds; round++) {
      for (let i = 0; i < paths.length; i++) {
        const p = paths[(round + i) % paths.length]!;
        const tenant = `bench-import-${round}-${(round + i) % paths.length}`;
        const started = performance.now();
        await p.run(tenant);
        const ms = performance.now() - started;
        const stored = await count(tenant);
        if (stored.orders !== orders.length || stored.lines !== orders.length * 3)
          throw new Error(`${p.name}: ${stored.orders} orders and ${stored.lines} lines stored of ${orders.length} and ${orders.length * 3}`);
        times.get(p.name)!.push(ms);
        log(`  round ${round + 1}, ${p.name}: ${(ms / 1000).toFixed(2)} s for ${rows.length - 1} lines`);
        if (p.name.startsWith('CSV')) {
          const again = performance.now();
          await p.run(tenant);
          const againMs = performance.now() - again;
          const after = await count(tenant);
          if (after.orders !== stored.orders || after.lines !== stored.lines) throw new Error('importing the same file again changed the stored orders');
          times.get('CSV import of the same file again (changes nothing)')!.push(againMs);
          log(`  round ${round + 1}, the same file again: ${(againMs / 1000).toFixed(2)} s`);
        }
      }
    }
  } finally {
    await rm(file, { force: true });
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
  return [...times].map(([name, ms]) => ({
    path: name,
    lines: rows.length - 1,
    ms: median(ms),
    linesPerSecond: (rows.length - 1) / (median(ms) / 1000),
    orders: orders.length,
    storedLines: orders.length * 3,
  }));
}
