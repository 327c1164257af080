import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { OrderInput } from '@kokyaku/core';

/**
 * The Groceries dataset as a shop's orders: each member and date is one order, each row a line of
 * quantity 1 at its Cost. Reads ../shared/datasets/groceries.csv or the given file.
 */
export function loadGroceries(file = path.resolve(import.meta.dirname, '../../shared/datasets/groceries.csv')): { orders: OrderInput[]; lastDay: string } {
  if (!existsSync(file)) {
    process.stderr.write(`No groceries.csv at ${file}; pass its path as the first argument.\n`);
    process.exit(1);
  }
  const MONTHS: Record<string, string> = { Jan: '01', Feb: '02', Mar: '03', Apr: '04', May: '05', Jun: '06', Jul: '07', Aug: '08', Sep: '09', Oct: '10', Nov: '11', Dec: '12' };
  const baskets = new Map<string, { member: string; day: string; lines: { item: string; cost: number }[] }>();
  for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
    const [member, date, item, cost] = line.trim().split(',');
    if (!member || !date || !item || !cost) continue;
    const [d, mon, yy] = date.split('-');
    const day = `20${yy}-${MONTHS[mon!]}-${d!.padStart(2, '0')}`;
    const key = `${member}|${day}`;
    const basket = baskets.get(key) ?? { member, day, lines: [] };
    basket.lines.push({ item, cost: Number(cost) });
    baskets.set(key, basket);
  }
  const orders = [...baskets.values()].map((b) => ({
    externalId: `${b.member}-${b.day}`,
    customerExternalId: `member-${b.member}`,
    placedAt: `${b.day}T12:00:00Z`,
    lines: b.lines.map((l) => ({ productExternalId: l.item, quantity: 1, unitPrice: l.cost })),
  }));
  return {
    orders,
    lastDay: [...baskets.values()]
      .map((b) => b.day)
      .sort()
      .at(-1)!,
  };
}
