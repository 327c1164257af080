import type { AddressInfo } from 'node:net';
import { createTestKokyaku } from '@kokyaku/core/testing';
import express from 'express';
import { inject } from 'vitest';
import { kokyakuExpress, messagingRoutes } from '../src/express.js';
import { SESSION_HEADERS, describeMount, identifyBearer, mailbox } from './conformance.js';

const box = mailbox();

describeMount(
  'the Express 5 middleware in a host app',
  async () => {
    const kokyaku = await createTestKokyaku(inject('kokyakuAdminUrl'), { shop: { currency: 'JPY', defaultCountry: 'JP' }, messaging: { adapters: box.adapters } });
    // A host app with routes of its own; Kokyaku is one mount among them.
    const app = express();
    app.get('/products', (_req, res) => {
      res.json([{ id: 'shop-1' }]);
    });
    const crm = await kokyakuExpress(kokyaku, { path: '/graphql', console: true, identify: (req) => identifyBearer(req.headers.authorization) });
    app.use('/crm', crm);
    app.use('/crm/m', messagingRoutes(kokyaku));
    const server = app.listen(0);
    await new Promise((resolve) => server.once('listening', resolve));
    const hostUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return {
      url: `${hostUrl}/crm/graphql`,
      adminHeaders: SESSION_HEADERS,
      kokyaku,
      sent: box.sent,
      close: async () => {
        await crm.stop();
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
        await kokyaku.close();
      },
    };
  },
  { sessions: true, hostRoutes: true, links: '/crm/m', console: '/crm/console/' },
);
