import { describe, expect, it } from 'vitest';
import { ConfigError, defineConfig, resolveShop } from './config.js';

describe('defineConfig', () => {
  it('fills every default and deep-merges overrides', () => {
    const config = defineConfig({ shop: { currency: 'EUR', timeZone: 'UTC' } }, {});
    expect(config.shop).toEqual({ currency: 'EUR', timeZone: 'UTC', defaultCountry: 'US' });
    expect(config.defaultTenant).toBe('default');
    expect(config.database.url).toBeUndefined();
    expect(config.database.embedded.dataDir).toMatch(/\.kokyaku[/\\]postgres$/);
  });

  it('reads DATABASE_URL and KOKYAKU_* from the environment', () => {
    const config = defineConfig({}, { DATABASE_URL: 'postgres://x@y/z', KOKYAKU_CURRENCY: 'EUR', KOKYAKU_TIME_ZONE: 'Europe/Paris' });
    expect(config.database.url).toBe('postgres://x@y/z');
    expect(config.shop).toMatchObject({ currency: 'EUR', timeZone: 'Europe/Paris' });
  });

  it('derives the shop settings that follow from the ones given (a shop in Asia/Tokyo with JPY is in JP)', () => {
    const shop = (given: Parameters<typeof resolveShop>[0]) => resolveShop(given).shop;
    expect(shop({ timeZone: 'Asia/Tokyo', currency: 'JPY' })).toEqual({ timeZone: 'Asia/Tokyo', currency: 'JPY', defaultCountry: 'JP' });
    expect(shop({ timeZone: 'Asia/Tokyo' })).toEqual({ timeZone: 'Asia/Tokyo', currency: 'JPY', defaultCountry: 'JP' });
    expect(shop({ currency: 'JPY' })).toEqual({ timeZone: 'Asia/Tokyo', currency: 'JPY', defaultCountry: 'JP' });
    expect(shop({ defaultCountry: 'JP' })).toEqual({ timeZone: 'Asia/Tokyo', currency: 'JPY', defaultCountry: 'JP' });
    expect(shop({ timeZone: 'Europe/Berlin' })).toEqual({ timeZone: 'Europe/Berlin', currency: 'EUR', defaultCountry: 'DE' });
    // EUR is many countries' and the US has many time zones: what cannot follow is the default.
    expect(shop({ currency: 'EUR' })).toEqual({ timeZone: 'UTC', currency: 'EUR', defaultCountry: 'US' });
    expect(shop({ defaultCountry: 'US' })).toEqual({ timeZone: 'UTC', currency: 'USD', defaultCountry: 'US' });
    expect(shop({})).toEqual({ timeZone: 'UTC', currency: 'USD', defaultCountry: 'US' });
    expect(resolveShop({ timeZone: 'Asia/Tokyo', currency: 'JPY' }).derived).toEqual(['defaultCountry']);
    // The environment and the code's settings are one set: KOKYAKU_TIME_ZONE with a currency in code.
    expect(defineConfig({ shop: { currency: 'JPY' } }, { KOKYAKU_TIME_ZONE: 'Asia/Tokyo' }).shop.defaultCountry).toBe('JP');
    expect(defineConfig({ shop: { defaultCountry: 'DE' } }, { KOKYAKU_CURRENCY: 'CHF' }).shop).toEqual({ timeZone: 'Europe/Berlin', currency: 'CHF', defaultCountry: 'DE' });
  });

  it("runs with none of the caller's KOKYAKU_* settings (tests pin their own; vitest.config.ts clears them)", () => {
    expect(Object.keys(process.env).filter((k) => k.startsWith('KOKYAKU_') && k !== 'KOKYAKU_LOG_LEVEL')).toEqual([]);
    expect(defineConfig({}).shop).toEqual({ currency: 'USD', timeZone: 'UTC', defaultCountry: 'US' });
  });

  it('explains what is wrong with a bad setting', () => {
    expect(() => defineConfig({ shop: { timeZone: 'Mars/Olympus' } }, {})).toThrow(ConfigError);
    expect(() => defineConfig({ shop: { timeZone: 'Mars/Olympus' } }, {})).toThrow(/IANA time zone/);
    expect(() => defineConfig({ shop: { currency: 'yen' } }, {})).toThrow(/ISO 4217/);
    expect(() => defineConfig({ defaultTenant: 'a b' }, {})).toThrow(/defaultTenant/);
  });
});
