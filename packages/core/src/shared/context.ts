import type { EntityManager } from '@mikro-orm/postgresql';

/** The shop a tenant is: its calendar, currency and country. */
export interface ShopConfig {
  /** IANA time zone of the shop, used for calendar maths such as "today" (default UTC). */
  timeZone: string;
  /** ISO 4217 currency of the shop; all money is stored in its minor units (default USD). */
  currency: string;
  /** ISO 3166-1 alpha-2 country used to read phone numbers written without a country code. */
  defaultCountry: string;
}

export const ROLES = ['ADMIN', 'MARKETER', 'SUPPORT', 'VIEWER', 'STOREFRONT'] as const;
export type Role = (typeof ROLES)[number];

/** Who is calling. The host decides (from its own session or token) and hands it to Kokyaku. */
export interface Actor {
  /** Stable id of the user or system in the host, for audit. */
  id: string;
  roles: readonly Role[];
  /** For STOREFRONT actors: the signed-in shop customer this request speaks for. */
  customerExternalId?: string;
}

/**
 * What every core service call runs in: one tenant, one actor, one EntityManager fork. Build it
 * with `kokyaku.context(...)` once per request or job, never share it across requests.
 */
export interface KokyakuContext {
  readonly tenantId: string;
  readonly actor: Actor | null;
  readonly em: EntityManager;
  readonly shop: ShopConfig;
}
