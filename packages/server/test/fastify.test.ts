import { createTestKokyaku } from '@kokyaku/core/testing';
import Fastify from 'fastify';
import { inject } from 'vitest';
import { kokyakuFastify } from '../src/fastify.js';
import { SESSION_HEADERS, describeMount, identifyBearer, mailbox } from './conformance.js';

const box = mailbox();

describeMount(
  'the Fastify 5 plugin in a host app',
  async () => {
    const kokyaku = await createTestKokyaku(inject('kokyakuAdminUrl'), { shop: { currency: 'JPY', defaultCountry: 'JP' }, messaging: { adapters: box.adapters } });
    const app = Fastify();
    app.get('/products', async () => [{ id: 'shop-1' }]);
    await app.register(await kokyakuFastify(kokyaku, { identify: (request) => identifyBearer(request.headers.authorization), messagingPath: '/m' }), { prefix: '/crm' });
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    return {
      url: `${address}/crm/graphql`,
      adminHeaders: SESSION_HEADERS,
      kokyaku,
      sent: box.sent,
      close: async () => {
        await app.close();
        await kokyaku.close();
      },
    };
  },
  { sessions: true, hostRoutes: true, links: '/crm/m' },
);
