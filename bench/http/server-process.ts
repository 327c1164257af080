import { type Kokyaku, createKokyaku } from '@kokyaku/core';
import { startStandaloneServer } from '@kokyaku/server';
import pg from 'pg';
import { startApolloPg } from './apollo-pg.js';
import express from 'express';
import { type KokyakuRouter, kokyakuExpress } from '@kokyaku/server/express';
import { startBarePg } from './bare-pg.js';
import { BENCH_TOKEN, type ServerKind } from './query.js';
import { SHOPPER_HEADER, startBareRecommendations } from './storefront-bare.js';

/**
 * One server of the HTTP benchmarks in a process of its own (so each has its own CPU time and
 * memory): `server-process.ts <kind> <databaseUrl> <poolSize>`. Tells its parent the port,
 * answers "rss" with its peak resident set size (bytes), "memory" with `process.memoryUsage()`,
 * and exits on "stop".
 * - customer360: `kokyaku` (the standalone server), `apollo`, `bare`;
 * - storefront recommendations: `storefront-kokyaku` (Kokyaku mounted in an Express app whose
 *   session, here the `x-shopper` header, makes the caller a STOREFRONT actor), `storefront-bare`;
 * - many shops (scaling.ts): `tenants-kokyaku`, Kokyaku mounted in an Express app where the bench
 *   token is an administrator of the shop its `x-shop` header names, reading from the read
 *   replicas of the fourth argument (comma-separated) when there are any.
 */

const [kind, url, poolSize, replicas] = process.argv.slice(2) as [ServerKind, string, string, string | undefined];
const pool = Number(poolSize);

/** Kokyaku mounted in an Express app of its own on a free port of 127.0.0.1. */
async function serveMounted(kokyaku: Kokyaku, crm: KokyakuRouter): Promise<{ port: number; close: () => Promise<void> }> {
  const app = express();
  app.use(crm);
  const server = await new Promise<import('node:http').Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return {
    port: (server.address() as import('node:net').AddressInfo).port,
    close: async () => {
      await crm.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await kokyaku.close();
    },
  };
}

async function start(): Promise<{ port: number; close: () => Promise<void> }> {
  if (kind === 'kokyaku') {
    const kokyaku = await createKokyaku({
      database: { url, migrate: false, poolSize: pool },
      shop: { currency: 'JPY', timeZone: 'Asia/Tokyo', defaultCountry: 'JP' },
    });
    const server = await startStandaloneServer(kokyaku, { port: 0, host: '127.0.0.1', adminToken: BENCH_TOKEN });
    return { port: server.port, close: async () => (await server.close(), await kokyaku.close()) };
  }
  if (kind === 'storefront-kokyaku') {
    const kokyaku = await createKokyaku({
      database: { url, migrate: false, poolSize: pool },
      shop: { currency: 'JPY', timeZone: 'Asia/Tokyo', defaultCountry: 'JP' },
    });
    const crm = await kokyakuExpress(kokyaku, {
      path: '/graphql',
      identify: (req) => {
        const shopper = req.headers[SHOPPER_HEADER];
        return { actor: typeof shopper === 'string' ? { id: `shopper:${shopper}`, roles: ['STOREFRONT'], customerExternalId: shopper } : null };
      },
    });
    return serveMounted(kokyaku, crm);
  }
  if (kind === 'tenants-kokyaku') {
    const kokyaku = await createKokyaku({
      database: { url, migrate: false, poolSize: pool, readReplicas: (replicas ?? '').split(',').filter(Boolean) },
      shop: { currency: 'JPY', timeZone: 'Asia/Tokyo', defaultCountry: 'JP' },
    });
    const crm = await kokyakuExpress(kokyaku, {
      path: '/graphql',
      maskErrors: true,
      costLimiter: false,
      identify: (req) => {
        const shop = req.headers['x-shop'];
        const admin = req.headers.authorization === `Bearer ${BENCH_TOKEN}` && typeof shop === 'string';
        return admin ? { actor: { id: 'bench', roles: ['ADMIN'] }, tenantId: shop } : { actor: null };
      },
    });
    return serveMounted(kokyaku, crm);
  }
  const connections = new pg.Pool({ connectionString: url, max: pool });
  const port = kind === 'apollo' ? await startApolloPg(connections) : kind === 'bare' ? await startBarePg(connections) : await startBareRecommendations(connections);
  return { port, close: () => connections.end() };
}

const server = await start();
process.on('message', (message: string) => {
  if (message === 'rss') process.send!({ rss: process.resourceUsage().maxRSS * 1024 });
  if (message === 'memory') process.send!({ memory: process.memoryUsage() });
  if (message === 'stop') void server.close().finally(() => process.exit(0));
});
process.send!({ port: server.port });
