/**
 * Expected failures carry a stable `code`; the GraphQL layer copies it to `extensions.code`.
 * Anything that is not a KokyakuError is unexpected and is masked in production.
 */
export type KokyakuErrorCode =
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'DATABASE_UNAVAILABLE'
  | 'CONFIG_INVALID'
  | 'SEGMENT_QUERY_INVALID'
  | 'RATE_LIMITED';

export class KokyakuError extends Error {
  override name = 'KokyakuError';
  constructor(
    readonly code: KokyakuErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }

  static badInput(message: string, details: Record<string, unknown> = {}): KokyakuError {
    return new KokyakuError('BAD_USER_INPUT', message, details);
  }

  static notFound(what: string, key: string): KokyakuError {
    return new KokyakuError('NOT_FOUND', `${what} ${key} was not found.`, { what, key });
  }

  static batchTooLarge(size: number, max: number): KokyakuError {
    return new KokyakuError('BAD_USER_INPUT', `A batch holds at most ${max} items; this one has ${size}. Split it into several calls.`, { size, max });
  }

  static invalidCursor(cursor: string): KokyakuError {
    return new KokyakuError('BAD_USER_INPUT', `"${cursor}" is not a cursor this list gave out; pass pageInfo.endCursor back unchanged.`, {
      cursor,
    });
  }

  static databaseUnavailable(cause: unknown): KokyakuError {
    const reason = cause instanceof Error ? cause.message : String(cause);
    return new KokyakuError('DATABASE_UNAVAILABLE', `Cannot reach PostgreSQL (${reason}). Check DATABASE_URL, or unset it to use the embedded database.`);
  }
}
