import { KokyakuError, type Role } from '@kokyaku/core';
import type { AuthCheckerFn } from 'type-graphql';
import type { GraphQLContext } from './context.js';

/** Roles that may read customers' personal data. */
export const READ_CUSTOMERS: Role[] = ['ADMIN', 'MARKETER', 'SUPPORT', 'VIEWER'];
/** Roles that see and search customers' contact data (email, phone); VIEWER does not. */
export const CONTACT_DATA: Role[] = ['ADMIN', 'MARKETER', 'SUPPORT'];
/** Roles that may define segments. */
export const MANAGE_SEGMENTS: Role[] = ['ADMIN', 'MARKETER'];
/** Roles that may write shop data into the CRM. */
export const INGEST: Role[] = ['ADMIN'];

/**
 * Every resolver declares the roles it needs with `@Authorized(...)`. No actor: UNAUTHENTICATED;
 * an actor without any of the roles: FORBIDDEN.
 */
export const authChecker: AuthCheckerFn<GraphQLContext, Role> = ({ context, info }, roles) => {
  const actor = context.actor;
  if (!actor) {
    throw KokyakuError.unauthenticated(`Sign in to use ${info.parentType.name}.${info.fieldName}.`);
  }
  if (roles.length === 0 || actor.roles.some((r) => roles.includes(r))) return true;
  throw KokyakuError.forbidden(`${info.parentType.name}.${info.fieldName} needs one of the roles ${roles.join(', ')}.`, {
    required: roles,
  });
};
