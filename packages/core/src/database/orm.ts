import type { EntitySchema, MigrationObject } from '@mikro-orm/core';
import { Migrator } from '@mikro-orm/migrations';
import { MikroORM, PostgreSqlDriver } from '@mikro-orm/postgresql';
import pg from 'pg';
import { KokyakuError } from '../shared/errors.js';
import { coreMigrations } from './migrations/index.js';

export interface OrmOptions {
  url: string;
  poolSize: number;
  onQuery?: (sql: string) => void;
  /** Migrations of plugins, applied after core's. */
  migrations?: MigrationObject[];
  /** Entities of plugins (core has none: its schema is its migrations, docs/architecture.md). */
  entities?: EntitySchema<any, any>[];
}

export async function createOrm(options: OrmOptions): Promise<MikroORM> {
  let orm: MikroORM;
  try {
    orm = await MikroORM.init({
      driver: PostgreSqlDriver,
      clientUrl: options.url,
      entities: [...(options.entities ?? [])],
      discovery: { warnWhenNoEntities: false },
      extensions: [Migrator],
      migrations: {
        tableName: 'kokyaku.migrations',
        migrationsList: [...coreMigrations, ...(options.migrations ?? [])],
        transactional: true,
        allOrNothing: true,
        snapshot: false,
        silent: true,
      },
      pool: { min: 0, max: options.poolSize },
      allowGlobalContext: false,
      debug: false,
      ensureDatabase: false,
    });
  } catch (error) {
    throw KokyakuError.databaseUnavailable(error);
  }
  if (options.onQuery) {
    const listener = options.onQuery;
    orm.em.getKnex().on('query', (query: { sql: string }) => listener(query.sql));
  }
  return orm;
}

/**
 * Applies pending migrations. Several processes may start at once (a fleet of servers, parallel
 * test files): a PostgreSQL advisory lock makes them take turns.
 */
export async function migrate(orm: MikroORM, url: string): Promise<string[]> {
  const lock = new pg.Client({ connectionString: url });
  await lock.connect();
  try {
    await lock.query(`select pg_advisory_lock(hashtext('kokyaku.migrations'))`);
    await orm.em.getKnex().raw('create schema if not exists kokyaku');
    const applied = await orm.getMigrator().up();
    return applied.map((m) => m.name);
  } finally {
    await lock.query(`select pg_advisory_unlock(hashtext('kokyaku.migrations'))`).catch(() => undefined);
    await lock.end();
  }
}
