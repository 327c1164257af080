import type { KokyakuContext } from '../shared/context.js';
import { KokyakuError } from '../shared/errors.js';
import { sqlOne } from '../shared/sql.js';
import { findCustomerId } from '../customers/customer.service.js';

export { isId, parseInput, unique } from '../shared/validation.js';
import { isId } from '../shared/validation.js';

/** A reference to a record that must exist in the tenant: its id, or a NOT_FOUND-style BAD_USER_INPUT naming the field. */
export async function requireRow(
  ctx: KokyakuContext,
  table: 'customers' | 'companies' | 'deals' | 'orders' | 'pipelines' | 'pipeline_stages' | 'inquiries' | 'tasks' | 'notes',
  id: string,
  field: string,
): Promise<string> {
  const row = isId(id)
    ? await sqlOne<{ id: string }>(ctx.em, `select id::text as id from kokyaku.${table} where tenant_id = $1 and id = $2::bigint`, [ctx.tenantId, id])
    : undefined;
  if (!row) throw KokyakuError.badInput(`${field}: no ${singular(table)} with id ${JSON.stringify(id)} in this shop.`, { field });
  return row.id;
}

function singular(table: string): string {
  return (
    {
      customers: 'customer',
      companies: 'company',
      deals: 'deal',
      orders: 'order',
      pipelines: 'pipeline',
      pipeline_stages: 'stage',
      inquiries: 'inquiry',
      tasks: 'task',
      notes: 'note',
    }[table] ?? table
  );
}

/** The id of an order by the shop's id, or BAD_USER_INPUT naming the field. */
export async function requireOrder(ctx: KokyakuContext, externalId: string, field: string): Promise<string> {
  const row = await sqlOne<{ id: string }>(ctx.em, `select id::text as id from kokyaku.orders where tenant_id = $1 and external_id = $2`, [ctx.tenantId, externalId]);
  if (!row) throw KokyakuError.badInput(`${field}: no order ${JSON.stringify(externalId)} in this shop.`, { field });
  return row.id;
}

/** The id of a customer (by Kokyaku's id, else the shop's or one merged into it), or BAD_USER_INPUT naming the field. */
export async function requireCustomer(ctx: KokyakuContext, ref: { id?: string | null; externalId?: string | null }, field: string): Promise<string> {
  const id = await findCustomerId(ctx, ref.id != null ? { id: ref.id } : { externalId: ref.externalId ?? '' });
  if (!id) throw KokyakuError.badInput(`${field}: no customer ${JSON.stringify(ref.id ?? ref.externalId)} in this shop.`, { field });
  return id;
}

/** The actor's id for who-did-what columns (null for system work). */
export const actorId = (ctx: KokyakuContext): string | null => ctx.actor?.id ?? null;

/** An optional id filter for SQL: null stays null, a malformed id matches nothing. */
export const idParam = (id: string | null | undefined): string | null => (id == null ? null : isId(id) ? id : '0');
