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

  static unauthenticated(message: string): KokyakuError {
    return new KokyakuError('UNAUTHENTICATED', message);
  }

  static forbidden(message: string, details: Record<string, unknown> = {}): KokyakuError {
    return new KokyakuError('FORBIDDEN', message, details);
  }

  static rateLimited(message: string, details: Record<string, unknown> = {}): KokyakuError {
    return new KokyakuError('RATE_LIMITED', message, details);
  }

  static configInvalid(message: string, details: Record<string, unknown> = {}): KokyakuError {
    return new KokyakuError('CONFIG_INVALID', message, details);
  }

  static segmentQueryInvalid(message: string, details: Record<string, unknown> = {}): KokyakuError {
    return new KokyakuError('SEGMENT_QUERY_INVALID', message, details);
  }

  /** Something not there, said in the caller's words (the message names what to do). */
  static missing(message: string, details: Record<string, unknown> = {}): KokyakuError {
    return new KokyakuError('NOT_FOUND', message, details);
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

  /** PostgreSQL cannot be reached (`message`: what was tried, when the default does not say it). */
  static databaseUnavailable(cause: unknown, message?: string): KokyakuError {
    const reason = cause instanceof Error ? cause.message : String(cause);
    return new KokyakuError('DATABASE_UNAVAILABLE', message ?? `Cannot reach PostgreSQL (${reason}). Check DATABASE_URL, or unset it to use the embedded database.`);
  }
}
