import { describe, expect, it } from 'vitest';
import { decilesOf } from './reports.js';

/** ntile(10) as PostgreSQL computes it, customer by customer (ties broken by position). */
function ntile(spent: bigint[]) {
  const sorted = [...spent].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0));
  const n = sorted.length;
  const groups: { decile: number; customers: number; revenue: string; min_spend: string; max_spend: string }[] = [];
  let at = 0;
  for (let decile = 1; decile <= 10; decile++) {
    const size = Math.floor(n / 10) + (decile <= n % 10 ? 1 : 0);
    if (size === 0) break;
    const members = sorted.slice(at, at + size);
    at += size;
    groups.push({
      decile,
      customers: size,
      revenue: String(members.reduce((s, x) => s + x, 0n)),
      min_spend: String(members[members.length - 1]),
      max_spend: String(members[0]),
    });
  }
  return groups;
}

describe('decilesOf', () => {
  it('equals ntile(10) over the customers, ties across cuts and shops of fewer than ten included', () => {
    let seed = 42;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    for (let round = 0; round < 300; round++) {
      const n = Math.floor(random() * (round < 50 ? 12 : 400));
      // Few distinct amounts in some rounds: many customers spent the same.
      const distinct = 1 + Math.floor(random() * (round % 3 === 0 ? 4 : 5000));
      const spent = Array.from({ length: n }, () => BigInt(Math.floor(random() * distinct) * 100));
      const counts = new Map<bigint, number>();
      for (const x of spent) counts.set(x, (counts.get(x) ?? 0) + 1);
      const amounts = [...counts].sort((a, b) => (a[0] > b[0] ? -1 : 1)).map(([value, customers]) => ({ spent: value, customers }));
      expect(decilesOf(amounts), `round ${round}: ${n} customers`).toEqual(ntile(spent));
    }
  });

  it('has no groups without customers', () => {
    expect(decilesOf([])).toEqual([]);
    expect(decilesOf([{ spent: 500n, customers: 3 }]).map((d) => d.customers)).toEqual([1, 1, 1]);
  });
});
