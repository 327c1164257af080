import { ROLES } from '@kokyaku/core';
import { Authorized, Ctx, Query, Resolver } from 'type-graphql';
import { CONTACT_DATA, MANAGE_SEGMENTS } from '../auth.js';
import type { GraphQLContext } from '../context.js';
import { Viewer } from './types.js';
import { WORK_WITH_CUSTOMERS } from '../crm/resolver.js';

@Resolver()
export class ViewerResolver {
  @Authorized([...ROLES])
  @Query(() => Viewer, { description: 'Who is calling, what they may do, and the shop settings to show dates and amounts in.' })
  viewer(@Ctx() { actor, core }: GraphQLContext): Viewer {
    const roles = actor!.roles;
    const any = (allowed: readonly string[]) => roles.some((r) => allowed.includes(r));
    return {
      id: actor!.id,
      roles: [...roles],
      can: { contactData: any(CONTACT_DATA), workWithCustomers: any(WORK_WITH_CUSTOMERS), manageSegments: any(MANAGE_SEGMENTS), admin: any(['ADMIN']) },
      shop: { currency: core.shop.currency, timeZone: core.shop.timeZone, defaultCountry: core.shop.defaultCountry },
    };
  }
}
