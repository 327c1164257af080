import { isDatabaseOutage, isRetryableConflict, pgCode } from './pg-errors.js';
import type { EntityManager } from '@mikro-orm/postgresql';
import type pg from 'pg';

/**
 * Statements of hot paths, each prepared once per pooled connection (the names given in order of
 * registration): PostgreSQL then parses and plans them once per connection, or once in a few
 * executions, instead of on every call. Only for constant statement texts (the registry never
 * shrinks, and every connection keeps what it prepared).
 */
const preparedNames = new Map<string, string>();

/** Marks a constant statement text as prepared by `sql` (outside transactions); returns the text. */
export function prepared(text: string): string {
  if (!preparedNames.has(text)) preparedNames.set(text, `kokyaku_${preparedNames.size + 1}`);
  return text;
}

/**
 * Runs one parameterised statement on the context's connection (or its open transaction).
 * Write placeholders as `$1`, `$2`... Values travel as bind parameters, never spliced into the
 * text. Arrays must be sent as JSON (`JSON.stringify(ids)` with `$1::jsonb`), which keeps the
 * statement text identical for every batch size.
 */
export async function sql<Row = Record<string, unknown>>(em: EntityManager, text: string, params: readonly unknown[] = []): Promise<Row[]> {
  const values = params.map((value, i) => {
    if (Array.isArray(value)) {
      throw new TypeError(`sql(): parameter $${i + 1} is an array; pass JSON.stringify(value) and cast with ::jsonb.`);
    }
    return value === undefined ? null : value;
  });
  const knex = em.getKnex();
  const trx = em.getTransactionContext();
  if (trx) {
    if (!entered.has(trx)) {
      throw new Error('sql(): this transaction did not enter a tenant; open it with transaction(ctx, fn), not em.transactional.');
    }
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
  const session = bound.get(em);
  if (session === undefined) {
    throw new Error('sql(): this EntityManager is bound to no tenant; use the em of a context from kokyaku.context().');
  }
  const client = knex.client as PooledClient;
  const route = routes.get(em);
  if (route?.enabled) {
    if (readOnly(text)) {
      const rows = await readOnReplica<Row>(route, client, session, text, values);
      if (rows) return rows;
    } else {
      // The context writes: its later reads must see the write, so they read the primary too.
      route.enabled = false;
    }
  }
  const connection = await acquireFor(client, session);
  try {
    client.emit('query', { sql: text, bindings: values });
    const result = await connection.query<Row>({ name: preparedNames.get(text), text, values });
    return result.rows;
  } finally {
    await client.releaseConnection(connection);
  }
}

// ---------------------------------------------------------------------------------------------
// Read replicas (database/replicas.ts). A context made with `reads: 'replica'` sends its read
// statements to a replica; everything else, and every statement in a transaction, goes to the
// primary. The first read picks the replica and, if the actor wrote lately, waits until it has
// replayed the write, else the context reads the primary. A statement the replica cannot run (the
// replica went away or is shutting down, a standby conflict, or the statement writes after all)
// runs on the primary: a replica never fails a request.

/** A read replica as `sql` uses it (database/replicas.ts). */
export interface ReplicaTarget {
  readonly pool: pg.Pool;
  reads: number;
  fallbacks: number;
  takeOut(error: unknown): void;
}

/** The read replicas as `sql` uses them (database/replicas.ts). */
export interface ReplicaChooser {
  pick(): ReplicaTarget | null;
  positionOf(key: string): bigint | undefined;
  caughtUp(replica: ReplicaTarget, position: bigint): Promise<boolean>;
}

/** How a context reaches the read replicas. */
export interface ReadRoute {
  readonly replicas: ReplicaChooser;
  /** Tenant and actor: whose last write the replica must have replayed. */
  readonly key: string;
  /** Off: every statement goes to the primary (a mutation, or the context wrote). */
  enabled: boolean;
  /** The replica this context reads, once chosen; null: the primary. */
  chosen?: ReplicaTarget | null;
}

const routes = new WeakMap<EntityManager, ReadRoute>();

/** Sends the read statements of `em` (outside transactions) to `route`'s replicas. */
export function routeReads<T extends EntityManager>(em: T, route: ReadRoute): T {
  routes.set(em, route);
  return em;
}

/** The replica route of `em`, if it has one (to turn it off for a mutation). */
export function readRouteOf(em: EntityManager): ReadRoute | undefined {
  return routes.get(em);
}

const readOnlyTexts = new Map<string, boolean>();
const WRITES = /\b(insert|update|delete|merge|truncate|copy|lock|nextval|setval|pg_notify|pg_advisory\w*|pg_try_advisory\w*)\b|\bfor\s+(no\s+key\s+)?(update|share|key\s+share)\b/i;

/** Whether a statement only reads (a replica can run it): a select or with that names no write. */
function readOnly(text: string): boolean {
  let known = readOnlyTexts.get(text);
  if (known === undefined) {
    known = /^\s*(select|with)\b/i.test(text) && !WRITES.test(text);
    if (readOnlyTexts.size > 5000) readOnlyTexts.clear();
    readOnlyTexts.set(text, known);
  }
  return known;
}

/** SQLSTATEs after which the primary runs the statement: it wrote (read-only transaction), or a conflict with recovery canceled it. */
const REPLICA_REFUSALS = new Set(['25006', '40001']);

async function readOnReplica<Row>(route: ReadRoute, primary: PooledClient, session: string | typeof SYSTEM, text: string, values: unknown[]): Promise<Row[] | null> {
  let replica = route.chosen;
  if (replica === undefined) {
    const picked = route.replicas.pick();
    const position = route.replicas.positionOf(route.key);
    replica = picked;
    if (picked && position !== undefined) {
      try {
        if (!(await route.replicas.caughtUp(picked, position))) replica = null;
      } catch (error) {
        picked.takeOut(error);
        replica = null;
      }
    }
    route.chosen = replica;
  }
  if (!replica) return null;
  let connection: (PgConnection & { release(destroy?: boolean): void }) | undefined;
  try {
    connection = (await replica.pool.connect()) as unknown as PgConnection & { release(destroy?: boolean): void };
    const wanted = session === SYSTEM ? undefined : session;
    if (connection[SESSION] !== wanted) await setSession(connection, session, primary[TENANT_ROLE] ?? null);
    primary.emit('query', { sql: text, bindings: values });
    const result = await connection.query<Row>({ name: preparedNames.get(text), text, values });
    connection.release();
    replica.reads++;
    return result.rows;
  } catch (error) {
    const outage = isDatabaseOutage(error);
    connection?.release(outage);
    if (!outage && !REPLICA_REFUSALS.has(pgCode(error) ?? '')) throw error;
    replica.fallbacks++;
    if (outage) replica.takeOut(error);
    if (pgCode(error) === '25006') readOnlyTexts.set(text, false);
    route.chosen = null;
    return null;
  }
}

/** The part of knex's client that `sql` uses: its pool of pg connections and its query event. */
interface PooledClient {
  acquireConnection(): Promise<PgConnection>;
  releaseConnection(connection: unknown): Promise<unknown>;
  emit(event: 'query', query: { sql: string; bindings: unknown[] }): boolean;
  [RAW_ACQUIRE]?: () => Promise<PgConnection>;
  [TENANT_ROLE]?: string | null;
}

interface PgConnection {
  query<Row>(config: { name?: string; text: string; values: unknown[] }): Promise<{ rows: Row[] }>;
  /** What this connection's session is set to, when `sql` set it to a tenant. */
  [SESSION]?: string;
}

// ---------------------------------------------------------------------------------------------
// Tenant sessions. Every table with a tenant_id is guarded by row-level security (see the
// migration tenant_isolation): a statement sees and writes only the rows of the tenant in the
// setting `kokyaku.tenant_id`, when it runs as the role `kokyaku_tenant`. `sql` sets both:
// - in a transaction opened with `transaction(ctx, fn)`, for that transaction only (its first
//   statement, `set_config(..., true)`);
// - outside one, for the pooled connection's session, and only when the connection is not set
//   to that tenant already: one shop means one extra statement per new connection.
// Every other user of the pool (MikroORM, knex, migrations, transactions before they enter a
// tenant) gets a connection reset to the database user, so session state never leaks to them.

const SESSION = Symbol('kokyaku.session');
const RAW_ACQUIRE = Symbol('kokyaku.rawAcquire');
const TENANT_ROLE = Symbol('kokyaku.tenantRole');
/** Binds an EntityManager to the database user itself, for work across tenants (refresh). */
export const SYSTEM = Symbol('kokyaku.system');

const bound = new WeakMap<EntityManager, string | typeof SYSTEM>();
const entered = new WeakSet<object>();

/** Binds a (forked) EntityManager to one tenant: `sql` on it sees only that tenant's rows. */
export function bindTenant<T extends EntityManager>(em: T, tenantId: string | typeof SYSTEM): T {
  bound.set(em, tenantId);
  return em;
}

/**
 * Runs `fn` in a transaction that sees only `ctx.tenantId`'s rows (row-level security). Use it
 * instead of `em.transactional`: `sql` refuses to run in a transaction that entered no tenant.
 */
export async function transaction<T>(ctx: { tenantId: string; em: EntityManager }, fn: (em: EntityManager) => Promise<T>, options: { acrossTenants?: boolean } = {}): Promise<T> {
  // A transaction that loses a deadlock (40P01) or a serialization conflict (40001) to a
  // concurrent one is rolled back whole and run again, a few times with a growing random pause:
  // concurrent batches of a shop with several writers then always succeed. `fn` must leave
  // nothing behind but its statements (everything of ingestion does). A nested call is part of
  // its outer transaction, which retries it.
  if (ctx.em.getTransactionContext()) return run(ctx, fn, options);
  for (let attempt = 1; ; attempt++) {
    try {
      return await run(ctx, fn, options);
    } catch (error) {
      if (!isRetryableConflict(error) || attempt >= TRANSACTION_ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * 2 ** attempt));
    }
  }
}

/** Attempts of a transaction that keeps losing deadlocks before its error reaches the caller. */
const TRANSACTION_ATTEMPTS = 8;

function run<T>(ctx: { tenantId: string; em: EntityManager }, fn: (em: EntityManager) => Promise<T>, options: { acrossTenants?: boolean }): Promise<T> {
  return ctx.em.transactional(async (em) => {
    const trx = em.getTransactionContext() as object;
    entered.add(trx);
    if (options.acrossTenants) {
      // Work that reads one tenant and writes another (the evaluation's scratch tenant): as the
      // database user, every statement naming its tenant itself.
      await sql(em, `select set_config('role', 'none', true), set_config('kokyaku.tenant_id', '', true)`);
    } else {
      const role = (em.getKnex().client as PooledClient)[TENANT_ROLE] ?? null;
      await sql(em, `select set_config('role', coalesce($1, current_setting('role')), true), set_config('kokyaku.tenant_id', $2, true)`, [role, ctx.tenantId]);
    }
    return fn(em);
  });
}

/**
 * Prepares the pool of a MikroORM instance for tenant sessions: connections that `sql` set to a
 * tenant are reset before anyone else uses them. `tenantRole` is the role statements of a tenant
 * run as (null: the database user, which must then be subject to row-level security).
 */
export function installTenantSessions(em: EntityManager, tenantRole: string | null): void {
  const client = em.getKnex().client as PooledClient;
  client[TENANT_ROLE] = tenantRole;
  if (client[RAW_ACQUIRE]) return;
  const raw = client.acquireConnection.bind(client);
  client[RAW_ACQUIRE] = raw;
  client.acquireConnection = async () => {
    const connection = await raw();
    if (connection[SESSION] !== undefined) {
      await setSession(connection, SYSTEM, null);
    }
    return connection;
  };
}

async function acquireFor(client: PooledClient, session: string | typeof SYSTEM): Promise<PgConnection> {
  const connection = await (client[RAW_ACQUIRE] ?? client.acquireConnection.bind(client))();
  const wanted = session === SYSTEM ? undefined : session;
  if (connection[SESSION] !== wanted) {
    try {
      await setSession(connection, session, client[TENANT_ROLE] ?? null);
    } catch (error) {
      await client.releaseConnection(connection);
      throw error;
    }
  }
  return connection;
}

/** Session bookkeeping, not a statement of an operation: not reported to `onQuery`. */
async function setSession(connection: PgConnection, session: string | typeof SYSTEM, role: string | null): Promise<void> {
  // Forget the state first: if the statement fails, the next user sets it again.
  connection[SESSION] = undefined;
  if (session === SYSTEM) {
    await connection.query({ text: `select set_config('role', 'none', false), set_config('kokyaku.tenant_id', '', false)`, values: [] });
    return;
  }
  await connection.query({
    text: `select set_config('role', coalesce($1, 'none'), false), set_config('kokyaku.tenant_id', $2, false)`,
    values: [role, session],
  });
  connection[SESSION] = session;
}

/** `sql` for statements that return one row (or none). */
export async function sqlOne<Row = Record<string, unknown>>(em: EntityManager, text: string, params: readonly unknown[] = []): Promise<Row | undefined> {
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

/** The column `v` of the first row (null when there is none): one JSON value built in SQL. */
export async function sqlValue(em: EntityManager, text: string, params: readonly unknown[] = []): Promise<unknown> {
  return (await sqlOne<{ v: unknown }>(em, text, params))?.v ?? null;
}
