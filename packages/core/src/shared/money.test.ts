import { describe, expect, it } from 'vitest';
import { currencyDigits, toMajorUnits, toMinorUnits } from './money.js';

describe('money in minor units', () => {
  it('knows each currency’s minor-unit digits', () => {
    expect([currencyDigits('JPY'), currencyDigits('USD'), currencyDigits('KWD')]).toEqual([0, 2, 3]);
  });

  it('converts without floating-point drift', () => {
    expect(toMinorUnits(19.99, 'USD')).toBe(1999);
    expect(toMinorUnits(0.1 + 0.2, 'USD')).toBe(30);
    expect(toMinorUnits(1200, 'JPY')).toBe(1200);
    expect(toMajorUnits(1999, 'USD')).toBe(19.99);
    expect(toMajorUnits(1200, 'JPY')).toBe(1200);
  });

  it('refuses amounts finer than the currency allows', () => {
    expect(toMinorUnits(10.5, 'JPY')).toBeUndefined();
    expect(toMinorUnits(1.999, 'USD')).toBeUndefined();
  });
});
