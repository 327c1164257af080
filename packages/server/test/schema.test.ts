import { readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { printKokyakuSchema } from '../src/index.js';

it('schema.graphql is the schema the code builds (run `pnpm codegen` after changing the API)', async () => {
  const checkedIn = await readFile(new URL('../schema.graphql', import.meta.url), 'utf8');
  expect(await printKokyakuSchema()).toBe(checkedIn);
});

it('builds independent schemas for independent servers', async () => {
  const { buildKokyakuSchema } = await import('../src/index.js');
  const [a, b] = await Promise.all([buildKokyakuSchema(), buildKokyakuSchema()]);
  expect(a).not.toBe(b);
  expect(Object.keys(a.getQueryType()!.getFields())).toEqual(Object.keys(b.getQueryType()!.getFields()));
});

it("resolves plain fields with graphql's default resolver, leaving type-graphql's shared metadata (a host's too) as it was", async () => {
  const { getMetadataStorage } = await import('type-graphql');
  const { buildKokyakuSchema } = await import('../src/index.js');
  const schema = await buildKokyakuSchema();
  const order = schema.getType('Order') as import('graphql').GraphQLObjectType;
  // A property: read directly. A field with its own resolver (the order's lines): kept.
  expect(order.getFields().externalId!.resolve).toBeUndefined();
  expect(order.getFields().lines!.resolve).toBeTypeOf('function');
  expect(getMetadataStorage().fields.filter((f) => f.simple)).toEqual([]);
});
