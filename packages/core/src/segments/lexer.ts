import type { Position } from './ast.js';
import { SegmentQueryError } from './errors.js';

export type TokenType = 'ident' | 'string' | 'number' | 'date' | 'relative' | 'op' | '(' | ')' | ',' | '.' | 'eof';

export interface Token {
  type: TokenType;
  /** The text as written (for strings: the unescaped value). */
  text: string;
  pos: Position;
}

export const MAX_QUERY_LENGTH = 10_000;

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

function isIdentStart(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z_]/.test(c);
}

function isIdentPart(c: string | undefined): boolean {
  return c !== undefined && /[A-Za-z0-9_]/.test(c);
}

export function isCalendarDate(text: string): boolean {
  const date = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === text;
}

/** Splits a segment query into tokens, each with its line and column. */
export function tokenize(source: string): Token[] {
  if (source.length > MAX_QUERY_LENGTH) {
    throw new SegmentQueryError(`The query is longer than ${MAX_QUERY_LENGTH} characters`, { offset: 0, line: 1, column: 1 });
  }
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const pos = (offset: number): Position => ({ offset, line, column: offset - lineStart + 1 });

  while (i < source.length) {
    const c = source[i]!;
    if (c === '\n') {
      i++;
      line++;
      lineStart = i;
      continue;
    }
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = pos(i);
    const read =
      c === "'" || c === '"'
        ? readString(source, i, start)
        : isDigit(c) || ((c === '-' || c === '+') && isDigit(source[i + 1]))
          ? readNumber(source, i, start)
          : readOther(source, i, start);
    tokens.push(read.token);
    i = read.end;
  }
  tokens.push({ type: 'eof', text: '', pos: pos(i) });
  return tokens;
}

/** A quoted string from `i` (its quote doubled or backslashed inside). */
function readString(source: string, i: number, start: Position): { token: Token; end: number } {
  const c = source[i]!;
  let value = '';
  let j = i + 1;
  for (;;) {
    const d = source[j];
    if (d === undefined || d === '\n') {
      throw new SegmentQueryError(`Unterminated string: close it with ${c}`, start, { expected: [c] });
    }
    if (d === '\\' && j + 1 < source.length) {
      value += source[j + 1];
      j += 2;
      continue;
    }
    if (d === c) {
      if (source[j + 1] === c) {
        value += c;
        j += 2;
        continue;
      }
      break;
    }
    value += d;
    j++;
  }
  return { token: { type: 'string', text: value, pos: start }, end: j + 1 };
}

/** A number, a date (YYYY-MM-DD) or a relative date (-30d) from `i`. */
function readNumber(source: string, i: number, start: Position): { token: Token; end: number } {
  const signed = source[i] === '-' || source[i] === '+';
  let j = signed ? i + 1 : i;
  while (isDigit(source[j])) j++;
  // YYYY-MM-DD
  if (!signed && j - i === 4 && source[j] === '-' && /^\d{2}-\d{2}/.test(source.slice(j + 1, j + 6))) {
    const text = source.slice(i, j + 6);
    if (isIdentPart(source[j + 6])) throw new SegmentQueryError(`"${source.slice(i, j + 7)}…" is not a date; write YYYY-MM-DD`, start);
    if (!isCalendarDate(text)) throw new SegmentQueryError(`${text} is not a calendar date`, start);
    return { token: { type: 'date', text, pos: start }, end: j + 6 };
  }
  // -30d, +2w, -3m, -1y
  if (/[dwmy]/i.test(source[j] ?? '') && !isIdentPart(source[j + 1])) {
    if (!signed) {
      throw new SegmentQueryError(`A relative date needs a sign: write -${source.slice(i, j + 1)} (past) or +${source.slice(i, j + 1)} (future)`, start);
    }
    return { token: { type: 'relative', text: source.slice(i, j + 1).toLowerCase(), pos: start }, end: j + 1 };
  }
  if (source[j] === '.' && isDigit(source[j + 1])) {
    j++;
    while (isDigit(source[j])) j++;
  }
  if (isIdentPart(source[j])) {
    throw new SegmentQueryError(`"${source.slice(i, j + 1)}" is not a number; units are d, w, m, y (e.g. -30d)`, start);
  }
  return { token: { type: 'number', text: source.slice(i, j), pos: start }, end: j };
}

/** A name, an operator or punctuation from `i`. */
function readOther(source: string, i: number, start: Position): { token: Token; end: number } {
  const c = source[i]!;
  if (isIdentStart(c)) {
    let j = i + 1;
    while (isIdentPart(source[j])) j++;
    return { token: { type: 'ident', text: source.slice(i, j), pos: start }, end: j };
  }
  const two = source.slice(i, i + 2);
  if (two === '>=' || two === '<=' || two === '!=' || two === '<>' || two === '==') {
    return { token: { type: 'op', text: two === '<>' ? '!=' : two === '==' ? '=' : two, pos: start }, end: i + 2 };
  }
  if (c === '=' || c === '>' || c === '<') return { token: { type: 'op', text: c, pos: start }, end: i + 1 };
  if (c === '(' || c === ')' || c === ',' || c === '.') return { token: { type: c, text: c, pos: start }, end: i + 1 };
  throw new SegmentQueryError(`Unexpected character "${c}"`, start, {
    expected: ['a name', 'a value', 'an operator', '(', ')'],
  });
}
