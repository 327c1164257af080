import { defineModule } from '../module/module.js';
import type { CustomerService } from '../customers/customer.service.js';
import { sql } from '../shared/sql.js';

/** Import runs and their staged rows. An erasure drops the rows of unfinished imports that name the customer. */
export const importsModule = defineModule<{ customers: CustomerService }>({
  name: 'imports',
  tenantTables: ['import_rows', 'import_runs'],
  hooks: {
    customerErased: async (ctx, customerId, kokyaku) => {
      // The shop ids that name this customer (their own and those merged into it), read before the customers module blanks them.
      const names = await kokyaku.customers.externalIds(ctx, customerId);
      await sql(
        ctx.em,
        `delete from kokyaku.import_rows r using kokyaku.import_runs u
         where r.tenant_id = $1 and u.tenant_id = r.tenant_id and u.id = r.run_id and u.status <> 'DONE'
           and (u.kind = 'customers' and r.doc->>'externalId' = any(kokyaku.json_texts($2::jsonb))
                or u.kind in ('orders', 'events') and r.doc->>'customerExternalId' = any(kokyaku.json_texts($2::jsonb)))`,
        [ctx.tenantId, JSON.stringify(names)],
      );
    },
  },
});
