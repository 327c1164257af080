import { defineModule } from '../module/module.js';
import { sqlValue } from '../shared/sql.js';
import type { CustomerService } from './customer.service.js';
import { CUSTOM_FIELDS, PROFILE_ATTRIBUTES } from './segment-language.js';
import { FIELD_STEP, TAG_STEP } from './steps.js';

/**
 * Customers: the profile row and the shop ids merged into it. Identity merge and erasure are
 * this domain's own work (the survivor's row, the aliases, the blanked profile); it runs last in
 * both, after every other module moved or blanked its rows.
 */
export const customersModule = defineModule<{ customers: CustomerService }>({
  name: 'customers',
  tenantTables: ['customer_aliases', 'customers'],
  published: ['customers', 'customer_aliases'],
  customerTables: [{ table: 'customer_aliases', merge: 'custom', erase: 'custom', export: 'custom' }],
  segmentAttributes: PROFILE_ATTRIBUTES,
  segmentCustomFields: CUSTOM_FIELDS,
  automationSteps: [TAG_STEP, FIELD_STEP],
  hooks: {
    customerErased: async (ctx, customerId, kokyaku) => {
      await kokyaku.customers.erase(ctx, customerId);
    },
    exportCustomer: async (ctx, customerId) => ({
      customer: await sqlValue(ctx.em, `select to_jsonb(c) - 'search_name' - 'search_kana' as v from kokyaku.customers c where tenant_id = $1 and id = $2::bigint`, [
        ctx.tenantId,
        customerId,
      ]),
    }),
  },
});
