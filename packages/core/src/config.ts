import path from 'node:path';
import timezones from 'countries-and-timezones';
import countryToCurrency from 'country-to-currency';
import { DEFAULT_RFM_GRID, validateRfmGrid } from './shared/rfm.js';
import type { KokyakuPlugin } from './plugin.js';

import type { AnalyticsConfig } from './analytics/config.js';
import type { AutomationConfig, MessagingConfig } from './automation/config.js';
import type { DatabaseConfig, EmbeddedDatabaseConfig } from './database/config.js';
import type { ImportsConfig } from './imports/config.js';
import { DEFAULT_MAILBOX_CONFIG, type MailboxConfig } from './mailbox/config.js';
import type { RecommendationsConfig } from './recommendations/config.js';

export type { AnalyticsConfig, AutomationConfig, DatabaseConfig, EmbeddedDatabaseConfig, ImportsConfig, MailboxConfig, MessagingConfig, RecommendationsConfig };

/**
 * Kokyaku configuration. Everything has a default; `defineConfig` fills them in, so a host can
 * start with `defineConfig({})` and override only what it needs.
 */
export interface KokyakuConfig {
  database: DatabaseConfig;
  /** The tenant used when a caller does not name one (single-shop installs never need another). */
  defaultTenant: string;
  shop: ShopConfig;
  analytics: AnalyticsConfig;
  recommendations: RecommendationsConfig;
  imports: ImportsConfig;
  messaging: MessagingConfig;
  automation: AutomationConfig;
  /** Mailbox sync: staff mail with customers on their timelines (docs/mailbox.md). */
  mailbox: MailboxConfig;
  /** Plugins (docs/plugins.md), in the order their hooks run. */
  plugins: KokyakuPlugin[];
}

import type { ShopConfig } from './shared/context.js';
export type { ShopConfig };

export type DeepPartial<T> = {
  [K in keyof T]?: T[K] extends (...args: never[]) => unknown ? T[K] : T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? DeepPartial<T[K]> : T[K];
};

export type KokyakuUserConfig = DeepPartial<KokyakuConfig>;

export function defaultConfig(env: NodeJS.ProcessEnv = process.env): KokyakuConfig {
  return {
    database: {
      url: env.DATABASE_URL || undefined,
      migrate: true,
      poolSize: 10,
      readReplicas: (env.DATABASE_REPLICA_URLS ?? '').split(/[\s,]+/).filter(Boolean),
      replicaWaitMs: 500,
      embedded: {
        dataDir: env.KOKYAKU_DATA_DIR ? path.resolve(env.KOKYAKU_DATA_DIR) : path.resolve(process.cwd(), '.kokyaku', 'postgres'),
        databaseName: 'kokyaku',
        port: 0,
        ephemeral: false,
        settings: {},
      },
    },
    defaultTenant: env.KOKYAKU_TENANT || 'default',
    shop: resolveShop(shopFromEnv(env)).shop,
    imports: { directory: env.KOKYAKU_IMPORT_DIR ? path.resolve(env.KOKYAKU_IMPORT_DIR) : null, share: env.KOKYAKU_IMPORT_SHARE ? Number(env.KOKYAKU_IMPORT_SHARE) : 1 },
    messaging: {
      publicUrl: env.KOKYAKU_PUBLIC_URL || null,
      email: env.KOKYAKU_SMTP_URL ? { smtp: env.KOKYAKU_SMTP_URL, from: env.KOKYAKU_MAIL_FROM || 'shop@localhost' } : null,
      line: env.KOKYAKU_LINE_TOKEN ? { channelAccessToken: env.KOKYAKU_LINE_TOKEN, apiUrl: env.KOKYAKU_LINE_API_URL || undefined } : null,
      sms:
        env.KOKYAKU_TWILIO_SID && env.KOKYAKU_TWILIO_TOKEN && env.KOKYAKU_SMS_FROM
          ? {
              accountSid: env.KOKYAKU_TWILIO_SID,
              authToken: env.KOKYAKU_TWILIO_TOKEN,
              from: env.KOKYAKU_SMS_FROM,
              apiUrl: env.KOKYAKU_TWILIO_API_URL || undefined,
              statusCallback: env.KOKYAKU_PUBLIC_URL ? `${env.KOKYAKU_PUBLIC_URL.replace(/\/$/, '')}/sms/status` : null,
            }
          : null,
      webhookSecret: env.KOKYAKU_WEBHOOK_SECRET || null,
      allowPrivateWebhooks: env.KOKYAKU_ALLOW_PRIVATE_WEBHOOKS === '1' || env.KOKYAKU_ALLOW_PRIVATE_WEBHOOKS === 'true',
      adapters: {},
    },
    plugins: [],
    mailbox: { ...DEFAULT_MAILBOX_CONFIG, encryptionKey: env.KOKYAKU_MAIL_KEY || null },
    automation: { worker: true, concurrency: 4, sweepSeconds: 15, staleSeconds: 60, retryLimit: 5, retryDelaySeconds: 10 },
    recommendations: {
      excludePurchased: 'auto',
      repurchaseThreshold: 0.15,
      recencyHalfLifeDays: 30,
      popularityWeight: 'auto',
      seedIdf: true,
      repeatWeight: 'auto',
      cycles: 'auto',
    },
    analytics: {
      rfmGrid: DEFAULT_RFM_GRID,
      clv: { horizonMonths: 12, annualDiscountRate: 0, sampleSize: 100_000, minCustomers: 100 },
    },
  };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  // Instances (a channel adapter, an SMS provider) are taken as they are, never merged.
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Deep-merges `override` over `base`; arrays and functions replace, `undefined` keeps the base. */
export function mergeConfig<T>(base: T, override: DeepPartial<T> | undefined): T {
  if (!override) return base;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(override)) {
    if (value === undefined) continue;
    const current = out[key];
    out[key] = isPlainObject(current) && isPlainObject(value) ? mergeConfig(current, value) : value;
  }
  return out as T;
}

/**
 * Builds a complete configuration from the parts you give, and checks it.
 *
 * @example
 * const config = defineConfig({ shop: { currency: 'JPY', timeZone: 'Asia/Tokyo', defaultCountry: 'JP' } });
 */
export function defineConfig(user: KokyakuUserConfig = {}, env: NodeJS.ProcessEnv = process.env): KokyakuConfig {
  const config = mergeConfig(defaultConfig(env), user);
  // The shop's settings are derived from what was given (here or in the environment) as a whole.
  config.shop = resolveShop({ ...shopFromEnv(env), ...definedOnly(user.shop ?? {}) }).shop;
  validateConfig(config);
  return config;
}

/** The shop settings of `KOKYAKU_CURRENCY`, `KOKYAKU_TIME_ZONE` and `KOKYAKU_DEFAULT_COUNTRY` (those set). */
export function shopFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<ShopConfig> {
  return definedOnly({
    currency: env.KOKYAKU_CURRENCY || undefined,
    timeZone: env.KOKYAKU_TIME_ZONE || undefined,
    defaultCountry: env.KOKYAKU_DEFAULT_COUNTRY || undefined,
  });
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined && v !== null && v !== '')) as Partial<T>;
}

/** The countries whose currency this is (ISO 3166-1 alpha-2). */
function countriesOfCurrency(currency: string): string[] {
  return Object.entries(countryToCurrency as Record<string, string>)
    .filter(([, c]) => c === currency)
    .map(([country]) => country);
}

/**
 * A shop's settings from the ones given, the others derived where they follow: the country from
 * the time zone (Asia/Tokyo: JP) or from a currency only one country uses (JPY: JP), the
 * currency from the country (JP: JPY), the time zone from a country whose clocks all read the
 * same (JP: Asia/Tokyo).
 * What cannot be derived is UTC, US and USD. `derived` names the settings that were derived or
 * defaulted, for a start-up line that says where each value came from.
 */
export function resolveShop(given: Partial<ShopConfig>): { shop: ShopConfig; derived: (keyof ShopConfig)[] } {
  const shop: Partial<ShopConfig> = { ...given };
  if (!shop.defaultCountry && shop.timeZone) {
    const country = timezones.getTimezone(shop.timeZone)?.countries[0];
    if (country) shop.defaultCountry = country;
  }
  if (!shop.defaultCountry && shop.currency) {
    const countries = countriesOfCurrency(shop.currency);
    if (countries.length === 1) shop.defaultCountry = countries[0];
  }
  if (!shop.currency && shop.defaultCountry) shop.currency = (countryToCurrency as Record<string, string>)[shop.defaultCountry];
  if (!shop.timeZone && shop.defaultCountry) {
    // A country whose clocks all read the same (JP; DE with Büsingen) has one time zone in effect.
    const zones = (timezones.getCountry(shop.defaultCountry)?.timezones ?? []).map((name) => timezones.getTimezone(name)).filter((z) => z !== null);
    if (zones.length > 0 && zones.every((z) => z.utcOffset === zones[0]!.utcOffset && z.dstOffset === zones[0]!.dstOffset)) shop.timeZone = zones[0]!.name;
  }
  const complete: ShopConfig = { timeZone: shop.timeZone ?? 'UTC', currency: shop.currency ?? 'USD', defaultCountry: shop.defaultCountry ?? 'US' };
  const derived = (['currency', 'timeZone', 'defaultCountry'] as const).filter((key) => given[key] === undefined);
  return { shop: complete, derived };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function validateConfig(config: KokyakuConfig): void {
  const { shop } = config;
  try {
    new Intl.DateTimeFormat('en', { timeZone: shop.timeZone });
  } catch {
    throw new ConfigError(`shop.timeZone "${shop.timeZone}" is not an IANA time zone (e.g. "Asia/Tokyo", "UTC").`);
  }
  if (!/^[A-Z]{3}$/.test(shop.currency)) {
    throw new ConfigError(`shop.currency "${shop.currency}" must be an ISO 4217 code in capitals (e.g. "JPY", "USD").`);
  }
  try {
    new Intl.NumberFormat('en', { style: 'currency', currency: shop.currency });
  } catch {
    throw new ConfigError(`shop.currency "${shop.currency}" is not a currency this runtime knows.`);
  }
  if (!/^[A-Z]{2}$/.test(shop.defaultCountry)) {
    throw new ConfigError(`shop.defaultCountry "${shop.defaultCountry}" must be an ISO 3166-1 alpha-2 code (e.g. "JP").`);
  }
  if (!config.defaultTenant || !/^[A-Za-z0-9_.-]{1,64}$/.test(config.defaultTenant)) {
    throw new ConfigError(`defaultTenant "${config.defaultTenant}" must be 1-64 letters, digits, "_", "-" or ".".`);
  }
  const gridProblem = validateRfmGrid(config.analytics.rfmGrid);
  if (gridProblem) throw new ConfigError(gridProblem);
  const { clv } = config.analytics;
  if (!(clv.horizonMonths > 0 && clv.horizonMonths <= 120)) throw new ConfigError('analytics.clv.horizonMonths must be between 1 and 120.');
  if (!(clv.annualDiscountRate >= 0 && clv.annualDiscountRate < 1)) throw new ConfigError('analytics.clv.annualDiscountRate must be in [0, 1), e.g. 0.1 for 10%.');
  if (!(Number.isInteger(clv.sampleSize) && clv.sampleSize >= 1000)) throw new ConfigError('analytics.clv.sampleSize must be an integer of at least 1000.');
  const recs = config.recommendations;
  if (!['auto', 'always', 'never'].includes(recs.excludePurchased)) throw new ConfigError('recommendations.excludePurchased is "auto", "always" or "never".');
  if (!(recs.repurchaseThreshold >= 0 && recs.repurchaseThreshold <= 1)) throw new ConfigError('recommendations.repurchaseThreshold must be between 0 and 1.');
  if (!(recs.recencyHalfLifeDays > 0)) throw new ConfigError('recommendations.recencyHalfLifeDays must be positive.');
  if (recs.popularityWeight !== 'auto' && !(recs.popularityWeight >= 0 && recs.popularityWeight <= 1)) {
    throw new ConfigError('recommendations.popularityWeight must be "auto" or between 0 and 1.');
  }
  if (recs.repeatWeight !== 'auto' && !(recs.repeatWeight >= 0 && recs.repeatWeight <= 1)) {
    throw new ConfigError('recommendations.repeatWeight must be "auto" or between 0 and 1.');
  }
  if (recs.cycles !== 'auto' && typeof recs.cycles !== 'boolean') throw new ConfigError('recommendations.cycles must be "auto", true or false.');
  if (config.messaging.publicUrl !== null && !/^https?:\/\//.test(config.messaging.publicUrl)) {
    throw new ConfigError(`messaging.publicUrl "${config.messaging.publicUrl}" must be an http(s) URL.`);
  }
  const a = config.automation;
  if (!(Number.isInteger(a.concurrency) && a.concurrency >= 1)) throw new ConfigError('automation.concurrency must be a positive integer.');
  if (!(a.sweepSeconds >= 0.5)) throw new ConfigError('automation.sweepSeconds must be at least 0.5.');
  if (!(a.staleSeconds >= 1)) throw new ConfigError('automation.staleSeconds must be at least 1.');
  if (!(Number.isInteger(a.retryLimit) && a.retryLimit >= 0)) throw new ConfigError('automation.retryLimit must be an integer of 0 or more.');
  const m = config.mailbox;
  if (!(m.pollSeconds >= 1)) throw new ConfigError('mailbox.pollSeconds must be at least 1.');
  if (!(Number.isInteger(m.chunkSize) && m.chunkSize >= 1 && m.chunkSize <= 1000)) throw new ConfigError('mailbox.chunkSize must be an integer from 1 to 1000.');
  if (!(m.maxMessageBytes >= 1024)) throw new ConfigError('mailbox.maxMessageBytes must be at least 1024.');
  if (!(m.timeoutSeconds > 0)) throw new ConfigError('mailbox.timeoutSeconds must be positive.');
  if (!Number.isInteger(config.database.poolSize) || config.database.poolSize < 1) {
    throw new ConfigError('database.poolSize must be a positive integer.');
  }
  for (const url of config.database.readReplicas) {
    if (!/^postgres(ql)?:\/\//.test(url)) throw new ConfigError('database.readReplicas: each must be a postgres:// connection string.');
  }
  if (!(config.imports.share > 0 && config.imports.share <= 1)) throw new ConfigError('imports.share (KOKYAKU_IMPORT_SHARE) must be more than 0 and at most 1.');
  if (!(config.database.replicaWaitMs >= 0)) throw new ConfigError('database.replicaWaitMs must be 0 or more.');
}
