import { KokyakuError } from '../shared/errors.js';
import type { Position } from './ast.js';

/** Levenshtein distance, for "did you mean" suggestions. */
export function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = prev[j]!;
      prev[j] = a[i - 1] === b[j - 1] ? diagonal : 1 + Math.min(diagonal, above, prev[j - 1]!);
      diagonal = above;
    }
  }
  return prev[b.length]!;
}

/** The closest candidate to a misspelt name, if one is close enough to be a likely typo. */
export function suggest(name: string, candidates: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const limit = Math.max(2, Math.floor(lower.length / 3));
  return best !== undefined && bestDistance <= limit ? best : undefined;
}

export interface SegmentErrorDetails {
  line: number;
  column: number;
  offset: number;
  /** What the parser expected at this place. */
  expected?: string[];
  /** A likely correction of a misspelt name. */
  suggestion?: string;
}

/**
 * An invalid segment query: bad syntax, an unknown name, or a type mismatch. Code
 * SEGMENT_QUERY_INVALID; `details` (GraphQL `extensions`) carry line, column and, where it helps,
 * what was expected and a suggestion.
 */
export class SegmentQueryError extends KokyakuError {
  constructor(message: string, pos: Position, extra: { expected?: string[]; suggestion?: string } = {}) {
    const hint = extra.suggestion ? ` Did you mean ${extra.suggestion}?` : '';
    const details: SegmentErrorDetails = { line: pos.line, column: pos.column, offset: pos.offset, ...extra };
    super('SEGMENT_QUERY_INVALID', `${message} (line ${pos.line}, column ${pos.column}).${hint}`, { ...details });
  }
}
