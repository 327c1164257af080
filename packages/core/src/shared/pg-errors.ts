import { KokyakuError } from './errors.js';

/**
 * What a PostgreSQL (or connection) error means for Kokyaku: the one place that reads SQLSTATE
 * codes. Unknown errors stay what they are (masked in production by the server).
 */
export const SQLSTATE = {
  uniqueViolation: '23505',
  deadlock: '40P01',
  serializationFailure: '40001',
} as const;

/** Connection failures and PostgreSQL's own "not now" (shutting down, starting up, too many connections). */
const OUTAGE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', '57P01', '57P02', '57P03', '08000', '08001', '08003', '08006', '53300']);

const OUTAGE_MESSAGE =
  /Connection terminated|Connection ended unexpectedly|connection error and is not queryable|connect ECONNREFUSED|timeout exceeded when trying to connect|the database system is (starting up|shutting down|in recovery mode)|terminating connection due to administrator command|Transaction query already complete/;

/** The SQLSTATE (or Node's connection code) of an error, if it has one. */
export function pgCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A transaction lost to a concurrent one (deadlock, serialization): running it again may succeed. */
export function isRetryableConflict(error: unknown): boolean {
  const code = pgCode(error);
  return code === SQLSTATE.deadlock || code === SQLSTATE.serializationFailure;
}

/**
 * Whether an error (or what caused it) says PostgreSQL is down or restarting rather than the
 * request being wrong. ("Transaction query already complete" is knex's word for a transaction
 * whose connection PostgreSQL cut while it ran.)
 */
export function isDatabaseOutage(error: unknown): boolean {
  for (let e = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = pgCode(e);
    if (code && OUTAGE_CODES.has(code)) return true;
    const { message } = e as { message?: unknown };
    if (typeof message === 'string' && OUTAGE_MESSAGE.test(message)) return true;
  }
  return false;
}

/** Runs a write; a unique violation becomes a BAD_USER_INPUT naming the field. */
export async function unique<T>(write: () => Promise<T>, field: string, message: string): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (pgCode(error) === SQLSTATE.uniqueViolation) throw KokyakuError.badInput(`${field}: ${message}`, { field });
    throw error;
  }
}
