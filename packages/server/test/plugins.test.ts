import { definePlugin } from '@kokyaku/core';
import { graphql, printSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { buildKokyakuSchema } from '../src/schema/build.js';

const base = { version: '1.0.0', compatibility: '>=0.1.0' };
const vip = definePlugin({
  ...base,
  name: 'vip',
  graphql: {
    typeDefs: `type VipStatus { tier: String! since: DateTime } extend type Customer { vip: VipStatus } extend type Query { vipTiers: [String!]! }`,
    resolvers: { Query: { vipTiers: () => ['GOLD', 'SILVER'] }, Customer: { vip: () => ({ tier: 'GOLD', since: null }) } },
    access: { 'VipStatus.tier': 'inherit', 'VipStatus.since': 'inherit', 'Customer.vip': 'inherit', 'Query.vipTiers': ['ADMIN', 'MARKETER'] },
  },
});
const gift = definePlugin({
  ...base,
  name: 'gift',
  graphql: {
    typeDefs: `type GiftCard { code: String! } extend type Customer { giftCards: [GiftCard!]! }`,
    resolvers: { Customer: { giftCards: () => [{ code: 'G-1' }] } },
    access: { 'GiftCard.code': ['ADMIN'], 'Customer.giftCards': 'inherit' },
  },
});

describe('plugins in the GraphQL schema', () => {
  it('adds the types, fields and queries of two plugins side by side, with their role checks', async () => {
    const schema = await buildKokyakuSchema({ plugins: [vip, gift] });
    const sdl = printSchema(schema);
    expect(sdl).toContain('vip: VipStatus');
    expect(sdl).toContain('giftCards: [GiftCard!]!');
    const run = (roles: string[] | null) => graphql({ schema, source: '{ vipTiers }', contextValue: { actor: roles ? { id: 'x', roles } : null } });
    expect((await run(['MARKETER'])).data).toEqual({ vipTiers: ['GOLD', 'SILVER'] });
    expect((await run(['VIEWER'])).errors?.[0]?.message).toBe('Query.vipTiers needs one of the roles ADMIN, MARKETER.');
    expect((await run(null)).errors?.[0]?.message).toBe('Sign in to use Query.vipTiers.');
    // Without plugins: the checked-in schema, untouched.
    expect(printSchema(await buildKokyakuSchema())).not.toContain('VipStatus');
  });

  it('refuses a plugin that redefines a type, forgets an access rule, or names a field that is not there', async () => {
    const redefine = definePlugin({ ...base, name: 'bad', graphql: { typeDefs: 'type Customer { x: Int }', resolvers: {}, access: {} } });
    await expect(buildKokyakuSchema({ plugins: [redefine] })).rejects.toThrow(/Plugin "bad" graphql: .*Customer.*already exists.*name new types after the plugin/);
    const noRule = definePlugin({ ...base, name: 'bad', graphql: { typeDefs: 'extend type Customer { secret: String }', resolvers: {}, access: {} } });
    await expect(buildKokyakuSchema({ plugins: [noRule] })).rejects.toThrow(/declare no access rule.*Customer\.secret/);
    const typo = definePlugin({
      ...base,
      name: 'bad',
      graphql: { typeDefs: 'extend type Customer { x: Int }', resolvers: { Customer: { y: () => 1 } }, access: { 'Customer.x': 'inherit' } },
    });
    await expect(buildKokyakuSchema({ plugins: [typo] })).rejects.toThrow('Plugin "bad" graphql: resolvers.Customer.y names no field of Customer.');
    const takeover = definePlugin({
      ...base,
      name: 'bad',
      graphql: { typeDefs: 'extend type Customer { x: Int }', resolvers: { Customer: { email: () => 'spoof' } }, access: { 'Customer.x': 'inherit' } },
    });
    await expect(buildKokyakuSchema({ plugins: [takeover] })).rejects.toThrow(/Customer\.email is Kokyaku's own field/);
    const loosen = definePlugin({
      ...base,
      name: 'bad',
      graphql: { typeDefs: 'extend type Customer { x: Int }', resolvers: {}, access: { 'Customer.x': 'inherit', 'Customer.email': 'inherit' } },
    });
    await expect(buildKokyakuSchema({ plugins: [loosen] })).rejects.toThrow(/Customer\.email"\] is Kokyaku's own field/);
  });
});
