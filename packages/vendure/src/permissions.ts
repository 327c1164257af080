import type { Role } from '@kokyaku/core';
import { PermissionDefinition } from '@vendure/core';

/**
 * Vendure permissions that open Kokyaku to an administrator (assign them to a Vendure role in the
 * admin). SuperAdmin gets ADMIN. Each permission maps to one Kokyaku role; an administrator with
 * several gets them all (docs/vendure.md has the table of what each role may do).
 */
export const kokyakuAdmin = new PermissionDefinition({
  name: 'KokyakuAdmin',
  description: 'Kokyaku CRM: everything, including merges, erasure, data exports, settings and the history backfill (Kokyaku role ADMIN)',
});
export const kokyakuMarketing = new PermissionDefinition({
  name: 'KokyakuMarketing',
  description: 'Kokyaku CRM: segments, journeys, messages and reports (Kokyaku role MARKETER)',
});
export const kokyakuSupport = new PermissionDefinition({
  name: 'KokyakuSupport',
  description: 'Kokyaku CRM: customer profiles, notes, tasks and inquiries (Kokyaku role SUPPORT)',
});
export const kokyakuRead = new PermissionDefinition({
  name: 'KokyakuRead',
  description: 'Kokyaku CRM: read-only, contact data masked (Kokyaku role VIEWER)',
});

export const KOKYAKU_PERMISSIONS = [kokyakuAdmin, kokyakuMarketing, kokyakuSupport, kokyakuRead];

/** The documented mapping: Vendure permission -> Kokyaku role. */
export const PERMISSION_ROLES: Readonly<Record<string, Role>> = {
  SuperAdmin: 'ADMIN',
  KokyakuAdmin: 'ADMIN',
  KokyakuMarketing: 'MARKETER',
  KokyakuSupport: 'SUPPORT',
  KokyakuRead: 'VIEWER',
};

/** Kokyaku roles of an administrator with these Vendure permissions (on the channel in use). */
export function rolesFor(permissions: readonly string[]): Role[] {
  const roles = new Set<Role>();
  for (const p of permissions) {
    const role = PERMISSION_ROLES[p];
    if (role) roles.add(role);
  }
  return [...roles];
}
