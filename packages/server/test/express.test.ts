import type { AddressInfo } from 'node:net';
import { createTestKokyaku } from '@kokyaku/core/testing';
import express from 'express';
import { expect, inject, it } from 'vitest';
import { kokyakuExpress } from '../src/express.js';
import { describeMount } from './conformance.js';
import { RECORD_ORDERS, gql } from './helpers.js';

describeMount('the Express 5 middleware in a host app', async () => {
  const kokyaku = await createTestKokyaku(inject('kokyakuAdminUrl'), { shop: { currency: 'JPY', defaultCountry: 'JP' } });
  // A host app with routes of its own; Kokyaku is one mount among them.
  const app = express();
  app.get('/products', (_req, res) => {
    res.json([{ id: 'shop-1' }]);
  });
  const crm = await kokyakuExpress(kokyaku, {
    identify: (req) => ({
      actor:
        req.headers.authorization === 'Bearer staff-session'
          ? { id: 'staff-1', roles: ['ADMIN'] }
          : req.headers.authorization === 'Bearer shopper-session'
            ? { id: 'shopper-1', roles: ['STOREFRONT'], customerExternalId: 'S-1' }
            : null,
    }),
  });
  app.use('/crm/graphql', crm);
  const server = app.listen(0);
  await new Promise((resolve) => server.once('listening', resolve));
  const hostUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${hostUrl}/crm/graphql`,
    adminHeaders: { authorization: 'Bearer staff-session' },
    kokyaku,
    close: async () => {
      await crm.stop();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await kokyaku.close();
    },
  };
}, (mount) => {
  it('lets a storefront read recommendations for its signed-in customer only', async () => {
    const shopper = { authorization: 'Bearer shopper-session' };
    await gql(mount().url, RECORD_ORDERS, {
      orders: [
        { externalId: 'S-O-1', customerExternalId: 'S-1', placedAt: '2026-01-05T00:00:00Z', lines: [{ productExternalId: 'S-SKU', quantity: 1, unitPrice: 500 }] },
        { externalId: 'S-O-2', customerExternalId: 'S-2', placedAt: '2026-01-06T00:00:00Z', lines: [{ productExternalId: 'S-SKU-2', quantity: 1, unitPrice: 700 }] },
      ],
    }, mount().adminHeaders);
    const own = await gql(mount().url, `{ recommendations(strategy: FOR_CUSTOMER, first: 3, windowDays: 3650) { product { externalId } reason } }`, {}, shopper);
    expect(own.errors).toBeUndefined();
    expect(own.data?.recommendations.length).toBeGreaterThan(0);
    const other = await gql(mount().url, `{ recommendations(customerExternalId: "C-1") { reason } }`, {}, shopper);
    expect(other.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const profile = await gql(mount().url, `{ customer(externalId: "S-1") { email } }`, {}, shopper);
    expect(profile.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  });

  it('leaves the host routes alone', async () => {
    const res = await fetch(new URL('/products', mount().url));
    expect(await res.json()).toEqual([{ id: 'shop-1' }]);
  });
});
