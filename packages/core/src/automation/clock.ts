/** Wall-clock maths in the shop's time zone for waits, quiet hours and date triggers. */
import { offsetMinutes } from '../shared/dates.js';

/** Minutes since local midnight of `at` in `timeZone`. */
export function minuteOfDay(at: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(at);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return get('hour') * 60 + get('minute');
}

/** "HH:MM" as minutes since midnight. */
export function parseTimeOfDay(text: string): number {
  const [h, m] = text.split(':').map(Number) as [number, number];
  return h * 60 + m;
}

/**
 * The first instant at or after `from` whose local time in `timeZone` is `minute` minutes past
 * midnight (a local time skipped by a daylight-saving jump resolves to the instant after it).
 */
export function nextLocalTime(from: Date, minute: number, timeZone: string): Date {
  const now = minuteOfDay(from, timeZone);
  let delta = minute - now;
  if (delta < 0) delta += 24 * 60;
  // Start of the current minute, then whole minutes: seconds of `from` are dropped.
  const base = new Date(Math.floor(from.getTime() / 60_000) * 60_000);
  let candidate = new Date(base.getTime() + delta * 60_000);
  // Across a daylight-saving change the offset moves; correct once by the difference.
  const shift = offsetMinutes(base, timeZone) - offsetMinutes(candidate, timeZone);
  if (shift !== 0) candidate = new Date(candidate.getTime() + shift * 60_000);
  return candidate < from ? new Date(candidate.getTime() + 24 * 60 * 60_000) : candidate;
}

/** Whether `at` falls in the local window [start, end) (which may wrap midnight, e.g. 21:00-09:00). */
export function inWindow(at: Date, timeZone: string, start: number, end: number): boolean {
  if (start === end) return false;
  const m = minuteOfDay(at, timeZone);
  return start < end ? m >= start && m < end : m >= start || m < end;
}
