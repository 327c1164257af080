import type { Kokyaku, KokyakuContext } from '@kokyaku/core';
import { createTestKokyaku } from '@kokyaku/core/testing';
import { afterAll, beforeAll, expect, inject, it } from 'vitest';

/**
 * Regression: lists selected `id::text as id` and ordered `by id`, which PostgreSQL reads as the
 * text alias: "10" sorted before "9", while the page cursors compared ids as numbers. Past id 9
 * (and every power of ten), pages skipped and repeated rows. Each list here crosses from 9 to 10
 * with ties on its other sort keys, a page of 5 at a time.
 */
let kokyaku: Kokyaku;
const ctx = (): KokyakuContext => kokyaku.context({ actor: { id: 'staff', roles: ['ADMIN'] } });

beforeAll(async () => {
  kokyaku = await createTestKokyaku(inject('kokyakuAdminUrl'));
});
afterAll(() => kokyaku?.close());

async function all<T extends { id: string }>(page: (after: string | null) => Promise<{ nodes: T[]; hasNextPage: boolean; endCursor: string | null }>): Promise<string[]> {
  const ids: string[] = [];
  let after: string | null = null;
  do {
    const p = await page(after);
    ids.push(...p.nodes.map((n) => n.id));
    after = p.hasNextPage ? p.endCursor : null;
  } while (after);
  return ids;
}

const numeric = (ids: string[]) => [...ids].sort((a, b) => Number(a) - Number(b));

it('pages through the audit log, newest first, each entry once', async () => {
  await kokyaku.audit.record(
    ctx(),
    Array.from({ length: 12 }, () => ({ action: 'EXPORT' as const, customerId: null })),
  );
  const ids = await all((after) => kokyaku.audit.list(ctx(), { first: 5, after, action: 'EXPORT' }));
  expect(ids).toHaveLength(12);
  expect(ids).toEqual(numeric(ids).reverse());
});

it('pages through 12 undated tasks (all tied on the due date) in id order, each once', async () => {
  for (let i = 0; i < 12; i++) await kokyaku.tasks.create(ctx(), { title: `Task ${i}` });
  const ids = await all((after) => kokyaku.tasks.list(ctx(), { first: 5, after }));
  expect(ids).toHaveLength(12);
  expect(ids).toEqual(numeric(ids));
});

it('pages through 12 inquiries opened at the same moment, newest id first, each once', async () => {
  const openedAt = new Date('2026-11-01T00:00:00Z');
  await kokyaku.customers.upsert(
    ctx(),
    Array.from({ length: 12 }, (_, i) => ({ externalId: `c-${i}` })),
  );
  for (let i = 0; i < 12; i++) await kokyaku.inquiries.open(ctx(), { customerExternalId: `c-${i}`, channel: 'EMAIL', subject: `Question ${i}`, openedAt });
  const ids = await all((after) => kokyaku.inquiries.list(ctx(), { first: 5, after }));
  expect(ids).toHaveLength(12);
  expect(ids).toEqual(numeric(ids).reverse());
});

it('reads segment changes after a change id in id order, each once', async () => {
  await kokyaku.segments.create(ctx(), { name: 'Everyone', query: 'number_of_orders >= 0' });
  await kokyaku.customers.upsert(
    ctx(),
    Array.from({ length: 12 }, (_, i) => ({ externalId: `seg-${i}` })),
  );
  const ids: string[] = [];
  let afterId: string | undefined;
  for (;;) {
    const page = await kokyaku.segments.changes(ctx(), { afterId, limit: 5 });
    if (page.length === 0) break;
    ids.push(...page.map((c) => c.id));
    afterId = page.at(-1)!.id;
  }
  expect(ids.length).toBeGreaterThanOrEqual(12);
  expect(new Set(ids).size).toBe(ids.length);
  expect(ids).toEqual(numeric(ids));
});

it('lists 12 scoring rules in the order they were made', async () => {
  for (let i = 0; i < 12; i++) await kokyaku.scoring.createRule(ctx(), { name: `Rule ${i}`, points: 1, condition: 'number_of_orders >= 0' });
  const rules = await kokyaku.scoring.rules(ctx());
  expect(rules.map((r) => r.name)).toEqual(Array.from({ length: 12 }, (_, i) => `Rule ${i}`));
});
