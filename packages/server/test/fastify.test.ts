import { createTestKokyaku } from '@kokyaku/core/testing';
import Fastify from 'fastify';
import { expect, inject, it } from 'vitest';
import { kokyakuFastify } from '../src/fastify.js';
import { SESSION_HEADERS, describeMount, identifyBearer, mailbox } from './conformance.js';

const box = mailbox();

describeMount(
  'the Fastify 5 plugin in a host app',
  async () => {
    const kokyaku = await createTestKokyaku(inject('kokyakuAdminUrl'), { shop: { currency: 'JPY', defaultCountry: 'JP' }, messaging: { adapters: box.adapters } });
    const app = Fastify();
    app.get('/products', async () => [{ id: 'shop-1' }]);
    await app.register(
      await kokyakuFastify(kokyaku, { identify: (request) => identifyBearer(request.headers.authorization), messagingPath: '/m', explorer: true, console: true }),
      { prefix: '/crm' },
    );
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
  {
    sessions: true,
    hostRoutes: true,
    links: '/crm/m',
    console: '/crm/console/',
    extra: (mount) => {
      it('serves the explorer to a browser, from the installed packages', async () => {
        const page = await fetch(mount().url, { headers: { accept: 'text/html' } });
        const html = await page.text();
        expect(html).toContain('/crm/graphql/__explorer/graphiql.js');
        const script = await fetch(`${mount().url}/__explorer/graphiql.js`);
        expect(script.headers.get('content-type')).toContain('javascript');
        expect((await script.text()).length).toBeGreaterThan(100_000);
      });
    },
  },
);
