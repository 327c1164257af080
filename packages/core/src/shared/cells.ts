import { offsetMinutes } from './dates.js';
/**
 * Reading spreadsheet cells as values: dates in the usual shop formats, amounts written with
 * separators and currency signs, yes/no in English and Japanese, lists, names written family name
 * first, postal codes. Each reader returns the value, or throws a `CellError` saying what it
 * expected.
 */
export class CellError extends Error {}

const MONTHS: Record<string, number> = { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 };

function zoned(y: number, m: number, d: number, h: number, min: number, s: number, timeZone: string): Date {
  const guess = Date.UTC(y, m - 1, d, h, min, s);
  const date = new Date(guess - offsetMinutes(new Date(guess), timeZone) * 60000);
  const check = new Date(Date.UTC(y, m - 1, d));
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== m - 1 || check.getUTCDate() !== d) throw new CellError('is not a calendar date');
  return date;
}

function year(y: string): number {
  const n = Number(y);
  return y.length <= 2 ? (n < 70 ? 2000 + n : 1900 + n) : n;
}

/**
 * An instant from a cell: ISO 8601 with a zone as written; otherwise a wall-clock date and time in
 * the shop's time zone: 2026-05-01, 2026/5/1 10:30, 2026年5月1日, 1-Jan-14, 01/05/2026 is not
 * accepted (day and month are ambiguous).
 */
export function readInstant(cell: string, timeZone: string): Date {
  const text = cell.normalize('NFKC').trim();
  if (/^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:?\d{2})$/i.test(text)) {
    const date = new Date(text);
    if (Number.isNaN(date.getTime())) throw new CellError('is not a date');
    return date;
  }
  let m = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$/.exec(text);
  if (m) return zoned(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0), timeZone);
  m = /^(\d{4})年(\d{1,2})月(\d{1,2})日(?:\s*(\d{1,2})[時:](\d{2})分?(?:(\d{2})秒?)?)?$/.exec(text);
  if (m) return zoned(Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0), timeZone);
  m = /^(\d{1,2})[- ]([a-z]{3})[a-z]*[- ](\d{2}|\d{4})$/i.exec(text);
  if (m && MONTHS[m[2]!.toLowerCase()]) return zoned(year(m[3]!), MONTHS[m[2]!.toLowerCase()]!, Number(m[1]), 0, 0, 0, timeZone);
  throw new CellError('is not a date (write 2026-05-01, 2026/5/1 10:30, 2026年5月1日 or 1-Jan-14)');
}

/** A calendar date (YYYY-MM-DD) from a cell in the same formats, e.g. a birthday. */
export function readDate(cell: string): string {
  const date = readInstant(cell, 'UTC');
  return date.toISOString().slice(0, 10);
}

/** An amount: 1,234 / ¥1,234 / 1234円 / 12.50 / -3. */
export function readAmount(cell: string): number {
  const text = cell
    .normalize('NFKC')
    .trim()
    .replace(/[,\s]/g, '')
    .replace(/^[¥$€£]|円$/g, '');
  if (!/^-?\d+(\.\d+)?$/.test(text)) throw new CellError('is not an amount');
  return Number(text);
}

/** A whole number of at least 1. */
export function readQuantity(cell: string): number {
  const n = readAmount(cell);
  if (!Number.isInteger(n) || n < 1) throw new CellError('is not a whole number of at least 1');
  return n;
}

const YES = new Set(['1', 'true', 'yes', 'y', 't', 'on', 'はい', '有', 'あり', '希望する', '購読', '○', '〇', '◯']);
const NO = new Set(['0', 'false', 'no', 'n', 'f', 'off', 'いいえ', '無', 'なし', '希望しない', '未購読', '×', '✕']);

export function readBoolean(cell: string): boolean {
  const text = cell.normalize('NFKC').trim().toLowerCase();
  if (YES.has(text)) return true;
  if (NO.has(text)) return false;
  throw new CellError('is not yes or no');
}

/** `a; b | c` → ['a', 'b', 'c'] (also 、 and ・ between Japanese words). */
export function readList(cell: string): string[] {
  return cell
    .split(/[;|、]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** `山田 花子` / `山田　花子` → family and given name; a single word is the family name. */
export function splitName(cell: string): { last: string; first: string | null } {
  const parts = cell.trim().split(/[\s\u3000]+/);
  return { last: parts[0]!, first: parts.length > 1 ? parts.slice(1).join(' ') : null };
}

/** `〒060-0001`, `0600001`, `０６０－０００１` → `060-0001` (Japanese seven digits); other countries as written. */
export function readPostalCode(cell: string): string {
  const text = cell
    .normalize('NFKC')
    .trim()
    .replace(/^〒\s*/, '');
  const digits = text.replace(/[-\s‐－ー]/g, '');
  if (/^\d{7}$/.test(digits)) return `${digits.slice(0, 3)}-${digits.slice(3)}`;
  if (/^[\w\s-]{2,12}$/.test(text)) return text.toUpperCase();
  throw new CellError('is not a postal code');
}

/**
 * A cell as it may go into a CSV file someone opens in a spreadsheet: text starting with = + - @
 * (or a tab or carriage return) gets a leading apostrophe, so it is never taken for a formula.
 */
export function csvSafe(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const text = value instanceof Date ? value.toISOString() : String(value);
  return /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
}

/** A cell of a CSV line: formula-safe, quoted when it holds a comma, quote or line break. */
export function csvCell(value: unknown): string {
  const text = csvSafe(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
