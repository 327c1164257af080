import { z } from 'zod';
import type { KokyakuContext } from '../shared/context.js';
import { KokyakuError } from '../shared/errors.js';
import type { AutomationStep } from '../module/steps.js';
import type { CustomerService } from './customer.service.js';

const label = z.string().trim().min(1).max(100);
const tagOptions = z.strictObject({ add: z.array(label).max(20).optional(), remove: z.array(label).max(20).optional() });
const fieldOptions = z.strictObject({ key: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'A custom field key.'), value: z.unknown() });

type Services = { customers: CustomerService };

/** The run's customer, as the step's transaction sees them. */
async function customerOf(ctx: KokyakuContext, customers: CustomerService, id: string) {
  const customer = await customers.findById(ctx, id);
  if (!customer) throw KokyakuError.missing(`Customer ${id} not found.`);
  return customer;
}

/** Writes through the customer's upsert, so that figures, scores and segments follow as for any change. */
async function upsert(ctx: KokyakuContext, customers: CustomerService, doc: Record<string, unknown>, field: string): Promise<void> {
  const result = await customers.upsert(ctx, [doc as never]);
  const error = result.errors[0];
  if (error) throw KokyakuError.badInput(`${field}: ${error.message}`, { field });
}

/** `TAG`: adds and removes customer tags. */
export const TAG_STEP: AutomationStep<z.output<typeof tagOptions>, Services> = {
  type: 'TAG',
  description: 'Adds and removes tags of the customer.',
  options: tagOptions,
  run: async (ctx, step, kokyaku) => {
    const { add = [], remove = [] } = step.options;
    const customer = await customerOf(ctx, kokyaku.customers, step.customerId);
    const removed = new Set(remove);
    const tags = [...new Set([...customer.tags.filter((t) => !removed.has(t)), ...add])];
    if (tags.join('\u0000') !== customer.tags.join('\u0000')) await upsert(ctx, kokyaku.customers, { externalId: customer.externalId, tags }, 'tags');
    return { outcome: 'TAGGED', detail: { add, remove } };
  },
};

/** `FIELD`: sets one custom field of the customer (checked against its definition, if any). */
export const FIELD_STEP: AutomationStep<z.output<typeof fieldOptions>, Services> = {
  type: 'FIELD',
  description: 'Sets a custom field of the customer.',
  options: fieldOptions,
  run: async (ctx, step, kokyaku) => {
    const { key, value } = step.options;
    const customer = await customerOf(ctx, kokyaku.customers, step.customerId);
    await upsert(ctx, kokyaku.customers, { externalId: customer.externalId, customFields: { [key]: value } }, `customFields.${key}`);
    return { outcome: 'FIELD_SET', detail: { key } };
  },
};
