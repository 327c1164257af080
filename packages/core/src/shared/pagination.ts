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

/**
 * One page of a keyset list. Read `first + 1` rows ordered by the list's key: the extra row says
 * whether there is a next page, and the cursor is the key of the last node shown (`key`), so that
 * rows arriving later never shift or repeat what a reader has paged through.
 *
 * @example
 * const rows = await sql(ctx.em, `... where (at, id) < ($2, $3) order by at desc, id desc limit $4`, [..., first + 1]);
 * return keysetPage(rows, first, mapNote, 'n', (n) => [n.createdAt.toISOString(), n.id]);
 */
export function keysetPage<Row, Node>(rows: readonly Row[], first: number, map: (row: Row) => Node, kind: string, key: (node: Node) => readonly string[]): Page<Node> {
  const nodes = rows.slice(0, first).map(map);
  const last = nodes.at(-1);
  return { nodes, hasNextPage: rows.length > first, endCursor: last === undefined ? null : encodeCursor(kind, key(last)) };
}
