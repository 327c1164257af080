import { z } from 'zod';

/** A shop id: trimmed, 1-255 characters. */
export const externalIdSchema = z
  .string({ error: 'Required: a non-empty string.' })
  .trim()
  .min(1, 'Must not be empty.')
  .max(255, 'At most 255 characters.');

export const optionalText = (max = 1000) =>
  z
    .string({ error: 'Must be a string or null.' })
    .trim()
    .max(max, `At most ${max} characters.`)
    .transform((v) => (v === '' ? null : v))
    .nullable()
    .optional();

/** A list of labels: trimmed, empty entries dropped, duplicates removed, order kept. */
export const labelList = z
  .array(z.string({ error: 'Each entry must be a string.' }).trim().max(255, 'At most 255 characters per entry.'), {
    error: 'Must be a list of strings.',
  })
  .max(500, 'At most 500 entries.')
  .transform((list) => [...new Set(list.filter((s) => s !== ''))]);

/** A point in time: a Date or an ISO 8601 string with a time zone offset. */
export const instantSchema = z.union(
  [
    z.date({ error: 'Must be a valid date.' }).refine((d) => !Number.isNaN(d.getTime()), 'Must be a valid date.'),
    z.iso.datetime({ offset: true, error: 'Must be an ISO 8601 date-time with a time zone, e.g. 2026-03-01T10:00:00Z.' }).transform((s) => new Date(s)),
  ],
  { error: 'Must be an ISO 8601 date-time with a time zone, e.g. 2026-03-01T10:00:00Z.' },
);

/** A JSON object (not an array, not a scalar). */
export const jsonObject = z.record(z.string(), z.unknown(), { error: 'Must be a JSON object.' });

/** Kokyaku's id of a row: a bigint written in decimal. */
export const isId = (id: unknown): id is string => typeof id === 'string' && /^\d{1,18}$/.test(id);

/** `YYYY-MM-DD` naming a day of the calendar (not 2026-02-30). */
export function isCalendarDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
}
