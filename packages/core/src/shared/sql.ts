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
  const values = params.map((value, i) => {
    if (Array.isArray(value)) {
      throw new TypeError(`sql(): parameter $${i + 1} is an array; pass JSON.stringify(value) and cast with ::jsonb.`);
    }
    return value === undefined ? null : value;
  });
  const knex = em.getKnex();
  const trx = em.getTransactionContext();
  if (trx) {
    // Inside a transaction: on the transaction's connection, through knex.
    const ordered: unknown[] = [];
    const knexText = text.replace(/\$(\d+)/g, (_match, n: string) => {
      ordered.push(values[Number(n) - 1]);
      return '?';
    });
    const result = (await knex.raw(knexText, ordered as never[]).transacting(trx)) as { rows: Row[] };
    return result.rows;
  }
  // Outside one: straight to a pooled connection, the statement as written. Knex would rewrite
  // the placeholders to "?" and back and build a query object per call: a tenth of the CPU time of
  // a simple read request went there.
  const client = knex.client as PooledClient;
  const connection = await client.acquireConnection();
  try {
    client.emit('query', { sql: text, bindings: values });
    const result = await connection.query<Row>({ text, values });
    return result.rows;
  } finally {
    await client.releaseConnection(connection);
  }
}

/** The part of knex's client that `sql` uses: its pool of pg connections and its query event. */
interface PooledClient {
  acquireConnection(): Promise<{ query<Row>(config: { text: string; values: unknown[] }): Promise<{ rows: Row[] }> }>;
  releaseConnection(connection: unknown): Promise<unknown>;
  emit(event: 'query', query: { sql: string; bindings: unknown[] }): boolean;
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
