import { KokyakuError, type Role } from '@kokyaku/core';
import { type GraphQLFieldResolver, type GraphQLSchema, defaultFieldResolver, isObjectType } from 'graphql';
import { getMetadataStorage } from 'type-graphql';
import { CONTACT_DATA } from '../auth.js';
import { SHARED_ACCESS } from '../shared/access.js';
import { CATALOG_ACCESS } from '../catalog/access.js';
import { ORDERS_ACCESS } from '../orders/access.js';
import { CUSTOMERS_ACCESS } from '../customers/access.js';
import { SEGMENTS_ACCESS } from '../segments/access.js';
import { ANALYTICS_ACCESS } from '../analytics/access.js';
import { RECOMMENDATIONS_ACCESS } from '../recommendations/access.js';
import { PRIVACY_ACCESS } from '../privacy/access.js';
import { IMPORTS_ACCESS } from '../imports/access.js';
import { VIEWER_ACCESS } from '../viewer/access.js';
import { CRM_ACCESS } from '../crm/access.js';
import { AUTOMATION_ACCESS } from '../automation/access.js';
import { MAILBOX_ACCESS } from '../mailbox/access.js';
import type { AccessRule } from './rules.js';
import type { GraphQLContext } from '../context.js';

export { type AccessRule, maskEmail, maskPhone } from './rules.js';

/**
 * Every object type's field rules, each domain's next to its types (`<domain>/access.ts`). Root
 * fields (queries, mutations) declare their roles with `@Authorized(...)` next to their resolver.
 * Building the schema fails while any field lacks a rule, and so does the schema test.
 */
export const FIELD_ACCESS: Record<string, Record<string, AccessRule>> = {
  ...SHARED_ACCESS,
  ...CATALOG_ACCESS,
  ...ORDERS_ACCESS,
  ...CUSTOMERS_ACCESS,
  ...SEGMENTS_ACCESS,
  ...ANALYTICS_ACCESS,
  ...RECOMMENDATIONS_ACCESS,
  ...PRIVACY_ACCESS,
  ...IMPORTS_ACCESS,
  ...VIEWER_ACCESS,
  ...CRM_ACCESS,
  ...AUTOMATION_ACCESS,
  ...MAILBOX_ACCESS,
};

const ROOTS = new Set(['Query', 'Mutation', 'Subscription']);

/** Roles declared with `@Authorized` per root field name. */
function rootRoles(): Map<string, readonly Role[]> {
  return new Map(getMetadataStorage().authorizedFields.map((a) => [a.fieldName, a.roles as Role[]]));
}

/** Every field of the schema (Type.field) with no declared access rule. */
export function undeclaredFields(
  schema: GraphQLSchema,
  access: Record<string, Record<string, AccessRule>> = FIELD_ACCESS,
  pluginRoots: ReadonlyMap<string, readonly Role[]> = new Map(),
): string[] {
  const roots = new Map([...rootRoles(), ...pluginRoots]);
  const missing: string[] = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__')) continue;
    for (const field of Object.keys(type.getFields())) {
      const declared = ROOTS.has(type.name) ? roots.has(field) : access[type.name]?.[field] !== undefined;
      if (!declared) missing.push(`${type.name}.${field}`);
    }
  }
  return missing;
}

/**
 * Applies the rules of `FIELD_ACCESS` to a built schema (in place) and refuses a schema with a
 * field that declares none.
 */
export function enforceFieldAccess(
  schema: GraphQLSchema,
  access: Record<string, Record<string, AccessRule>> = FIELD_ACCESS,
  pluginRoots: ReadonlyMap<string, readonly Role[]> = new Map(),
): GraphQLSchema {
  const missing = undeclaredFields(schema, access, pluginRoots);
  if (missing.length > 0) {
    throw new Error(`These fields declare no access rule (add them to FIELD_ACCESS, or @Authorized on a root field): ${missing.join(', ')}`);
  }
  // Plugins' queries and mutations: the same check as @Authorized on Kokyaku's own.
  for (const root of [schema.getQueryType(), schema.getMutationType()]) {
    for (const field of Object.values(root?.getFields() ?? {})) {
      const roles = pluginRoots.get(field.name);
      if (!roles) continue;
      const resolve: GraphQLFieldResolver<unknown, GraphQLContext> = field.resolve ?? defaultFieldResolver;
      const where = `${root!.name}.${field.name}`;
      field.resolve = (source, args, context: GraphQLContext, info) => {
        if (!context.actor) throw KokyakuError.unauthenticated(`Sign in to use ${where}.`);
        if (!context.actor.roles.some((r) => roles.includes(r))) {
          throw KokyakuError.forbidden(`${where} needs one of the roles ${roles.join(', ')}.`, { required: roles });
        }
        return resolve(source, args, context, info);
      };
    }
  }
  for (const type of Object.values(schema.getTypeMap())) {
    if (!isObjectType(type) || type.name.startsWith('__') || ROOTS.has(type.name)) continue;
    for (const field of Object.values(type.getFields())) {
      const rule = access[type.name]![field.name]!;
      if (rule.kind === 'inherit') continue;
      const resolve: GraphQLFieldResolver<unknown, GraphQLContext> = field.resolve ?? defaultFieldResolver;
      const where = `${type.name}.${field.name}`;
      if (rule.kind === 'roles') {
        field.resolve = (source, args, context: GraphQLContext, info) => {
          if (!context.actor?.roles.some((r) => rule.roles.includes(r))) {
            throw KokyakuError.forbidden(`${where} needs one of the roles ${rule.roles.join(', ')}.`, { required: rule.roles });
          }
          return resolve(source, args, context, info);
        };
      } else {
        const finish = (value: unknown, source: Record<string, unknown>, context: GraphQLContext) => {
          if (value == null) return value;
          if (context.actor?.roles.some((r) => rule.roles.includes(r))) {
            const customerId = rule.subject(source);
            if (customerId) recordRead(context, customerId, field.name);
            return value;
          }
          return rule.mask(value, source);
        };
        // Plain properties resolve synchronously: no promise per field of every customer.
        field.resolve = (source, args, context: GraphQLContext, info) => {
          const value = resolve(source, args, context, info);
          return value instanceof Promise ? value.then((v) => finish(v, source as Record<string, unknown>, context)) : finish(value, source as Record<string, unknown>, context);
        };
      }
    }
  }
  return schema;
}

/** Notes that this request showed a personal field of a customer (written to the audit log once per request). */
function recordRead(context: GraphQLContext, customerId: string, field: string): void {
  const reads = (context.personalReads ??= new Map());
  const fields = reads.get(customerId);
  if (fields) fields.add(field);
  else reads.set(customerId, new Set([field]));
}
