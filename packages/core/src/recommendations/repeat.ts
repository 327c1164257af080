/**
 * How likely a customer is to buy a product again now, from what they bought (the repeat part of
 * FOR_CUSTOMER and the whole of BUY_AGAIN). Pure: the request reads the purchases, this scores them.
 */

const DAY = 86_400_000;
/** A purchase a year old counts half as much as one today: tastes drift, but slowly for staples. */
const REPEAT_HALF_LIFE_DAYS = 365;

export interface Purchase {
  /** Orders of the customer with the product, and the first and the last of them. */
  times: number;
  first: Date;
  last: Date;
  /** The product's repurchase cycle among all its buyers (days), when measured. */
  productCycleDays: number | null;
}

export interface RepeatChance {
  /** 0-1: `share * recency * due`, how likely the customer buys it again now. */
  score: number;
  /** The customer's share of orders with the product (shrunk for short histories), and its recency. */
  share: number;
  recency: number;
  /** 0-1: how far the cycle has come round since the last purchase, squared (1 when no cycle is known). */
  due: number;
  /**
   * The customer buys it in a rhythm of their own: three purchases or more (two intervals), so that
   * one lucky gap is not taken for a habit.
   */
  rhythm: boolean;
  /** In a rhythm and in the first half of it: they are stocked up, and it is not worth a place in a list. */
  stocked: boolean;
  /** Days between purchases: the customer's own after two purchases, else the product's. */
  cycleDays: number | null;
  own: boolean;
  /** When the next purchase is expected (the last plus the cycle), when a cycle is known. */
  dueAt: Date | null;
}

/**
 * `times / (orders + 1)` (a share of the customer's orders, shrunk for short histories), halving
 * over a year since the last purchase, and, when the product has a cycle, held back until it comes
 * round: `min(1, since / cycle)²`, so a staple bought every 30 days scores 1/36 of itself five days
 * after the last purchase and in full from day 30.
 */
export function repeatChance(p: Purchase, orders: number, asOf: Date): RepeatChance {
  const since = Math.max(0, (asOf.getTime() - p.last.getTime()) / DAY);
  const own = p.times >= 2 ? Math.max(1, (p.last.getTime() - p.first.getTime()) / DAY / (p.times - 1)) : null;
  const cycleDays = own ?? p.productCycleDays ?? null;
  const share = p.times / (Math.max(orders, p.times) + 1);
  const recency = 0.5 ** (since / REPEAT_HALF_LIFE_DAYS);
  const due = cycleDays ? Math.min(1, since / cycleDays) ** 2 : 1;
  return {
    score: share * recency * due,
    share,
    recency,
    due,
    rhythm: p.times >= 3,
    stocked: p.times >= 3 && own !== null && since < own / 2,
    cycleDays,
    own: own !== null,
    dueAt: cycleDays ? new Date(p.last.getTime() + cycleDays * DAY) : null,
  };
}
