import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { KokyakuUserConfig } from '../config.js';
import { mergeConfig } from '../config.js';
import { startEmbeddedPostgres } from '../database/embedded.js';
import { type Kokyaku, createKokyaku } from '../kokyaku.js';

/**
 * Test helpers that users of Kokyaku can use too: one PostgreSQL server per test run, one fresh
 * database per test file.
 *
 * @example
 * // vitest globalSetup
 * const server = await startTestPostgres();
 * project.provide('kokyakuAdminUrl', server.adminUrl);
 * // in a test file
 * const kokyaku = await createTestKokyaku(inject('kokyakuAdminUrl'));
 */
export interface TestPostgres {
  /** Connection string of a database on the server with the right to create databases. */
  adminUrl: string;
  stop(): Promise<void>;
}

/** Starts an ephemeral embedded PostgreSQL, or uses the server of DATABASE_URL when it is set. */
export async function startTestPostgres(env: NodeJS.ProcessEnv = process.env, settings: Record<string, string | number> = {}): Promise<TestPostgres> {
  if (env.DATABASE_URL) return { adminUrl: env.DATABASE_URL, stop: async () => undefined };
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kokyaku-test-'));
  const server = await startEmbeddedPostgres({
    dataDir: path.join(dir, 'pg'),
    databaseName: 'postgres',
    port: 0,
    ephemeral: true,
    settings,
  });
  return {
    adminUrl: server.url('postgres'),
    stop: async () => {
      await server.stop();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}

function withDatabase(url: string, database: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${encodeURIComponent(database)}`;
  return parsed.toString();
}

async function admin<T>(adminUrl: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates an empty database on the server of `adminUrl` and returns its connection string. */
export async function createTestDatabase(adminUrl: string, name = `kokyaku_test_${randomBytes(6).toString('hex')}`): Promise<string> {
  await admin(adminUrl, (client) => client.query(`create database ${client.escapeIdentifier(name)}`));
  return withDatabase(adminUrl, name);
}

export async function dropTestDatabase(adminUrl: string, url: string): Promise<void> {
  const name = decodeURIComponent(new URL(url).pathname.slice(1));
  await admin(adminUrl, (client) => client.query(`drop database if exists ${client.escapeIdentifier(name)} with (force)`));
}

/**
 * A Kokyaku on a fresh, migrated database of its own. `close()` also drops the database.
 */
export async function createTestKokyaku(adminUrl: string, config: KokyakuUserConfig = {}): Promise<Kokyaku> {
  const url = await createTestDatabase(adminUrl);
  const kokyaku = await createKokyaku(mergeConfig(config, { database: { url } }));
  const close = kokyaku.close;
  return Object.assign(kokyaku, {
    close: async () => {
      await close();
      await dropTestDatabase(adminUrl, url);
    },
  });
}
export { type ReceivedMail, type TestSmtpServer, startTestSmtp } from './smtp.js';
export { type TestDovecot, addMailToken, addMailUser, dovecotBinary, revokeMailToken, setUidValidity, startTestDovecot } from './dovecot.js';
export { type TestReplicaPair, debianPostgresBin, startTestReplicaPair } from './replica.js';
export { tenantKeyProblems } from './tenancy.js';
