import { type CustomFieldEntity, typedCustomFields } from '@kokyaku/core';
import { CONTACT_DATA } from '../auth.js';
import type { GraphQLContext } from '../context.js';
import type { CustomFieldValue } from './types.js';

/** Roles that write CRM records (notes, tasks, inquiries, deals, companies): those who work with customers. */
export const WORK_WITH_CUSTOMERS = CONTACT_DATA;
/** Roles that configure the CRM (custom fields, pipelines, scoring). */
export const CONFIGURE = ['ADMIN'] as const;

export type E<T> = T[keyof T];
/** GraphQL input objects as plain objects (fields left out stay absent). */
export const plain = <T extends object>(input: T): T => Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)) as T;

export async function customFieldValues(context: GraphQLContext, entity: CustomFieldEntity, values: Record<string, unknown>): Promise<CustomFieldValue[]> {
  return typedCustomFields(values, await context.loaders.customFieldDefinitions.load(entity)) as CustomFieldValue[];
}
