import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { createTestKokyaku } from '@kokyaku/core/testing';
import express from 'express';
import { expect, inject, it } from 'vitest';
import { kokyakuHostSchema } from '../src/host.js';
import { SESSION_HEADERS, describeMount, identifyBearer } from './conformance.js';
import { gql } from './helpers.js';

/** The shop's own GraphQL API, with types named like Kokyaku's. */
const shopSchema = makeExecutableSchema({
  typeDefs: /* GraphQL */ `
    scalar DateTime
    type Customer { id: ID! email: String! loyaltyCard: String }
    type Product { sku: ID! title: String! }
    type Order { number: ID! customer: Customer! placedAt: DateTime }
    type Query { customer(id: ID!): Customer products: [Product!]! }
    type Mutation { placeOrder(sku: ID!): Order! }
  `,
  resolvers: {
    Query: {
      customer: (_: unknown, { id }: { id: string }) => ({ id, email: `${id}@shop.example`, loyaltyCard: 'LC-1' }),
      products: () => [{ sku: 'shop-1', title: 'House blend' }],
    },
    Mutation: { placeOrder: (_: unknown, { sku }: { sku: string }) => ({ number: `N-${sku}`, customer: { id: 'u1', email: 'u1@shop.example' }, placedAt: null }) },
  },
});

interface ShopContext {
  authorization: string | undefined;
}

describeMount(
  "a host's own Apollo schema with Customer, Product and Order",
  async () => {
    const kokyaku = await createTestKokyaku(inject('kokyakuAdminUrl'), { shop: { currency: 'JPY', defaultCountry: 'JP' } });
    const crm = await kokyakuHostSchema(kokyaku, { identify: (ctx: ShopContext) => identifyBearer(ctx.authorization) });
    const apollo = new ApolloServer<ShopContext>({ schema: crm.mergeInto(shopSchema), plugins: [crm.apolloPlugin] });
    await apollo.start();
    const app = express();
    app.use('/graphql', express.json(), expressMiddleware(apollo, { context: async ({ req }) => ({ authorization: req.headers.authorization }) }));
    const server = app.listen(0);
    await new Promise((resolve) => server.once('listening', resolve));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`,
      adminHeaders: SESSION_HEADERS,
      kokyaku,
      close: async () => {
        await apollo.stop();
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
        await kokyaku.close();
      },
    };
  },
  {
    namespace: { field: 'crm', prefix: 'Crm' },
    sessions: true,
    extra: (mount) => {
      it("keeps the host's types and operations as they were, next to Kokyaku's prefixed ones", async () => {
        const res = await gql(
          mount().url,
          `{
            customer(id: "u1") { id email loyaltyCard }
            products { sku title }
            crm { customer(externalId: "C-1") { __typename externalId orders(first: 1) { nodes { __typename lines { product { __typename externalId } } } } } }
            host: __type(name: "Customer") { fields { name } }
            ours: __type(name: "CrmCustomer") { name }
          }`,
          {},
          SESSION_HEADERS,
        );
        expect(res.errors).toBeUndefined();
        expect(res.data?.customer).toEqual({ id: 'u1', email: 'u1@shop.example', loyaltyCard: 'LC-1' });
        expect(res.data?.products).toEqual([{ sku: 'shop-1', title: 'House blend' }]);
        expect(res.data?.crm.customer.__typename).toBe('CrmCustomer');
        expect(res.data?.crm.customer.orders.nodes[0].__typename).toBe('CrmOrder');
        expect(res.data?.crm.customer.orders.nodes[0].lines[0].product.__typename).toBe('CrmProduct');
        expect(res.data?.host.fields.map((f: { name: string }) => f.name)).toEqual(['id', 'email', 'loyaltyCard']);
        expect(res.data?.ours).toEqual({ name: 'CrmCustomer' });
        const placed = await gql(mount().url, `mutation { placeOrder(sku: "shop-1") { number } }`);
        expect(placed.data).toEqual({ placeOrder: { number: 'N-shop-1' } });
      });

      it('refuses a prefix or field the host uses already, saying what to change', async () => {
        const clash = makeExecutableSchema({ typeDefs: 'type CrmCustomer { id: ID } type Query { crm: Int x: CrmCustomer }' });
        const crm = await kokyakuHostSchema(mount().kokyaku, { identify: () => ({ actor: null }) });
        expect(() => crm.mergeInto(clash)).toThrow(
          'kokyakuHostSchema: the host schema has a type "CrmCustomer" too; choose another prefix (kokyakuHostSchema(kokyaku, { prefix: "Kokyaku" })).',
        );
        const own = await kokyakuHostSchema(mount().kokyaku, { identify: () => ({ actor: null }), prefix: 'Kokyaku', field: 'kokyaku' });
        expect(own.mergeInto(clash).getQueryType()?.getFields().kokyaku?.type.toString()).toBe('KokyakuQuery!');
      });
    },
  },
);
