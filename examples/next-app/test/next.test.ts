import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { createKokyaku } from '@kokyaku/core';
import { createTestDatabase, dropTestDatabase } from '@kokyaku/core/testing';
import { inject } from 'vitest';
import { SESSION_HEADERS, describeMount } from '../../../packages/server/test/conformance.js';

const app = path.resolve(import.meta.dirname, '..');

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * The real thing: `next dev` serving src/app/api/[...kokyaku]/route.ts (kokyakuFetchHandler) in its own
 * process, on a database of this test, and the conformance suite over HTTP.
 */
describeMount(
  'a Next.js App Router route handler (next dev)',
  async () => {
    const adminUrl = inject('kokyakuAdminUrl');
    const url = await createTestDatabase(adminUrl);
    // This process migrates the database and serves the suite's direct calls (refresh).
    const kokyaku = await createKokyaku({ database: { url }, shop: { currency: 'JPY', defaultCountry: 'JP' } });
    const port = await freePort();
    const next: ChildProcess = spawn(path.join(app, 'node_modules', '.bin', 'next'), ['dev', '-p', String(port), '-H', '127.0.0.1'], {
      cwd: app,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        DATABASE_URL: url,
        // The workspace packages run from their TypeScript sources (as in `pnpm dev`), compiled by
        // tsx with the repository's compiler settings (decorators).
        NODE_OPTIONS: '--conditions=@kokyaku/source --import tsx',
        TSX_TSCONFIG_PATH: path.resolve(app, '..', '..', 'tsconfig.json'),
        NEXT_TELEMETRY_DISABLED: '1',
        KOKYAKU_LOG_LEVEL: 'warn',
      },
    });
    let output = '';
    next.stdout!.on('data', (chunk) => (output += chunk));
    next.stderr!.on('data', (chunk) => (output += chunk));
    const close = async () => {
      if (next.exitCode === null && next.signalCode === null) {
        const exited = new Promise((resolve) => next.once('exit', resolve));
        process.kill(-next.pid!, 'SIGTERM');
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
        if (next.exitCode === null && next.signalCode === null) process.kill(-next.pid!, 'SIGKILL');
      }
      await kokyaku.close();
      await dropTestDatabase(adminUrl, url);
    };
    const endpoint = `http://127.0.0.1:${port}/api/crm`;
    try {
      const deadline = Date.now() + 60_000;
      while (!/Ready in/.test(output)) {
        if (next.exitCode !== null || Date.now() > deadline) throw new Error(`next dev did not start:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      // The first request compiles the route and starts Kokyaku in the Next.js process.
      const first = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json', ...SESSION_HEADERS }, body: '{"query":"{ segments { totalCount } }"}' });
      if (!first.ok) throw new Error(`the route answered ${first.status}:\n${await first.text()}\n${output}`);
    } catch (error) {
      // No orphaned next dev when the start fails.
      await close();
      throw error;
    }
    return { url: endpoint, adminHeaders: SESSION_HEADERS, kokyaku, close };
  },
  { sessions: true, console: '/api/console/' },
);
