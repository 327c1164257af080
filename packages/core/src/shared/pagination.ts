import { KokyakuError } from './errors.js';

export interface PageArgs {
  /** Page size, 1-500 (default 20). */
  first?: number | null;
  /** The `endCursor` of the previous page. */
  after?: string | null;
}

export interface Page<T> {
  nodes: T[];
  hasNextPage: boolean;
  endCursor: string | null;
}

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 500;

export function pageSize(first: number | null | undefined): number {
  if (first === undefined || first === null) return DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE_SIZE) {
    throw KokyakuError.badInput(`"first" must be an integer from 0 to ${MAX_PAGE_SIZE}; got ${first}.`, { field: 'first' });
  }
  return first;
}

/** Opaque cursor: base64url of a kind tag and the sort key values. */
export function encodeCursor(kind: string, values: readonly string[]): string {
  return Buffer.from(JSON.stringify([kind, ...values])).toString('base64url');
}

export function decodeCursor(cursor: string, kind: string): string[] {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && parsed[0] === kind && parsed.slice(1).every((v) => typeof v === 'string')) {
      return parsed.slice(1) as string[];
    }
  } catch {
    // fall through to the error below
  }
  throw KokyakuError.invalidCursor(cursor);
}
