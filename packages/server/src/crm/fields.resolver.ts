import type { CustomFieldEntity } from '@kokyaku/core';
import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { READ_CUSTOMERS } from '../auth.js';
import type { GraphQLContext } from '../context.js';
import { CustomFieldDefinition, CustomFieldDefinitionInput, CustomFieldDefinitionPatch, CustomFieldEntity as CustomFieldEntityEnum } from './types.js';
import { CONFIGURE, plain } from './shared.js';

/** Custom field definitions of customers, companies and deals. */
@Resolver()
export class CustomFieldResolver {
  // Custom fields
  @Authorized(READ_CUSTOMERS)
  @Query(() => [CustomFieldDefinition], { description: 'The custom field definitions, of one entity or all.' })
  customFieldDefinitions(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('entity', () => CustomFieldEntityEnum, { nullable: true }) entity?: CustomFieldEntity | null) {
    return kokyaku.customFields.list(core, entity);
  }

  @Authorized([...CONFIGURE])
  @Mutation(() => CustomFieldDefinition, { description: 'Defines a typed custom field; values are checked against it from now on.' })
  defineCustomField(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('input', () => CustomFieldDefinitionInput) input: CustomFieldDefinitionInput) {
    return kokyaku.customFields.define(core, plain(input));
  }

  @Authorized([...CONFIGURE])
  @Mutation(() => CustomFieldDefinition)
  updateCustomField(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('id', () => ID) id: string, @Arg('patch', () => CustomFieldDefinitionPatch) patch: CustomFieldDefinitionPatch) {
    return kokyaku.customFields.update(core, id, plain(patch));
  }

  @Authorized([...CONFIGURE])
  @Mutation(() => Boolean, { description: 'Removes a definition; stored values stay, untyped.' })
  deleteCustomField(@Ctx() { kokyaku, core }: GraphQLContext, @Arg('id', () => ID) id: string) {
    return kokyaku.customFields.delete(core, id);
  }
}
