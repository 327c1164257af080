import type pg from 'pg';

/**
 * The shop's own tables, in its own schema. They know nothing of the CRM: Kokyaku keeps its own
 * copy of what it needs, keyed by the shop's ids, and never references these tables.
 */
export const SHOP_SCHEMA = `
  create schema if not exists shop;
  create sequence if not exists shop.order_number;
  create table if not exists shop.products (
    sku text primary key,
    name text not null,
    category text not null,
    tags text[] not null default '{}',
    price integer not null check (price >= 0),
    stock integer not null check (stock >= 0)
  );
  create table if not exists shop.customers (
    id text primary key,
    email text not null unique,
    first_name text not null,
    last_name text not null,
    phone text,
    prefecture text,
    city text,
    birthday date,
    newsletter boolean not null default false,
    created_at timestamptz not null default now()
  );
  create table if not exists shop.carts (
    id bigint generated always as identity primary key,
    customer_id text not null references shop.customers (id),
    created_at timestamptz not null default now(),
    checked_out_at timestamptz
  );
  create table if not exists shop.cart_items (
    cart_id bigint not null references shop.carts (id) on delete cascade,
    sku text not null references shop.products (sku),
    quantity integer not null check (quantity > 0),
    primary key (cart_id, sku)
  );
  create table if not exists shop.orders (
    id text primary key,
    customer_id text not null references shop.customers (id),
    placed_at timestamptz not null,
    status text not null default 'PLACED',
    total integer not null
  );
  create index if not exists orders_customer_idx on shop.orders (customer_id);
  create table if not exists shop.order_items (
    order_id text not null references shop.orders (id) on delete cascade,
    line integer not null,
    sku text not null references shop.products (sku),
    quantity integer not null,
    unit_price integer not null,
    primary key (order_id, line)
  );
  -- What still has to reach the CRM (transactional outbox: written in the same transaction as
  -- the shop's own change, sent after commit, retried until the CRM has it).
  create table if not exists shop.crm_outbox (
    id bigint generated always as identity primary key,
    kind text not null check (kind in ('customer', 'order', 'event')),
    payload jsonb not null,
    created_at timestamptz not null default now()
  );
`;

export async function migrateShop(pool: pg.Pool): Promise<void> {
  await pool.query(SHOP_SCHEMA);
}

export async function transaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    const result = await fn(client);
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
