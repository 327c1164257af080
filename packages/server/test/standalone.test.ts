import { createTestKokyaku } from '@kokyaku/core/testing';
import { inject } from 'vitest';
import { startStandaloneServer } from '../src/index.js';
import { describeMount, mailbox } from './conformance.js';

const box = mailbox();

describeMount(
  'the standalone server',
  async () => {
    const kokyaku = await createTestKokyaku(inject('kokyakuAdminUrl'), { shop: { currency: 'JPY', defaultCountry: 'JP' }, messaging: { adapters: box.adapters } });
    const server = await startStandaloneServer(kokyaku, { port: 0, adminToken: 'test-admin-token' });
    return {
      url: server.url,
      adminHeaders: { authorization: 'Bearer test-admin-token' },
      kokyaku,
      sent: box.sent,
      close: async () => {
        await server.close();
        await kokyaku.close();
      },
    };
  },
  { links: '/kokyaku', console: '/console/' },
);
