import { describe, expect, it } from 'vitest';
import { addMonths, addRelative, anniversaryDays, todayIn } from './dates.js';

describe('segment dates', () => {
  it('knows today in the shop time zone', () => {
    const now = new Date('2026-03-31T20:00:00Z');
    expect(todayIn('UTC', now)).toBe('2026-03-31');
    expect(todayIn('Asia/Tokyo', now)).toBe('2026-04-01');
    expect(todayIn('America/Los_Angeles', now)).toBe('2026-03-31');
  });

  it('moves by days, weeks, months and years', () => {
    expect(addRelative('2026-03-31', -30, 'd')).toBe('2026-03-01');
    expect(addRelative('2026-03-31', 2, 'w')).toBe('2026-04-14');
    expect(addMonths('2026-03-31', -1)).toBe('2026-02-28');
    expect(addMonths('2024-03-31', -1)).toBe('2024-02-29');
    expect(addRelative('2024-02-29', -1, 'y')).toBe('2023-02-28');
    expect(addRelative('2026-01-15', -13, 'm')).toBe('2024-12-15');
  });

  it('lists anniversary days across the year end and leap days', () => {
    expect(anniversaryDays('2026-12-30', '2027-01-02')).toEqual([1230, 1231, 101, 102]);
    expect(anniversaryDays('2027-02-27', '2027-03-01')).toEqual([227, 228, 229, 301]);
    expect(anniversaryDays('2028-02-27', '2028-03-01')).toEqual([227, 228, 229, 301]);
    expect(anniversaryDays('2026-01-02', '2026-01-01')).toEqual([]);
    expect(anniversaryDays('2026-01-01', '2027-06-01')).toBe('all');
  });
});
