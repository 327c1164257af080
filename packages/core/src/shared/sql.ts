import type { EntityManager } from '@mikro-orm/postgresql';

/**
 * Runs one parameterised statement on the context's connection (or its open transaction).
 * Write placeholders as `$1`, `$2`... Values travel as bind parameters, never spliced into the
 * text. Arrays must be sent as JSON (`JSON.stringify(ids)` with `$1::jsonb`), which keeps the
 * statement text identical for every batch size.
 */
export async function sql<Row = Record<string, unknown>>(
  em: EntityManager,
  text: string,
  params: readonly unknown[] = [],
): Promise<Row[]> {
  const ordered: unknown[] = [];
  const knexText = text.replace(/\$(\d+)/g, (_match, n: string) => {
    const value = params[Number(n) - 1];
    if (Array.isArray(value)) {
      throw new TypeError(`sql(): parameter $${n} is an array; pass JSON.stringify(value) and cast with ::jsonb.`);
    }
    ordered.push(value === undefined ? null : value);
    return '?';
  });
  const query = em.getKnex().raw(knexText, ordered as never[]);
  const trx = em.getTransactionContext();
  if (trx) query.transacting(trx);
  const result = (await query) as { rows: Row[] };
  return result.rows;
}

/** `sql` for statements that return one row (or none). */
export async function sqlOne<Row = Record<string, unknown>>(
  em: EntityManager,
  text: string,
  params: readonly unknown[] = [],
): Promise<Row | undefined> {
  const rows = await sql<Row>(em, text, params);
  return rows[0];
}

/** Timestamps come back as text from raw statements (MikroORM's type parsers); read them as Dates. */
export function asDate(value: Date | string): Date;
export function asDate(value: Date | string | null): Date | null;
export function asDate(value: Date | string | null): Date | null {
  if (value === null) return null;
  return value instanceof Date ? value : new Date(value);
}
