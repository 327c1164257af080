import { type ChildProcess, execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { MedusaClient, seedOrders } from './store';

const run = promisify(execFile);
// (__filename: under tsx, a CommonJS module imported from ESM has no usable __dirname.)
const root = path.resolve(path.dirname(__filename), '..');
const medusaBin = path.join(root, 'node_modules', '.bin', 'medusa');
const workspace = path.resolve(root, '..', '..');

export interface MedusaShop {
  base: string;
  publishableKey: string;
  /** Stop the Medusa server (SIGTERM, then waits for it to exit). */
  stop(): Promise<void>;
}

export interface MedusaShopOptions {
  databaseUrl: string;
  /** Kokyaku's own database (default: Medusa's, schema kokyaku). */
  kokyakuDatabaseUrl?: string;
  port: number;
  /** Orders placed through the Store API on a shop without any (default 0). */
  orders?: number;
  /** Extra environment for the Medusa process (delivery timings in tests). */
  env?: Record<string, string>;
  log?: (line: string) => void;
}

/**
 * Start the example Medusa application the way a developer does, with Medusa's own CLI: build
 * the plugin, migrate, seed (first time), create the admin user, `medusa start`, wait for
 * /health, place the demo orders through the Store API.
 */
export async function startMedusaShop(options: MedusaShopOptions): Promise<MedusaShop> {
  const log = options.log ?? (() => undefined);
  const env = {
    ...process.env,
    DATABASE_URL: options.databaseUrl,
    ...(options.kokyakuDatabaseUrl ? { KOKYAKU_DATABASE_URL: options.kokyakuDatabaseUrl } : {}),
    PORT: String(options.port),
    // In this workspace the plugin and Kokyaku run from their TypeScript sources. (Not the caller's
    // NODE_OPTIONS: under tsx they already hold its loader, which would run twice.)
    NODE_OPTIONS: '--import tsx --conditions=@kokyaku/source',
    MEDUSA_DISABLE_TELEMETRY: 'true',
    ...options.env,
  };
  const medusa = (args: string[]) => run(medusaBin, args, { cwd: root, env, maxBuffer: 1 << 26 });
  // The plugin's JavaScript where Medusa looks for it (.medusa/server/src), with its own tsup.
  const plugin = path.join(workspace, 'packages', 'medusa');
  await run(path.join(plugin, 'node_modules', '.bin', 'tsup'), [], { cwd: plugin, env: { ...process.env, NODE_OPTIONS: '', KOKYAKU_FAST_BUILD: '1' } });
  log('medusa db:migrate');
  await medusa(['db:migrate']);
  log('medusa exec ./src/scripts/seed.ts');
  await medusa(['exec', './src/scripts/seed.ts']);
  await medusa(['user', '-e', 'admin@example.com', '-p', 'supersecret']).catch(() => undefined);
  const db = new pg.Client({ connectionString: options.databaseUrl });
  await db.connect();
  let publishableKey: string;
  let orders: number;
  try {
    publishableKey = (await db.query<{ token: string }>(`select token from api_key where type = 'publishable' and title = 'Webshop' and revoked_at is null limit 1`)).rows[0]!
      .token;
    orders = Number((await db.query<{ n: string }>('select count(*) as n from "order"')).rows[0]!.n);
  } finally {
    await db.end();
  }
  log('medusa start');
  const child: ChildProcess = spawn(medusaBin, ['start'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d) => (output = (output + d).slice(-20000)));
  child.stderr!.on('data', (d) => (output = (output + d).slice(-20000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const base = `http://localhost:${options.port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`medusa start exited:\n${output}`);
    const ok = await fetch(`${base}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`medusa start did not answer /health:\n${output}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  if (orders === 0 && options.orders) {
    log(`placing ${options.orders} orders through the Store API`);
    await seedOrders(base, publishableKey, { customers: Math.max(10, Math.round(options.orders / 3)), orders: options.orders, log });
  }
  return {
    base,
    publishableKey,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

export { MedusaClient };
