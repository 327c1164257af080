import { describe, expect, it } from 'vitest';
import { ConfigError, defineConfig } from './config.js';

describe('defineConfig', () => {
  it('fills every default and deep-merges overrides', () => {
    const config = defineConfig({ shop: { currency: 'JPY' } }, {});
    expect(config.shop).toEqual({ currency: 'JPY', timeZone: 'UTC', defaultCountry: 'US' });
    expect(config.defaultTenant).toBe('default');
    expect(config.database.url).toBeUndefined();
    expect(config.database.embedded.dataDir).toMatch(/\.kokyaku[/\\]postgres$/);
  });

  it('reads DATABASE_URL and KOKYAKU_* from the environment', () => {
    const config = defineConfig({}, { DATABASE_URL: 'postgres://x@y/z', KOKYAKU_CURRENCY: 'EUR', KOKYAKU_TIME_ZONE: 'Europe/Paris' });
    expect(config.database.url).toBe('postgres://x@y/z');
    expect(config.shop).toMatchObject({ currency: 'EUR', timeZone: 'Europe/Paris' });
  });

  it('explains what is wrong with a bad setting', () => {
    expect(() => defineConfig({ shop: { timeZone: 'Mars/Olympus' } }, {})).toThrow(ConfigError);
    expect(() => defineConfig({ shop: { timeZone: 'Mars/Olympus' } }, {})).toThrow(/IANA time zone/);
    expect(() => defineConfig({ shop: { currency: 'yen' } }, {})).toThrow(/ISO 4217/);
    expect(() => defineConfig({ defaultTenant: 'a b' }, {})).toThrow(/defaultTenant/);
  });
});
