import { createTestKokyaku } from '@kokyaku/core/testing';
import { expect, inject, it } from 'vitest';
import { startStandaloneServer } from '../src/standalone.js';

/** Hostile values that reach the resolvers over HTTP are refused by core per item, never an internal error. */
it('refuses customFields nested 5,000 deep, a NUL and a price past 2^53 sent over GraphQL, item by item', async () => {
  const kokyaku = await createTestKokyaku(inject('kokyakuAdminUrl'));
  const server = await startStandaloneServer(kokyaku, { port: 0, host: '127.0.0.1', adminToken: 't' });
  try {
    const post = async (body: string) =>
      (await (await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer t' }, body })).json()) as {
        data?: Record<string, { failed: number; errors: { index: number; field: string; message: string }[] }>;
        errors?: unknown[];
      };
    // Written as text: 5,000 levels are too deep for JSON.stringify in a test worker too.
    const deep = `${'{"n":'.repeat(5000)}{"leaf":1}${'}'.repeat(5000)}`;
    const customers = await post(
      `{"query":"mutation($c: [CustomerInput!]!) { upsertCustomers(customers: $c) { failed errors { index field message } } }","variables":{"c":[{"externalId":"x","customFields":${deep}},{"externalId":"y","firstName":"a\\u0000"},{"externalId":"z"}]}}`,
    );
    expect(customers.errors).toBeUndefined();
    expect(customers.data!.upsertCustomers).toEqual({
      failed: 2,
      errors: [
        { index: 0, field: 'customFields', message: 'Must not be nested deeper than 10 levels.' },
        { index: 1, field: 'firstName', message: 'Must not contain a NUL character (\\u0000).' },
      ],
    });
    const orders = await post(
      JSON.stringify({
        query: 'mutation($o: [OrderInput!]!) { recordOrders(orders: $o) { failed errors { index field message } } }',
        variables: {
          o: [{ externalId: 'o1', customerExternalId: 'z', placedAt: '2026-01-01T00:00:00Z', lines: [{ productExternalId: 'p', quantity: 1, unitPrice: 9007199254740993 }] }],
        },
      }),
    );
    expect(orders.data!.recordOrders!.errors).toEqual([{ index: 0, field: 'lines[0].unitPrice', message: expect.stringMatching(/cannot be stored exactly/) }]);
    expect((await kokyaku.customers.findByExternalId(kokyaku.context(), 'z'))?.externalId).toBe('z');
    // Bytes that are no UTF-8 are refused, not replaced by U+FFFD and stored.
    const latin1 = Buffer.concat([
      Buffer.from('{"query":"mutation { upsertCustomers(customers: [{ externalId: \\"w\\", lastName: \\"Mu'),
      Buffer.from([0xf1]),
      Buffer.from('oz\\" }]) { created } }"}'),
    ]);
    const refused = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer t' }, body: latin1 });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ errors: [{ extensions: { code: 'BAD_REQUEST' }, message: expect.stringMatching(/not valid UTF-8/) }] });
    expect(await kokyaku.customers.findByExternalId(kokyaku.context(), 'w')).toBeNull();
  } finally {
    await server.close();
    await kokyaku.close();
  }
});
