/** Calendar arithmetic on YYYY-MM-DD strings (UTC-based, so no daylight-saving surprises). */

/** The shapes dates are formatted in: each gets one formatter per time zone. */
interface Shape {
  locale: string;
  options: Intl.DateTimeFormatOptions;
  /** By time zone: making an Intl.DateTimeFormat costs about as much as a simple request's own work. */
  byZone: Map<string, Intl.DateTimeFormat>;
}
// en-CA formats as YYYY-MM-DD.
const DAY: Shape = { locale: 'en-CA', options: { year: 'numeric', month: '2-digit', day: '2-digit' }, byZone: new Map() };
const INSTANT: Shape = {
  locale: 'en-US',
  options: { hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' },
  byZone: new Map(),
};

function formatter(shape: Shape, timeZone: string): Intl.DateTimeFormat {
  let format = shape.byZone.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat(shape.locale, { ...shape.options, timeZone });
    // A handful of zones in practice; a bound all the same.
    if (shape.byZone.size > 1000) shape.byZone.clear();
    shape.byZone.set(timeZone, format);
  }
  return format;
}

/** Today's date in a time zone, as YYYY-MM-DD. */
export function todayIn(timeZone: string, now: Date = new Date()): string {
  return formatter(DAY, timeZone).format(now);
}

function parts(date: string): [number, number, number] {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return [y, m, d];
}

function format(y: number, m: number, d: number): string {
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

export function addDays(date: string, days: number): string {
  const [y, m, d] = parts(date);
  const t = new Date(Date.UTC(y, m - 1, d + days));
  return format(t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate());
}

/** Adds months, keeping the day of month where it exists (Mar 31 - 1 month = Feb 28/29). */
export function addMonths(date: string, months: number): string {
  const [y, m, d] = parts(date);
  const index = y * 12 + (m - 1) + months;
  const year = Math.floor(index / 12);
  const month = (index % 12) + 1;
  const lastDay = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return format(year, month, Math.min(d, lastDay));
}

export function addRelative(date: string, amount: number, unit: 'd' | 'w' | 'm' | 'y'): string {
  switch (unit) {
    case 'd':
      return addDays(date, amount);
    case 'w':
      return addDays(date, amount * 7);
    case 'm':
      return addMonths(date, amount);
    case 'y':
      return addMonths(date, amount * 12);
  }
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/**
 * The month-days (MMDD as a number) whose anniversary falls in [from, to]. A February 29 date
 * has its anniversary on February 28 in other years.
 */
export function anniversaryDays(from: string, to: string): number[] | 'all' {
  if (to < from) return [];
  if (addDays(from, 366) <= to) return 'all';
  const days = new Set<number>();
  for (let day = from; day <= to; day = addDays(day, 1)) {
    const [y, m, d] = parts(day);
    days.add(m * 100 + d);
    if (m === 2 && d === 28 && !isLeapYear(y)) days.add(229);
  }
  return [...days];
}

/** The offset of `timeZone` from UTC at `at`, in minutes (Tokyo: +540). */
export function offsetMinutes(at: Date, timeZone: string): number {
  const parts = formatter(INSTANT, timeZone).formatToParts(at);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const asUtc = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return Math.round((asUtc - Math.floor(at.getTime() / 1000) * 1000) / 60_000);
}

/** SQL: the instant a day (an expression giving a date) starts in a time zone (an expression giving its name). */
export const dayStart = (date: string, tz: string) => `((${date}::date)::timestamp at time zone ${tz})`;

/** The first day of the period (ISO week from Monday) a YYYY-MM-DD day falls in. */
export function periodStart(day: string, period: 'DAY' | 'WEEK' | 'MONTH'): string {
  if (period === 'MONTH') return `${day.slice(0, 8)}01`;
  if (period === 'WEEK') return addDays(day, -((new Date(`${day}T00:00:00Z`).getUTCDay() + 6) % 7));
  return day;
}

/** The last day of the period a day falls in. */
export function periodEnd(day: string, period: 'DAY' | 'WEEK' | 'MONTH'): string {
  if (period === 'MONTH') return addDays(addMonths(periodStart(day, 'MONTH'), 1), -1);
  if (period === 'WEEK') return addDays(periodStart(day, 'WEEK'), 6);
  return day;
}
