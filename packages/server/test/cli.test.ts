import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase } from '@kokyaku/core/testing';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { gql } from './helpers.js';

const root = path.resolve(import.meta.dirname, '../../..');
const tsx = path.join(root, 'node_modules/.bin/tsx');
const entry = path.join(root, 'packages/server/src/cli/main.ts');
const children: ChildProcess[] = [];

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

/**
 * Runs the CLI exactly as `pnpm kokyaku` does. `direct`: in one node process (tsx as a loader),
 * so that a SIGKILL hits the process doing the work, not tsx's launcher.
 */
function kokyaku(args: string[], env: Record<string, string | undefined> = {}, direct = false, cwd = root) {
  const command = direct ? process.execPath : tsx;
  const prefix = direct ? ['--import', 'tsx', '--conditions=@kokyaku/source'] : ['--conditions=@kokyaku/source'];
  const child = spawn(command, [...prefix, entry, ...args], {
    cwd,
    // The workspace's tsconfig wherever the command runs (its decorators need it).
    env: { ...process.env, DATABASE_URL: undefined, KOKYAKU_ADMIN_TOKEN: undefined, TSX_TSCONFIG_PATH: path.join(root, 'tsconfig.json'), ...env },
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
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
    // The shop's settings are options of every command, and refresh says what it recomputes.
    expect(stdout).toMatch(/--currency <code>[\s\S]*--time-zone <zone>[\s\S]*--country <code>/);
    const refresh = await kokyaku(['refresh', '--help']).done;
    expect(refresh.stdout.replace(/\s+/g, ' ')).toMatch(/customer metrics, RFM scores and deciles, CLV models, recommendation neighbours, lead scores and saved segment members/);
  });

  it('exits non-zero with a clear message on an unknown command or bad option', async () => {
    const unknown = await kokyaku(['frobnicate']).done;
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/unknown command 'frobnicate'/);
    const port = await kokyaku(['serve', '--port', 'abc']).done;
    expect(port.code).not.toBe(0);
    expect(port.stderr).toMatch(/port number/);
  });

  it('moves a shop to another database with move-shop', async () => {
    const [from, to] = await Promise.all([createTestDatabase(inject('kokyakuAdminUrl')), createTestDatabase(inject('kokyakuAdminUrl'))]);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kokyaku-cli-move-'));
    try {
      await fs.writeFile(
        path.join(dir, 'orders.csv'),
        'order_id,customer_id,order_date,sku,quantity,unit_price\nM-1,MC-1,2026-01-05 10:00,P-1,2,1500\nM-2,MC-2,2026-01-06 11:00,P-2,1,900\n',
      );
      const env = { KOKYAKU_CURRENCY: 'JPY', KOKYAKU_TIME_ZONE: 'Asia/Tokyo' };
      expect((await kokyaku(['migrate'], { DATABASE_URL: to, ...env }).done).code).toBe(0);
      const imported = await kokyaku(['import', 'orders', path.join(dir, 'orders.csv'), '--tenant', 'shop-m', '--share', '0.5'], { DATABASE_URL: from, ...env }).done;
      expect(imported.code, imported.stderr).toBe(0);
      const moved = await kokyaku(['move-shop', 'shop-m', '--to', to], { DATABASE_URL: from, ...env }).done;
      expect(moved.code, moved.stderr).toBe(0);
      expect(moved.stdout).toMatch(/moved shop shop-m \(\d+ rows in \d+ tables\) in [\d.]+ s, and erased it here/);
      const count = async (url: string) => {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        try {
          return (await client.query(`select count(*)::int as n from kokyaku.orders where tenant_id = 'shop-m'`)).rows[0].n;
        } finally {
          await client.end();
        }
      };
      expect([await count(from), await count(to)]).toEqual([0, 2]);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('evaluates recommendations with eval-recs: the split, the baselines, the blend the refresh measured and why', async () => {
    const url = await createTestDatabase(inject('kokyakuAdminUrl'));
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kokyaku-cli-recs-'));
    try {
      // Twelve customers, four orders each, two weeks apart: a staple each, and one of three others.
      const lines = ['order_id,customer_id,order_date,sku,quantity,unit_price'];
      for (let c = 0; c < 12; c++) {
        for (let o = 0; o < 4; o++) {
          const date = new Date(Date.UTC(2026, 0, 1 + o * 14 + (c % 5))).toISOString().slice(0, 10);
          lines.push(`E-${c}-${o},EC-${c},${date} 10:00,S-${c % 3},1,800`, `E-${c}-${o},EC-${c},${date} 10:00,X-${(c + o) % 3},1,300`);
        }
      }
      await fs.writeFile(path.join(dir, 'orders.csv'), `${lines.join('\n')}\n`);
      const env = { DATABASE_URL: url, KOKYAKU_CURRENCY: 'JPY', KOKYAKU_TIME_ZONE: 'Asia/Tokyo' };
      const imported = await kokyaku(['import', 'orders', path.join(dir, 'orders.csv')], env).done;
      expect(imported.code, imported.stderr).toBe(0);
      expect(imported.stdout).not.toMatch(/rejected|error/i);
      expect((await kokyaku(['refresh'], env).done).code).toBe(0);
      const run = await kokyaku(['eval-recs', '--k', '5'], env).done;
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/^kokyaku: 12 of 12 customers with a held-out basket/);
      expect(run.stdout).toMatch(/Held-out items bought before \(repeat\): \d+\.\d%/);
      expect(run.stdout).toMatch(/FOR_CUSTOMER blend of the shop: popularity weight [\d.]+, repeat weight [\d.]+, cycles (on|off) \(measured \d{4}-\d{2}-\d{2}\)/);
      expect(run.stdout).toMatch(/Why: the best blends the refresh compared/);
      for (const row of ['FOR_CUSTOMER', 'BUY_AGAIN', 'G_TOPFREQ (baseline)', 'P_TOPFREQ (baseline)', 'GP_TOPFREQ (baseline)', 'ITEM_KNN (baseline)']) {
        expect(run.stdout).toMatch(new RegExp(`\\| ${row.replace(/[()]/g, '\\$&')} \\| [\\d.]+ \\| [\\d.]+ \\| [\\d.]+ \\| [\\d.]+ \\+ [\\d.]+ \\|`));
      }
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  });

  it('prints one clear line for every failure, whether commander or a command finds it', async () => {
    const url = await createTestDatabase(inject('kokyakuAdminUrl'));
    const failures: [string[], RegExp][] = [
      [['import', 'custmr', 'x.csv'], /kind must be one of customers, products, orders, events \(not "custmr"\)/],
      [['import', 'customers', 'x.csv', '--encoding', 'latin1'], /the encoding must be one of utf-8, shift_jis \(not "latin1"\)/],
      [['export', 'customers', 'x.xml', '--format', 'xml'], /the format must be one of csv, json/],
      [['import', 'customers', '/nonexistent/members.csv'], /^kokyaku: Cannot read \/nonexistent\/members\.csv: no such file\.$/m],
      [['import', 'orders', 'x.csv', '--map', 'nonsense'], /^kokyaku: --map takes field=header, not "nonsense"\.$/m],
      [['--currency', 'yen', 'migrate'], /^kokyaku: shop\.currency "yen" must be an ISO 4217 code/m],
      [['--config', '/nonexistent/kokyaku.config.json', 'migrate'], /^kokyaku: cannot read the configuration file \/nonexistent\/kokyaku\.config\.json: no such file\.$/m],
    ];
    const results = await Promise.all(failures.map(([args]) => kokyaku(args, { DATABASE_URL: url }).done));
    results.forEach(({ code, stderr }, i) => {
      expect(code, failures[i]![0].join(' ')).toBe(1);
      expect(stderr, failures[i]![0].join(' ')).toMatch(failures[i]![1]);
      // One line of what went wrong (and a pointer to --help), never a page of usage or a stack.
      expect(stderr.split('\n').filter((l) => l && !l.startsWith('kokyaku: using') && !l.startsWith('kokyaku: shop ')).length, stderr).toBeLessThanOrEqual(2);
      expect(stderr).not.toMatch(/\n\s+at /);
    });
  });

  it('takes the shop settings from a config file, the environment and flags, derives the rest, and prints them', async () => {
    const url = await createTestDatabase(inject('kokyakuAdminUrl'));
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kokyaku-cli-shop-'));
    try {
      // A Japanese member list: phones written the Japanese way, one of them no phone at all.
      await fs.writeFile(path.join(dir, 'members.csv'), '会員番号,氏名,電話番号\nJ-1,山田 花子,090-1234-5678\nJ-2,佐藤 太郎,03-1234-5678\nJ-3,鈴木 一郎,12\n');
      await fs.writeFile(path.join(dir, 'kokyaku.config.json'), JSON.stringify({ shop: { timeZone: 'Asia/Tokyo' } }));
      const imported = await kokyaku(
        ['import', 'customer', 'members.csv'],
        { DATABASE_URL: url, KOKYAKU_CURRENCY: undefined, KOKYAKU_DEFAULT_COUNTRY: undefined, KOKYAKU_TIME_ZONE: undefined },
        false,
        dir,
      ).done;
      expect(imported.code, imported.stderr).toBe(0);
      expect(imported.stderr).toMatch(/kokyaku: using DATABASE_URL and kokyaku\.config\.json/);
      expect(imported.stderr).toMatch(/shop currency JPY, time zone Asia\/Tokyo, country JP \(currency, country not set, so derived/);
      expect(imported.stdout).toContain('3 rows read, 3 stored (1 without a value that could not be read), 0 refused');
      expect(imported.stdout).toMatch(/line 4, 電話番号: warning: Not a phone number/);
      const db = new pg.Client({ connectionString: url });
      await db.connect();
      const { rows } = await db.query(`select external_id, phone from kokyaku.customers order by external_id`);
      await db.end();
      expect(rows).toEqual([
        { external_id: 'J-1', phone: '+819012345678' },
        { external_id: 'J-2', phone: '+81312345678' },
        { external_id: 'J-3', phone: null },
      ]);

      // The environment beats the file, a flag beats both; a fresh server takes JPY orders.
      const serve = kokyaku(
        ['serve', '--port', '0', '--country', 'JP'],
        { DATABASE_URL: url, KOKYAKU_ADMIN_TOKEN: 't', KOKYAKU_TIME_ZONE: 'Asia/Tokyo', KOKYAKU_CURRENCY: 'JPY' },
        false,
        dir,
      );
      const [, endpoint] = (await serve.waitFor(/GraphQL API at (\S+)/)) as unknown as [string, string];
      const res = await gql(
        endpoint,
        `mutation { recordOrders(orders: [{ externalId: "o1", customerExternalId: "J-1", placedAt: "2026-01-01T00:00:00+09:00", currency: "JPY",
           lines: [{ productExternalId: "p1", quantity: 2, unitPrice: 1500 }] }]) { created errors { field message } } }`,
        {},
        { authorization: 'Bearer t' },
      );
      expect(res.data).toEqual({ recordOrders: { created: 1, errors: [] } });
      serve.child.kill('SIGTERM');
      const served = await serve.done;
      expect(served.stderr).toMatch(/shop currency JPY, time zone Asia\/Tokyo, country JP\n/);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
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

  it('imports a large file again after being killed half-way, twice: every valid row once, no duplicates', async () => {
    const url = await createTestDatabase(inject('kokyakuAdminUrl'));
    expect((await kokyaku(['migrate'], { DATABASE_URL: url }).done).code).toBe(0);
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kokyaku-import-fault-'));
    try {
      // 20,000 orders of 3 lines; each order's lines spread through the file; every 500th line refused.
      const orders = 20_000;
      const lines: string[] = ['order_id,customer_id,order_date,sku,quantity,unit_price'];
      let expectedTotal = 0;
      let refused = 0;
      const stored = new Set<number>();
      for (let part = 0; part < 3; part++) {
        for (let o = 0; o < orders; o++) {
          const n = part * orders + o;
          const bad = n % 500 === 499;
          if (bad) refused++;
          else {
            expectedTotal += (part + 1) * (100 + (o % 50));
            stored.add(o);
          }
          lines.push(`O-${o},C-${o % 4000},2026-0${1 + (o % 9)}-1${o % 10} 10:00,P-${(o + part) % 300},${bad ? 0 : part + 1},${100 + (o % 50)}`);
        }
      }
      const file = path.join(dir, 'orders.csv');
      await fs.writeFile(file, `${lines.join('\n')}\n`);
      const db = new pg.Client({ connectionString: url });
      await db.connect();
      const state = async () =>
        (await db.query(`select status, staged_through, rows_applied from kokyaku.import_runs`)).rows[0] as
          | { status: string; staged_through: number; rows_applied: number }
          | undefined;
      const killWhen = async (ready: (s: NonNullable<Awaited<ReturnType<typeof state>>>) => boolean) => {
        const run = kokyaku(['import', 'orders', file], { DATABASE_URL: url }, true);
        for (let i = 0; i < 2400; i++) {
          const s = await state();
          if (s && ready(s)) break;
          if (run.child.exitCode !== null) throw new Error('the import finished before it could be killed');
          await new Promise((r) => setTimeout(r, 25));
        }
        run.child.kill('SIGKILL');
        await run.done;
        return state();
      };
      // Killed while staging, then while applying.
      const staging = await killWhen((s) => s.status === 'STAGING' && s.staged_through > 10_000);
      expect(staging!.status).toBe('STAGING');
      expect(staging!.staged_through).toBeLessThan(60_001);
      const applying = await killWhen((s) => s.status === 'APPLYING' && s.rows_applied > 6_000);
      expect(applying!.status).toBe('APPLYING');
      expect(applying!.rows_applied).toBeLessThan(60_000 - refused);

      const last = await kokyaku(['import', 'orders', file], { DATABASE_URL: url }).done;
      expect(last.code, last.stderr).toBe(0);
      expect(last.stdout).toMatch(/resumed/);
      expect(last.stdout).toContain(`60000 rows read, ${60_000 - refused} stored, ${refused} refused`);
      const [counts] = (
        await db.query(
          `select (select count(*)::int from kokyaku.orders) as orders, (select count(*)::int from kokyaku.order_lines) as lines,
                  (select sum(total_minor)::bigint from kokyaku.orders)::text as total,
                  (select count(*)::int from kokyaku.import_rows) as staged`,
        )
      ).rows as { orders: number; lines: number; total: string; staged: number }[];
      // Orders with a refused line are stored without it (each line is checked on its own); amounts in cents (USD).
      expect(counts).toEqual({ orders: stored.size, lines: 60_000 - refused, total: String(expectedTotal * 100), staged: 0 });
      await db.end();
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
