import type { z } from 'zod';
import { KokyakuError } from '../shared/errors.js';
import { formatPath } from '../shared/validation.js';

export { formatPath };

/** One rejected item of a batch: which one, which field, and why. */
export interface BatchItemError {
  /** 0-based position of the item in the batch. */
  index: number;
  /** Path of the offending field, e.g. `email` or `lines[2].quantity`. */
  field: string;
  message: string;
  /** The item's shop id when it had a readable one. */
  externalId?: string;
}

/**
 * What a batch did. `created + updated + unchanged + failed` equals `received`; a valid item
 * that repeats an earlier item of the same batch counts once, as `unchanged`.
 */
export interface BatchResult {
  received: number;
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
  errors: BatchItemError[];
}

export const MAX_BATCH_SIZE = 10_000;

export interface ValidItem<T> {
  index: number;
  value: T;
}

/**
 * Validates every item on its own. Valid items come back parsed (normalised); each invalid one
 * gives one error per offending field.
 */
export function validateBatch<S extends z.ZodType>(items: readonly unknown[], schema: S, idKey: string): { valid: ValidItem<z.output<S>>[]; errors: BatchItemError[] } {
  if (!Array.isArray(items)) throw KokyakuError.badInput('A batch must be an array of items.');
  if (items.length > MAX_BATCH_SIZE) throw KokyakuError.batchTooLarge(items.length, MAX_BATCH_SIZE);
  const valid: ValidItem<z.output<S>>[] = [];
  const errors: BatchItemError[] = [];
  items.forEach((item, index) => {
    const parsed = schema.safeParse(item);
    if (parsed.success) {
      valid.push({ index, value: parsed.data });
      return;
    }
    const rawId = typeof item === 'object' && item !== null ? (item as Record<string, unknown>)[idKey] : undefined;
    const externalId = typeof rawId === 'string' && rawId.trim() ? rawId.trim() : undefined;
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) {
          errors.push({
            index,
            field: formatPath([...issue.path, key]),
            message: `Unknown field "${key}".`,
            ...(externalId ? { externalId } : {}),
          });
        }
        continue;
      }
      errors.push({
        index,
        field: formatPath(issue.path) || '(item)',
        message: issue.message,
        ...(externalId ? { externalId } : {}),
      });
    }
  });
  return { valid, errors };
}

/**
 * Keeps the last occurrence of each key, so a batch that names the same record twice upserts it
 * once with its latest content (PostgreSQL cannot upsert one row twice in one statement).
 */
export function lastPerKey<T>(items: ValidItem<T>[], key: (value: T) => string): ValidItem<T>[] {
  const byKey = new Map<string, ValidItem<T>>();
  for (const item of items) {
    const k = key(item.value);
    byKey.delete(k);
    byKey.set(k, item);
  }
  return [...byKey.values()];
}

/**
 * Called inside the ingestion transaction with the customers whose data a batch changed, so that
 * what derives from them (segment membership) follows in the same transaction.
 */
export type CustomersChanged = (ctx: import('../shared/context.js').KokyakuContext, customerIds: string[]) => Promise<void>;

export type { OrderChange, OrderState } from '../module/module.js';

export function emptyResult(received: number, errors: BatchItemError[]): BatchResult {
  const failed = new Set(errors.map((e) => e.index)).size;
  return { received, created: 0, updated: 0, unchanged: received - failed, failed, errors };
}
