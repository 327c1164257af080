import { createKokyaku } from '@kokyaku/core';
import { startStandaloneServer } from '@kokyaku/server';
import pg from 'pg';
import { startApolloPg } from './apollo-pg.js';
import { startBarePg } from './bare-pg.js';
import { BENCH_TOKEN, type ServerKind } from './query.js';

/**
 * One server of the customer 360 benchmark in a process of its own (so each has its own CPU time
 * and memory): `server-process.ts <kokyaku|apollo|bare> <databaseUrl> <poolSize>`. Tells its
 * parent the port, answers "rss" with its peak resident set size (bytes) and exits on "stop".
 */

const [kind, url, poolSize] = process.argv.slice(2) as [ServerKind, string, string];
const pool = Number(poolSize);

async function start(): Promise<{ port: number; close: () => Promise<void> }> {
  if (kind === 'kokyaku') {
    const kokyaku = await createKokyaku({
      database: { url, migrate: false, poolSize: pool },
      shop: { currency: 'JPY', timeZone: 'Asia/Tokyo', defaultCountry: 'JP' },
    });
    const server = await startStandaloneServer(kokyaku, { port: 0, host: '127.0.0.1', adminToken: BENCH_TOKEN });
    return { port: server.port, close: async () => (await server.close(), await kokyaku.close()) };
  }
  const connections = new pg.Pool({ connectionString: url, max: pool });
  const port = kind === 'apollo' ? await startApolloPg(connections) : await startBarePg(connections);
  return { port, close: () => connections.end() };
}

const server = await start();
process.on('message', (message: string) => {
  if (message === 'rss') process.send!({ rss: process.resourceUsage().maxRSS * 1024 });
  if (message === 'stop') void server.close().finally(() => process.exit(0));
});
process.send!({ port: server.port });
