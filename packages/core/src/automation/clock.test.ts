import { describe, expect, it } from 'vitest';
import { inWindow, minuteOfDay, nextLocalTime, parseTimeOfDay } from './clock.js';

describe('shop clock', () => {
  it('reads the local time of day', () => {
    expect(minuteOfDay(new Date('2026-11-22T00:30:00Z'), 'Asia/Tokyo')).toBe(9 * 60 + 30);
    expect(parseTimeOfDay('21:05')).toBe(21 * 60 + 5);
  });

  it('finds the next local time, today or tomorrow', () => {
    // 08:00 in Tokyo is 23:00 UTC the day before.
    expect(nextLocalTime(new Date('2026-11-22T22:10:00Z'), 9 * 60, 'Asia/Tokyo').toISOString()).toBe('2026-11-23T00:00:00.000Z');
    expect(nextLocalTime(new Date('2026-11-23T00:00:00Z'), 9 * 60, 'Asia/Tokyo').toISOString()).toBe('2026-11-23T00:00:00.000Z');
    expect(nextLocalTime(new Date('2026-11-23T00:00:01Z'), 9 * 60, 'Asia/Tokyo').toISOString()).toBe('2026-11-24T00:00:00.000Z');
  });

  it('keeps the local time across a daylight-saving change', () => {
    // New York moves from EDT (-4) to EST (-5) on 2026-11-01.
    expect(nextLocalTime(new Date('2026-10-31T20:00:00Z'), 9 * 60, 'America/New_York').toISOString()).toBe('2026-11-01T14:00:00.000Z');
  });

  it('knows quiet windows that wrap midnight', () => {
    const start = parseTimeOfDay('21:00');
    const end = parseTimeOfDay('09:00');
    expect(inWindow(new Date('2026-11-22T13:00:00Z'), 'Asia/Tokyo', start, end)).toBe(true); // 22:00 JST
    expect(inWindow(new Date('2026-11-22T23:59:00Z'), 'Asia/Tokyo', start, end)).toBe(true); // 08:59 JST
    expect(inWindow(new Date('2026-11-23T00:00:00Z'), 'Asia/Tokyo', start, end)).toBe(false); // 09:00 JST
    expect(inWindow(new Date('2026-11-23T03:00:00Z'), 'Asia/Tokyo', start, end)).toBe(false);
  });
});
