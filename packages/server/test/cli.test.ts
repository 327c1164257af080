import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase } from '@kokyaku/core/testing';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { gql } from './helpers.js';

const root = path.resolve(import.meta.dirname, '../../..');
const tsx = path.join(root, 'node_modules/.bin/tsx');
const entry = path.join(root, 'packages/server/src/cli/main.ts');
const children: ChildProcess[] = [];

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

/** Runs the CLI exactly as `pnpm kokyaku` does. */
function kokyaku(args: string[], env: Record<string, string | undefined> = {}) {
  const child = spawn(tsx, ['--conditions=@kokyaku/source', entry, ...args], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: undefined, KOKYAKU_ADMIN_TOKEN: undefined, ...env },
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
  const waitFor = async (pattern: RegExp) => {
    for (let i = 0; i < 600; i++) {
      const m = pattern.exec(stdout);
      if (m) return m;
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`never printed ${pattern}; stdout: ${stdout}; stderr: ${stderr}`);
  };
  return { child, done, waitFor };
}

describe('kokyaku CLI', () => {
  it('prints help and exits 0', async () => {
    const { done } = kokyaku(['--help']);
    const { code, stdout } = await done;
    expect(code).toBe(0);
    for (const command of ['serve', 'migrate', 'refresh']) expect(stdout).toContain(command);
  });

  it('exits non-zero with a clear message on an unknown command or bad option', async () => {
    const unknown = await kokyaku(['frobnicate']).done;
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/unknown command 'frobnicate'/);
    const port = await kokyaku(['serve', '--port', 'abc']).done;
    expect(port.code).not.toBe(0);
    expect(port.stderr).toMatch(/port number/);
  });

  it('fails clearly when DATABASE_URL points nowhere', async () => {
    const { code, stderr } = await kokyaku(['migrate'], { DATABASE_URL: 'postgres://nobody:nothing@127.0.0.1:1/none' }).done;
    expect(code).toBe(1);
    expect(stderr).toMatch(/Cannot reach PostgreSQL/);
  });

  it('migrates, refreshes and serves the database of DATABASE_URL', async () => {
    const url = await createTestDatabase(inject('kokyakuAdminUrl'));
    const first = await kokyaku(['migrate'], { DATABASE_URL: url }).done;
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/applied Migration\d+_foundation/);
    const again = await kokyaku(['migrate'], { DATABASE_URL: url }).done;
    expect(again.stdout).toMatch(/up to date/);

    const serve = kokyaku(['serve', '--port', '0'], { DATABASE_URL: url, KOKYAKU_ADMIN_TOKEN: 'cli-token' });
    const [, endpoint] = (await serve.waitFor(/GraphQL API at (\S+)/)) as unknown as [string, string];
    const admin = { authorization: 'Bearer cli-token' };
    const res = await gql(
      endpoint,
      `mutation { recordOrders(orders: [{ externalId: "o1", customerExternalId: "c1", placedAt: "2026-01-01T00:00:00Z",
         lines: [{ productExternalId: "p1", quantity: 2, unitPrice: 5 }] }]) { created } }`,
      {},
      admin,
    );
    expect(res.data).toEqual({ recordOrders: { created: 1 } });
    const customer = await gql(endpoint, `{ customer(externalId: "c1") { metrics { totalSpent } } }`, {}, admin);
    expect(customer.data).toEqual({ customer: { metrics: { totalSpent: 10 } } });
    const anonymous = await gql(endpoint, `{ customer(externalId: "c1") { email } }`);
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    serve.child.kill('SIGTERM');
    expect((await serve.done).code).toBe(0);

    const refresh = await kokyaku(['refresh'], { DATABASE_URL: url }).done;
    expect(refresh.code).toBe(0);
    expect(refresh.stdout).toMatch(/refreshed 1 customers in 1 tenant/);
  });

  it('serves an empty embedded PostgreSQL when DATABASE_URL is unset', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kokyaku-cli-'));
    // A shared parent folder like /tmp (world-writable, sticky) keeps its mode.
    await fs.chmod(dir, 0o1777);
    try {
      const serve = kokyaku(['serve', '--port', '0'], { KOKYAKU_DATA_DIR: path.join(dir, 'pg') });
      const [, endpoint] = (await serve.waitFor(/GraphQL API at (\S+)/)) as unknown as [string, string];
      // No token: requests from this machine are the administrator.
      const res = await gql(endpoint, `{ customers { totalCount } }`);
      expect(res.data).toEqual({ customers: { totalCount: 0 } });
      // ...but not when a proxy on this machine relays someone else's request.
      const proxied = await gql(endpoint, `{ customers { totalCount } }`, {}, { 'x-forwarded-for': '203.0.113.7' });
      expect(proxied.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
      serve.child.kill('SIGINT');
      expect((await serve.done).code).toBe(0);
      // The embedded server was stopped with the process.
      await expect(fs.access(path.join(dir, 'pg', 'postmaster.pid'))).rejects.toThrow();
      expect((await fs.stat(dir)).mode & 0o7777).toBe(0o1777);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});
