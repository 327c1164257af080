import { describe, expect, it } from 'vitest';
import { KokyakuError } from './errors.js';
import { decodeCursor, encodeCursor, pageSize } from './pagination.js';

describe('cursors', () => {
  it('round-trip and are tied to their list', () => {
    const cursor = encodeCursor('o', ['2026-01-01T00:00:00.000Z', '42']);
    expect(decodeCursor(cursor, 'o')).toEqual(['2026-01-01T00:00:00.000Z', '42']);
    expect(() => decodeCursor(cursor, 'c')).toThrow(KokyakuError);
    expect(() => decodeCursor('%%%', 'c')).toThrow(/not a cursor/);
  });

  it('bounds the page size', () => {
    expect(pageSize(undefined)).toBe(20);
    expect(pageSize(0)).toBe(0);
    expect(() => pageSize(501)).toThrow(/0 to 500/);
    expect(() => pageSize(2.5)).toThrow(KokyakuError);
  });
});
