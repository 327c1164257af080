import { z } from 'zod';
import { KokyakuError } from './errors.js';

/**
 * The one validation layer in front of SQL: every value a batch, an import or a GraphQL call
 * hands to ingestion passes these checks, and a value that fails is a per-item error naming
 * its field. What is refused (nothing is silently changed):
 * - text with a NUL character or a lone UTF-16 surrogate (PostgreSQL cannot store either);
 * - text longer than its field allows (an email 254 characters, RFC 5321);
 * - a point in time outside 1900-01-01 .. one year from now (INSTANT_RANGE);
 * - an amount that is not exactly representable in minor units below 2^53 (money.ts);
 * - a JSON object nested deeper than JSON_LIMITS.depth or larger than JSON_LIMITS.bytes.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what PostgreSQL cannot store in text.
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The first character of `value` PostgreSQL cannot store (a NUL, a lone surrogate), with its offset. */
export function findUnstorable(value: string): { index: number; nul: boolean } | null {
  const found = UNSTORABLE.exec(value);
  return found ? { index: found.index, nul: found[0] === '\u0000' } : null;
}

/** `value` as it can be shown and stored: NUL written `\0`, a lone surrogate U+FFFD. */
export function storableForm(value: string): string {
  return value.replace(new RegExp(UNSTORABLE.source, 'g'), (c) => (c === '\u0000' ? '\\0' : '\uFFFD'));
}

export function textProblem(value: string): string | null {
  const found = findUnstorable(value);
  if (!found) return null;
  return found.nul ? 'Must not contain a NUL character (\\u0000).' : 'Must be valid Unicode text (it holds a lone UTF-16 surrogate).';
}

/** A string that PostgreSQL can store: no NUL, no lone surrogate. */
export const safeString = (error: string) =>
  z.string({ error }).superRefine((value, ctx) => {
    const problem = textProblem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** A shop id: trimmed, 1-255 characters. */
export const externalIdSchema = safeString('Required: a non-empty string.').trim().min(1, 'Must not be empty.').max(255, 'At most 255 characters.');

export const optionalText = (max = 1000) =>
  safeString('Must be a string or null.')
    .trim()
    .max(max, `At most ${max} characters.`)
    .transform((v) => (v === '' ? null : v))
    .nullable()
    .optional();

/** A list of labels: trimmed, empty entries dropped, duplicates removed, order kept. */
export const labelList = z
  .array(safeString('Each entry must be a string.').trim().max(255, 'At most 255 characters per entry.'), {
    error: 'Must be a list of strings.',
  })
  .max(500, 'At most 500 entries.')
  .transform((list) => [...new Set(list.filter((s) => s !== ''))]);

/** The points in time ingestion takes: from 1900 to a year ahead (a clock a little off is fine; 9999-12-31 is not). */
export const INSTANT_RANGE = { from: new Date('1900-01-01T00:00:00Z'), aheadMs: 366 * 86_400_000 } as const;

/** A point in time: a Date or an ISO 8601 string with a time zone offset, within INSTANT_RANGE. */
export const instantSchema = z
  .union(
    [
      z.date({ error: 'Must be a valid date.' }).refine((d) => !Number.isNaN(d.getTime()), 'Must be a valid date.'),
      z.iso.datetime({ offset: true, error: 'Must be an ISO 8601 date-time with a time zone, e.g. 2026-03-01T10:00:00Z.' }).transform((s) => new Date(s)),
    ],
    { error: 'Must be an ISO 8601 date-time with a time zone, e.g. 2026-03-01T10:00:00Z.' },
  )
  .refine((d) => d.getTime() >= INSTANT_RANGE.from.getTime() && d.getTime() <= Date.now() + INSTANT_RANGE.aheadMs, 'Must be between 1900-01-01 and one year from now.');

/** How deep and how large a JSON object (custom fields, event properties) may be. */
export const JSON_LIMITS = { depth: 10, bytes: 64 * 1024 } as const;

/** Depth of a JSON value, counted without recursion (a value nested 5,000 deep cannot overflow the stack). */
function jsonProblem(value: unknown): string | null {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v === 'string') {
      const problem = textProblem(v);
      if (problem) return problem;
    }
    if (typeof v !== 'object' || v === null) continue;
    if (depth > JSON_LIMITS.depth) return `Must not be nested deeper than ${JSON_LIMITS.depth} levels.`;
    for (const [key, child] of Object.entries(v)) {
      const problem = textProblem(key);
      if (problem) return problem;
      stack.push([child, depth + 1]);
    }
  }
  let size: number;
  try {
    size = Buffer.byteLength(JSON.stringify(value));
  } catch {
    return 'Must be JSON.';
  }
  if (size > JSON_LIMITS.bytes) return `Must be at most ${JSON_LIMITS.bytes / 1024} KB as JSON (it is ${Math.ceil(size / 1024)} KB).`;
  return null;
}

/** A JSON object (not an array, not a scalar), within JSON_LIMITS, its text storable. */
export const jsonObject = z.record(z.string(), z.unknown(), { error: 'Must be a JSON object.' }).superRefine((value, ctx) => {
  const problem = jsonProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** Kokyaku's id of a row: a bigint written in decimal. */
export const isId = (id: unknown): id is string => typeof id === 'string' && /^\d{1,18}$/.test(id);

/** `YYYY-MM-DD` naming a day of the calendar (not 2026-02-30). */
export function isCalendarDate(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const date = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value;
}

/** A zod issue path as written in errors: `lines[2].quantity`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

/**
 * Parses one input with its schema; the first problem becomes a BAD_USER_INPUT naming the field
 * (`extensions.field`), and every problem is listed in `extensions.problems`.
 */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ field: formatPath([...issue.path, key]), message: `Unknown field "${key}".` }))
      : [{ field: formatPath(issue.path) || what, message: issue.message }],
  );
  const first = problems[0]!;
  throw KokyakuError.badInput(`${what}: ${first.field}: ${first.message}`, { field: first.field, problems });
}

export { unique } from './pg-errors.js';
