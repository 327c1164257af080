import { type KokyakuPlugin, ROLES, type Role } from '@kokyaku/core';
import { type GraphQLFieldResolver, type GraphQLSchema, extendSchema, isObjectType, parse } from 'graphql';
import type { AccessRule } from '../security/access.js';

const ROOTS = new Set(['Query', 'Mutation']);

/**
 * Adds one plugin's `graphql` slot to a schema: its type definitions (new types, `extend type`),
 * its resolvers on the fields they name, and its access rules (roots: roles; object fields:
 * roles or inherit) into `access` and `roots`. A mistake names the plugin and what to change.
 */
export function extendWithPlugin(
  schema: GraphQLSchema,
  plugin: KokyakuPlugin,
  access: Record<string, Record<string, AccessRule>>,
  roots: Map<string, readonly Role[]>,
): GraphQLSchema {
  const graphql = plugin.graphql!;
  const fail = (message: string) => new Error(`Plugin "${plugin.name}" graphql: ${message}`);
  let extended: GraphQLSchema;
  try {
    extended = extendSchema(schema, parse(graphql.typeDefs));
  } catch (error) {
    throw fail(`${(error as Error).message}${/already exists/.test((error as Error).message) ? ' (name new types after the plugin, e.g. LoyaltyAccount)' : ''}`);
  }
  const before = new Set(Object.entries(schema.getTypeMap()).flatMap(([name, type]) => (isObjectType(type) ? Object.keys(type.getFields()).map((f) => `${name}.${f}`) : [])));

  for (const [typeName, fields] of Object.entries(graphql.resolvers)) {
    const type = extended.getType(typeName);
    if (!isObjectType(type)) throw fail(`resolvers.${typeName} names no object type of the schema.`);
    for (const [fieldName, resolve] of Object.entries(fields)) {
      const field = type.getFields()[fieldName];
      if (!field) throw fail(`resolvers.${typeName}.${fieldName} names no field of ${typeName}.`);
      if (before.has(`${typeName}.${fieldName}`)) throw fail(`${typeName}.${fieldName} is Kokyaku's own field; a plugin adds fields, it does not replace them.`);
      field.resolve = resolve as GraphQLFieldResolver<unknown, unknown>;
    }
  }

  for (const [key, rule] of Object.entries(graphql.access)) {
    const [typeName, fieldName] = key.split('.');
    const type = typeName ? extended.getType(typeName) : undefined;
    if (!isObjectType(type) || !fieldName || !type.getFields()[fieldName]) throw fail(`access["${key}"] names no field (write "Type.field").`);
    if (before.has(key)) throw fail(`access["${key}"] is Kokyaku's own field; its rule cannot be changed by a plugin.`);
    if (rule !== 'inherit' && (!Array.isArray(rule) || rule.some((r) => !(ROLES as readonly string[]).includes(r)))) {
      throw fail(`access["${key}"] must be "inherit" or a list of roles (${ROLES.join(', ')}).`);
    }
    if (ROOTS.has(typeName!)) {
      if (rule === 'inherit') throw fail(`access["${key}"]: a query or mutation names the roles that may call it.`);
      roots.set(fieldName, rule as readonly Role[]);
    } else {
      access[typeName!] = { ...access[typeName!], [fieldName]: rule === 'inherit' ? { kind: 'inherit' } : { kind: 'roles', roles: rule as readonly Role[] } };
    }
  }
  return extended;
}
