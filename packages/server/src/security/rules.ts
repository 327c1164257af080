import type { Role } from '@kokyaku/core';
import { CONTACT_DATA } from '../auth.js';

/**
 * Who may read a field of an object type. Root fields (queries, mutations) declare their roles
 * with `@Authorized(...)` next to their resolver; every field of every object type declares its
 * rule here. Building the schema fails while any field lacks one, and so does the schema test.
 *
 * - `inherit`: whoever could reach the object may read the field (the root operation that
 *   returned it checked the roles);
 * - `roles`: only these roles; others get FORBIDDEN;
 * - `masked`: personal data: these roles read it, every other role reads `mask(value)`.
 */
export type AccessRule =
  | { kind: 'inherit' }
  | { kind: 'roles'; roles: readonly Role[] }
  | {
      kind: 'masked';
      roles: readonly Role[];
      mask: (value: unknown, source: Record<string, unknown>) => unknown;
      /** Whose data it is: reads by the roles that see it are written to the audit log. */
      subject: (source: Record<string, unknown>) => string | undefined;
    };

export const INHERIT: AccessRule = { kind: 'inherit' };
export const inherit = (...fields: string[]): Record<string, AccessRule> => Object.fromEntries(fields.map((f) => [f, INHERIT]));
export const contact = (
  mask: (value: unknown, source: Record<string, unknown>) => unknown,
  subject: (source: Record<string, unknown>) => string | undefined = (customer) => customer.id as string,
): AccessRule => ({ kind: 'masked', roles: CONTACT_DATA, mask, subject });

/** `hanako@example.com` → `h***@example.com`. */
export function maskEmail(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const at = value.lastIndexOf('@');
  return at < 1 ? '***' : `${value[0]}***${value.slice(at)}`;
}

/** `+819012345678` → `**********78`. */
export function maskPhone(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  return `${'*'.repeat(Math.max(0, value.length - 2))}${value.slice(-2)}`;
}

export const hidden = () => null;
