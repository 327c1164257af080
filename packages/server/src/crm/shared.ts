import { type CustomFieldEntity, typedCustomFields } from '@kokyaku/core';
import { CONTACT_DATA } from '../auth.js';
import type { GraphQLContext } from '../context.js';
import type { CustomFieldValue } from './types.js';

/** Roles that write CRM records (notes, tasks, inquiries, deals, companies): those who work with customers. */
export const WORK_WITH_CUSTOMERS = CONTACT_DATA;
/** Roles that configure the CRM (custom fields, pipelines, scoring). */
export const CONFIGURE = ['ADMIN'] as const;

export async function customFieldValues(context: GraphQLContext, entity: CustomFieldEntity, values: Record<string, unknown>): Promise<CustomFieldValue[]> {
  return typedCustomFields(values, await context.loaders.customFieldDefinitions.load(entity)) as CustomFieldValue[];
}

export { type E, plain } from '../shared/graphql.js';
