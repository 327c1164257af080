import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';

/**
 * `pnpm start` as a newcomer runs it, in a terminal: the shop on embedded PostgreSQL, reached from
 * this machine only, and a Ctrl-C that ends it quietly. A Ctrl-C reaches every process of the
 * terminal's foreground group (pnpm, tsx, node and, unless it runs in a session of its own,
 * PostgreSQL): the test sends SIGINT to the whole group, as the terminal does.
 */
const root = path.resolve(import.meta.dirname, '..', '..', '..');
let dataDir = '';
let group = 0;

afterAll(async () => {
  if (group) {
    try {
      process.kill(-group, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  if (dataDir) await fs.rm(dataDir, { recursive: true, force: true });
});

/** Whether something accepts TCP connections at host:port. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

it('pnpm start serves this machine only, and Ctrl-C stops it quietly with exit code 0', async () => {
  dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'kokyaku-start-'));
  await fs.chmod(dataDir, 0o755);
  const child = spawn('pnpm', ['start'], {
    cwd: root,
    // A group of its own, like a terminal's foreground job.
    detached: true,
    env: { ...process.env, PORT: '0', HOST: undefined, DEMO_CUSTOMERS: '40', KOKYAKU_DATA_DIR: path.join(dataDir, 'pg'), DATABASE_URL: undefined, CRM_ADMIN_TOKEN: 'start-token' },
  });
  group = child.pid!;
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

  await expect.poll(() => /Shop:\s+http:\/\/localhost:(\d+)\//.test(output) || child.exitCode !== null, { timeout: 120_000, interval: 200 }).toBe(true);
  const port = Number(/Shop:\s+http:\/\/localhost:(\d+)\//.exec(output)?.[1]);
  expect(port, output).toBeGreaterThan(0);

  // Reached from this machine; refused on the machine's other addresses.
  expect((await fetch(`http://localhost:${port}/api/products`)).status).toBe(200);
  const explorer = await (await fetch(`http://localhost:${port}/crm/graphql`, { headers: { accept: 'text/html' } })).text();
  expect(explorer).toContain('Bearer start-token');
  const others = Object.values(os.networkInterfaces())
    .flat()
    .filter((a) => a && !a.internal && a.family === 'IPv4')
    .map((a) => a!.address);
  // (A machine with no other address could not tell localhost from every interface.)
  expect(others.length, 'a network address besides loopback').toBeGreaterThan(0);
  for (const address of others) expect(await accepts(address, port), address).toBe(false);

  // Ctrl-C: every process of the group gets SIGINT at once.
  process.kill(-group, 'SIGINT');
  expect(await exited, output).toBe(0);
  group = 0;
  expect(output).not.toMatch(/terminating connection|ERR_PNPM|ELIFECYCLE|Error/);
  // PostgreSQL was stopped by the shop, not left running.
  await expect(fs.access(path.join(dataDir, 'pg', 'postmaster.pid'))).rejects.toThrow();
}, 180_000);
