const digitsCache = new Map<string, number>();

/** Number of minor-unit digits of an ISO 4217 currency (JPY 0, USD 2, KWD 3), from Intl. */
export function currencyDigits(currency: string): number {
  let digits = digitsCache.get(currency);
  if (digits === undefined) {
    digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    digitsCache.set(currency, digits);
  }
  return digits;
}

export function isKnownCurrency(currency: string): boolean {
  if (!/^[A-Z]{3}$/.test(currency)) return false;
  try {
    currencyDigits(currency);
    return true;
  } catch {
    return false;
  }
}

/**
 * Converts an amount in major units (12.34 USD) to integer minor units (1234).
 * Returns undefined when the amount has more decimals than the currency allows.
 */
export function toMinorUnits(amount: number, currency: string): number | undefined {
  const scale = 10 ** currencyDigits(currency);
  const scaled = amount * scale;
  const rounded = Math.round(scaled);
  if (Math.abs(scaled - rounded) > 1e-6 * Math.max(1, Math.abs(scaled))) return undefined;
  return rounded;
}

/** The largest amount in minor units Kokyaku stores exactly: 2^53 - 1 (bigint columns, JavaScript numbers). */
export const MAX_MINOR = Number.MAX_SAFE_INTEGER;

/**
 * Why an amount in major units cannot be stored exactly, or null: more decimals than the
 * currency has, or more minor units than MAX_MINOR (a price past 2^53 would be rounded).
 */
export function moneyProblem(amount: number, currency: string): string | null {
  if (!Number.isFinite(amount)) return 'Must be a finite number.';
  const minor = toMinorUnits(amount, currency);
  if (minor === undefined) return `Has more decimals than ${currency} allows.`;
  if (!Number.isSafeInteger(minor))
    return `Must be at most ${(MAX_MINOR / 10 ** currencyDigits(currency)).toLocaleString('en')} ${currency}: larger amounts cannot be stored exactly.`;
  return null;
}

/** Converts integer minor units back to a major-unit number (1234 -> 12.34 for USD). */
export function toMajorUnits(minor: number, currency: string): number {
  const digits = currencyDigits(currency);
  return digits === 0 ? minor : Number((minor / 10 ** digits).toFixed(digits));
}
