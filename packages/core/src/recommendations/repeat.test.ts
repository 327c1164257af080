import { describe, expect, it } from 'vitest';
import { repeatChance } from './repeat.js';

const DAY = 86_400_000;
const asOf = new Date('2026-06-01T12:00:00Z');
const daysAgo = (d: number) => new Date(asOf.getTime() - d * DAY);

describe('repeatChance', () => {
  it('holds a staple back until its cycle comes round, then scores it in full', () => {
    // Bought in 5 of 6 orders, every 30 days.
    const staple = (lastDaysAgo: number) => repeatChance({ times: 5, first: daysAgo(lastDaysAgo + 120), last: daysAgo(lastDaysAgo), productCycleDays: null }, 6, asOf);
    expect(staple(5).cycleDays).toBe(30);
    expect(staple(5).own).toBe(true);
    expect(staple(5).dueAt).toEqual(new Date(daysAgo(5).getTime() + 30 * DAY));
    expect(staple(5).score).toBeCloseTo((5 / 7) * 0.5 ** (5 / 365) * (5 / 30) ** 2, 10);
    expect(staple(30).score).toBeCloseTo((5 / 7) * 0.5 ** (30 / 365), 10);
    expect(staple(5).score).toBeLessThan(staple(15).score);
    expect(staple(15).score).toBeLessThan(staple(30).score);
    // Overdue: it fades only with the slow recency.
    expect(staple(60).score).toBeGreaterThan(staple(30).score * 0.9);
  });

  it("uses the product's cycle after one purchase, and none when neither is known", () => {
    const once = repeatChance({ times: 1, first: daysAgo(10), last: daysAgo(10), productCycleDays: 40 }, 3, asOf);
    expect(once).toMatchObject({ cycleDays: 40, own: false });
    expect(once.score).toBeCloseTo((1 / 4) * 0.5 ** (10 / 365) * (10 / 40) ** 2, 10);
    const unknown = repeatChance({ times: 1, first: daysAgo(10), last: daysAgo(10), productCycleDays: null }, 3, asOf);
    expect(unknown).toMatchObject({ cycleDays: null, dueAt: null });
    expect(unknown.score).toBeCloseTo((1 / 4) * 0.5 ** (10 / 365), 10);
  });

  it("ranks by the share of the customer's orders, shrunk for short histories", () => {
    // Long past the cycle: only the share differs.
    const share = (times: number, orders: number) => repeatChance({ times, first: daysAgo(100), last: daysAgo(50), productCycleDays: null }, orders, asOf).score;
    expect(share(1, 1)).toBeCloseTo(0.5 * 0.5 ** (50 / 365), 10);
    expect(share(9, 10)).toBeGreaterThan(share(1, 1));
    expect(share(2, 10)).toBeLessThan(share(1, 1));
    // Same-day purchases make a cycle of a day, never zero.
    expect(repeatChance({ times: 3, first: daysAgo(2), last: daysAgo(2), productCycleDays: null }, 3, asOf).cycleDays).toBe(1);
  });
});
