/**
 * The CDNOW sample's conventions (Fader, Hardie & Lee 2005): time in weeks; purchases on the same
 * day merged into one; x = repeat purchases up to the end of calibration, tx = weeks from the
 * first to the last of them, T = weeks from the first purchase to the end of calibration; m = the
 * mean value of the repeat purchases (same-day amounts summed). Used by the reference test and
 * `pnpm analytics:cdnow`; the product computes the same summary in SQL from recorded orders.
 */
export interface CdnowCustomer {
  id: string;
  x: number;
  tx: number;
  T: number;
  m: number;
}

const DAY = 86_400_000;
const toTime = (yyyymmdd: string) => Date.UTC(Number(yyyymmdd.slice(0, 4)), Number(yyyymmdd.slice(4, 6)) - 1, Number(yyyymmdd.slice(6, 8)));

export function parseCdnow(text: string): { customer: string; date: string; quantity: number; value: number }[] {
  return text
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((parts) => parts.length >= 5)
    .map(([customer, , date, quantity, value]) => ({ customer: customer!, date: date!, quantity: Number(quantity), value: Number(value) }));
}

export function summarizeCdnow(text: string, calibrationEnd: string): { customers: CdnowCustomer[] } {
  const end = Date.parse(`${calibrationEnd}T00:00:00Z`);
  const days = new Map<string, Map<number, number>>();
  for (const row of parseCdnow(text)) {
    const t = toTime(row.date);
    if (t > end) continue;
    const customer = days.get(row.customer) ?? new Map<number, number>();
    customer.set(t, (customer.get(t) ?? 0) + row.value);
    days.set(row.customer, customer);
  }
  const customers = [...days].map(([id, byDay]) => {
    const sorted = [...byDay].sort((a, b) => a[0] - b[0]);
    const first = sorted[0]![0];
    const last = sorted.at(-1)![0];
    const repeat = sorted.slice(1);
    return {
      id,
      x: repeat.length,
      tx: (last - first) / DAY / 7,
      T: (end - first) / DAY / 7,
      m: repeat.length ? repeat.reduce((s, [, v]) => s + v, 0) / repeat.length : 0,
    };
  });
  return { customers };
}
