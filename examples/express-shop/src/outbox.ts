import type { CustomerInput, EventInput, Kokyaku, OrderInput } from '@kokyaku/core';
import type pg from 'pg';
import { transaction } from './shop-db.js';

export type OutboxMessage = { kind: 'customer'; payload: CustomerInput } | { kind: 'order'; payload: OrderInput } | { kind: 'event'; payload: EventInput };

/** Adds messages for the CRM inside the shop's own transaction. */
export async function enqueue(client: pg.PoolClient, messages: OutboxMessage[]): Promise<void> {
  if (messages.length === 0) return;
  await client.query(
    `insert into shop.crm_outbox (kind, payload)
     select m->>'kind', m->'payload' from jsonb_array_elements($1::jsonb) as m`,
    [JSON.stringify(messages)],
  );
}

/**
 * Sends pending outbox messages to the CRM in-process through Kokyaku's core API. Kokyaku is
 * idempotent on the shop's ids, so a message sent twice (a crash between sending and deleting)
 * changes nothing. Items the CRM rejects as invalid are logged and dropped; any other failure
 * leaves the messages for the next flush.
 */
export async function flushOutbox(pool: pg.Pool, kokyaku: Kokyaku, log: (line: string) => void = console.warn): Promise<number> {
  let sent = 0;
  for (;;) {
    const count = await transaction(pool, async (client) => {
      const { rows } = await client.query<{ id: string; kind: OutboxMessage['kind']; payload: never }>(
        `select id, kind, payload from shop.crm_outbox order by id limit 1000 for update skip locked`,
      );
      if (rows.length === 0) return 0;
      const ctx = kokyaku.context();
      const of = (kind: OutboxMessage['kind']) => rows.filter((r) => r.kind === kind).map((r) => r.payload);
      // Customers first, so orders and events find them complete.
      const results = [await kokyaku.customers.upsert(ctx, of('customer')), await kokyaku.orders.record(ctx, of('order')), await kokyaku.events.track(ctx, of('event'))];
      for (const error of results.flatMap((r) => r.errors)) log(`CRM rejected ${error.externalId ?? `item ${error.index}`}: ${error.field} ${error.message}`);
      await client.query(`delete from shop.crm_outbox where id = any($1::bigint[])`, [rows.map((r) => r.id)]);
      return rows.length;
    });
    sent += count;
    if (count === 0) return sent;
  }
}
