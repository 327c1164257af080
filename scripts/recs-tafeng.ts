/**
 * `pnpm recs:tafeng <tafeng_merged.json> [sample]`: the TaFeng grocery baskets as preprocessed by
 * "A Next Basket Recommendation Reality Check" (Li et al., TOIS 2023; the file
 * `mergeddataset/tafeng_merged.json` of their public repository, liming-7/A-Next-Basket-Recommendation-Reality-Check:
 * per customer, their baskets in order, items as numbers), recorded as a shop's orders and
 * evaluated like `recs:groceries`. The file has no dates: each customer's baskets are spread
 * evenly over the 120 days (TaFeng's four months) that end yesterday, the last on yesterday.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { OrderInput } from '@kokyaku/core';
import { evaluateHistory } from './recs-evaluate.js';

const file = process.argv[2];
if (!file || !existsSync(file)) {
  process.stderr.write('Pass the path of tafeng_merged.json (mergeddataset/ of liming-7/A-Next-Basket-Recommendation-Reality-Check) as the first argument.\n');
  process.exit(1);
}
const sample = Number(process.argv[3] ?? 2000);
const customers = JSON.parse(readFileSync(file, 'utf8')) as Record<string, number[][]>;
const DAY = 86_400_000;
const yesterday = Math.floor(Date.now() / DAY) * DAY - DAY;
const orders: OrderInput[] = [];
for (const [customer, baskets] of Object.entries(customers)) {
  const gap = Math.max(1, Math.floor(120 / baskets.length));
  baskets.forEach((items, i) => {
    const quantities = new Map<number, number>();
    for (const item of items) quantities.set(item, (quantities.get(item) ?? 0) + 1);
    orders.push({
      externalId: `${customer}-${i}`,
      customerExternalId: `c${customer}`,
      placedAt: new Date(yesterday - (baskets.length - 1 - i) * gap * DAY + 12 * 3_600_000).toISOString(),
      lines: [...quantities].map(([item, quantity]) => ({ productExternalId: `i${item}`, quantity, unitPrice: 100 })),
    });
  });
}
orders.sort((a, b) => String(a.placedAt).localeCompare(String(b.placedAt)));
await evaluateHistory('TaFeng (Reality Check preprocessing)', orders, { sample, currency: 'USD' });
