import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import path from 'node:path';
import type { Actor, Kokyaku } from '@kokyaku/core';
import { kokyakuExpress, messagingRoutes } from '@kokyaku/server/express';
import express, { type NextFunction, type Request, type Response } from 'express';
import type pg from 'pg';
import { enqueue, flushOutbox } from './outbox.js';
import { transaction } from './shop-db.js';

export interface ShopOptions {
  kokyaku: Kokyaku;
  pool: pg.Pool;
  /** Bearer token of shop staff for the CRM API and explorer. */
  staffToken: string;
  log?: (line: string) => void;
  /** Serve the React storefront (examples/storefront) at /storefront/ through Vite (default true). */
  storefront?: boolean;
  /**
   * Fill the staff token into the explorer's headers (default false). Only for a shop that only
   * this machine reaches: the explorer page is served to whoever opens it.
   */
  explorerToken?: boolean;
  /** A read-only staff token (role VIEWER: contact data masked, no changes), e.g. for a part-timer. */
  viewerToken?: string;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const asyncRoute = (fn: (req: Request, res: Response) => Promise<void>) => (req: Request, res: Response, next: NextFunction) => {
  fn(req, res).catch(next);
};

function requireString(body: Record<string, unknown>, key: string): string {
  const value = body[key];
  if (typeof value !== 'string' || value.trim() === '') throw new HttpError(400, `"${key}" is required.`);
  return value.trim();
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * The example shop: its own catalog, customers, carts and checkout in the `shop` schema, with
 * the CRM mounted at /crm/graphql. Every change the CRM should know about goes through the
 * outbox in the same transaction, and is sent in-process through Kokyaku's core API.
 */
export async function createShopApp({ kokyaku, pool, staffToken, viewerToken, log = console.warn, storefront = true, explorerToken = false }: ShopOptions) {
  const app = express();
  app.disable('x-powered-by');
  const sync = () => flushOutbox(pool, kokyaku, log).catch((error: unknown) => log(`CRM sync failed, will retry: ${String(error)}`));
  const sessions = new Sessions();

  // Staff with the token are administrators (with the viewer token: read-only). A storefront
  // session (the shop's own cookie) is a STOREFRONT caller: recommendations, and "for you" only for
  // the customer signed in. The staff console at /crm/console signs in with a staff token.
  const crm = await kokyakuExpress(kokyaku, {
    path: '/graphql',
    console: { title: 'Kokyaku Coffee CRM' },
    identify: (req): { actor: Actor | null } => {
      if (req.headers.authorization === `Bearer ${staffToken}`) return { actor: { id: 'shop-staff', roles: ['ADMIN'] } };
      if (viewerToken && req.headers.authorization === `Bearer ${viewerToken}`) return { actor: { id: 'shop-viewer', roles: ['VIEWER'] } };
      const session = sessions.read(req);
      if (!session) return { actor: null };
      return { actor: { id: `storefront:${session.id}`, roles: ['STOREFRONT'], customerExternalId: session.customerId ?? undefined } };
    },
    explorer: { defaultHeaders: { Authorization: explorerToken ? `Bearer ${staffToken}` : 'Bearer <the staff token printed at start>' } },
  });
  app.use('/crm', crm);
  // Tracked links and unsubscribe links of journey messages (messaging.publicUrl points here).
  app.use('/crm/m', messagingRoutes(kokyaku));

  app.get(
    '/',
    asyncRoute(async (_req, res) => {
      const { rows } = await pool.query<{ sku: string; name: string; category: string; price: number }>(
        'select sku, name, category, price from shop.products order by category, sku',
      );
      const items = rows
        .map(
          (p) =>
            `<li><code>${escapeHtml(p.sku)}</code> <a href="/products/${encodeURIComponent(p.sku)}">${escapeHtml(p.name)}</a> <small>(${escapeHtml(p.category)})</small> ¥${p.price.toLocaleString('en')}</li>`,
        )
        .join('\n');
      res.type('html').send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Kokyaku example shop</title>
<style>body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem}code{color:#555}</style></head>
<body>
<h1>Kokyaku example shop</h1>
<p>A small shop backend with the Kokyaku CRM mounted. Open the <a id="explorer" href="/crm/graphql">CRM GraphQL explorer</a>
(add the staff token printed at start to its headers, if it is not filled in), a product page (bought together, and for you with <code>?customerId=</code>), or use the shop API: <code>GET /api/products</code>, <code>GET /api/products/:sku</code>, <code>GET /api/customers/:id/recommendations</code>, <code>POST /api/customers</code>,
<code>POST /api/carts</code>, <code>POST /api/carts/:id/items</code>, <code>POST /api/carts/:id/checkout</code>.</p>
<h2>Catalog (${rows.length} products)</h2>
<ul>${items}</ul>
</body></html>`);
    }),
  );

  /** "Bought together" and "For you" blocks, straight from Kokyaku's core API. */
  const blocks = async (sku: string | null, customerId: string | null) => {
    const ctx = kokyaku.context();
    const toItem = (r: Awaited<ReturnType<typeof kokyaku.recommendations.recommend>>[number]) => ({
      sku: r.product.externalId,
      name: r.product.name,
      price: r.product.price,
      reason: r.reason,
    });
    const boughtTogether = sku ? (await kokyaku.recommendations.recommend(ctx, { productExternalId: sku, strategy: 'BOUGHT_TOGETHER', first: 4 })).map(toItem) : [];
    const forYou = (
      await kokyaku.recommendations.recommend(ctx, customerId ? { customerExternalId: customerId, strategy: 'FOR_CUSTOMER', first: 4 } : { strategy: 'POPULAR', first: 4 })
    ).map(toItem);
    return { boughtTogether, forYou };
  };

  app.get(
    '/products/:sku',
    asyncRoute(async (req, res) => {
      const sku = String(req.params.sku);
      const { rows } = await pool.query<{ sku: string; name: string; category: string; price: number }>('select sku, name, category, price from shop.products where sku = $1', [
        sku,
      ]);
      const product = rows[0];
      if (!product) throw new HttpError(404, `No product ${sku}.`);
      const customerId = typeof req.query.customerId === 'string' ? req.query.customerId : null;
      const { boughtTogether, forYou } = await blocks(sku, customerId);
      const list = (id: string, items: typeof forYou) =>
        `<ul id="${id}">${items
          .map((i) => `<li><a href="/products/${encodeURIComponent(i.sku)}">${escapeHtml(i.name ?? i.sku)}</a> <small>${escapeHtml(i.reason)}</small></li>`)
          .join('')}</ul>`;
      res.type('html').send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(product.name)} · Kokyaku example shop</title>
<style>body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem}small{color:#666}</style></head>
<body>
<p><a href="/">Catalog</a></p>
<h1>${escapeHtml(product.name)}</h1>
<p>${escapeHtml(product.category)} · ¥${product.price.toLocaleString('en')}</p>
<h2>Bought together</h2>
${list('bought-together', boughtTogether)}
<h2>${customerId ? 'For you' : 'Popular now'}</h2>
${list('for-you', forYou)}
</body></html>`);
    }),
  );

  const api = express.Router();
  api.use(express.json());

  /** The storefront's session: a visitor at first, a customer after the demo sign-in. */
  api.get(
    '/session',
    asyncRoute(async (req, res) => {
      const session = sessions.read(req) ?? sessions.start(res, null);
      res.json({ customer: session.customerId ? await shopper(session.customerId) : null });
    }),
  );
  // Demo sign-in: a shop's real sign-in checks a password; this one takes any customer of the shop.
  api.post(
    '/session',
    asyncRoute(async (req, res) => {
      const customerId = requireString((req.body ?? {}) as Record<string, unknown>, 'customerId');
      const customer = await shopper(customerId);
      if (!customer) throw new HttpError(404, `No customer ${customerId}.`);
      sessions.start(res, customerId);
      res.json({ customer });
    }),
  );
  api.delete('/session', (_req, res) => {
    sessions.start(res, null);
    res.json({ customer: null });
  });
  /** Customers to sign in as: those with the most orders (their recommendations say the most). */
  api.get(
    '/demo-customers',
    asyncRoute(async (_req, res) => {
      const { rows } = await pool.query(
        `select c.id, c.first_name as "firstName", c.last_name as "lastName", count(o.id)::int as orders
         from shop.customers c join shop.orders o on o.customer_id = c.id and o.status = 'PLACED'
         group by c.id order by count(o.id) desc, c.id limit 6`,
      );
      res.json(rows);
    }),
  );

  api.get(
    '/customers/:id/recommendations',
    asyncRoute(async (req, res) => {
      res.json((await blocks(null, String(req.params.id))).forYou);
    }),
  );

  api.get(
    '/products',
    asyncRoute(async (req, res) => {
      const category = typeof req.query.category === 'string' ? req.query.category : null;
      const { rows } = await pool.query('select * from shop.products where $1::text is null or category = $1 order by sku', [category]);
      res.json(rows);
    }),
  );

  api.get(
    '/products/:sku',
    asyncRoute(async (req, res) => {
      const { rows } = await pool.query('select * from shop.products where sku = $1', [req.params.sku]);
      if (!rows[0]) throw new HttpError(404, `No product ${String(req.params.sku)}.`);
      const customerId = typeof req.query.customerId === 'string' ? req.query.customerId : null;
      if (customerId) {
        await transaction(pool, (client) =>
          enqueue(client, [
            {
              kind: 'event',
              payload: {
                eventId: `evt_${randomUUID()}`,
                type: 'product_viewed',
                customerExternalId: customerId,
                productExternalId: String(req.params.sku),
                occurredAt: new Date().toISOString(),
              },
            },
          ]),
        );
        await sync();
      }
      res.json({ ...rows[0], boughtTogether: (await blocks(String(req.params.sku), null)).boughtTogether });
    }),
  );

  api.post(
    '/customers',
    asyncRoute(async (req, res) => {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const email = requireString(body, 'email').toLowerCase();
      const firstName = requireString(body, 'firstName');
      const lastName = requireString(body, 'lastName');
      const phone = typeof body.phone === 'string' ? body.phone : null;
      const newsletter = body.newsletter === true;
      const id = `cus_${randomUUID().slice(0, 12)}`;
      await transaction(pool, async (client) => {
        const inserted = await client.query(
          `insert into shop.customers (id, email, first_name, last_name, phone, newsletter) values ($1, $2, $3, $4, $5, $6)
           on conflict (email) do nothing`,
          [id, email, firstName, lastName, phone, newsletter],
        );
        if (inserted.rowCount === 0) throw new HttpError(409, `A customer with ${email} exists.`);
        await enqueue(client, [{ kind: 'customer', payload: { externalId: id, email, firstName, lastName, phone, emailConsent: newsletter } }]);
      });
      await sync();
      res.status(201).json({ id });
    }),
  );

  api.post(
    '/carts',
    asyncRoute(async (req, res) => {
      const customerId = requireString((req.body ?? {}) as Record<string, unknown>, 'customerId');
      const { rows } = await pool.query<{ id: string }>(`insert into shop.carts (customer_id) select id from shop.customers where id = $1 returning id::text`, [customerId]);
      if (!rows[0]) throw new HttpError(404, `No customer ${customerId}.`);
      res.status(201).json({ id: rows[0].id });
    }),
  );

  api.post(
    '/carts/:id/items',
    asyncRoute(async (req, res) => {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const sku = requireString(body, 'sku');
      const quantity = Number(body.quantity ?? 1);
      if (!Number.isInteger(quantity) || quantity < 1) throw new HttpError(400, '"quantity" must be a whole number of at least 1.');
      await transaction(pool, async (client) => {
        const cart = await client.query<{ customer_id: string }>(`select customer_id from shop.carts where id = $1 and checked_out_at is null`, [req.params.id]);
        if (!cart.rows[0]) throw new HttpError(404, `No open cart ${String(req.params.id)}.`);
        const product = await client.query(`select 1 from shop.products where sku = $1`, [sku]);
        if (!product.rowCount) throw new HttpError(404, `No product ${sku}.`);
        await client.query(
          `insert into shop.cart_items (cart_id, sku, quantity) values ($1, $2, $3)
           on conflict (cart_id, sku) do update set quantity = shop.cart_items.quantity + excluded.quantity`,
          [req.params.id, sku, quantity],
        );
        await enqueue(client, [
          {
            kind: 'event',
            payload: {
              eventId: `evt_${randomUUID()}`,
              type: 'added_to_cart',
              customerExternalId: cart.rows[0].customer_id,
              productExternalId: sku,
              occurredAt: new Date().toISOString(),
              properties: { quantity },
            },
          },
        ]);
      });
      await sync();
      res.status(201).json({ ok: true });
    }),
  );

  api.post(
    '/carts/:id/checkout',
    asyncRoute(async (req, res) => {
      const order = await transaction(pool, async (client) => {
        const cart = await client.query<{ customer_id: string }>(`update shop.carts set checked_out_at = now() where id = $1 and checked_out_at is null returning customer_id`, [
          req.params.id,
        ]);
        if (!cart.rows[0]) throw new HttpError(404, `No open cart ${String(req.params.id)}.`);
        const items = await client.query<{ sku: string; quantity: number; price: number }>(
          `select i.sku, i.quantity, p.price from shop.cart_items i join shop.products p on p.sku = i.sku where i.cart_id = $1 order by i.sku for update of p`,
          [req.params.id],
        );
        if (items.rows.length === 0) throw new HttpError(400, 'The cart is empty.');
        const stock = await client.query(
          `update shop.products p set stock = p.stock - i.quantity from shop.cart_items i
           where i.cart_id = $1 and p.sku = i.sku and p.stock >= i.quantity`,
          [req.params.id],
        );
        if (stock.rowCount !== items.rows.length) throw new HttpError(409, 'Some items are out of stock.');
        const { rows } = await client.query<{ id: string; placed_at: Date }>(
          `insert into shop.orders (id, customer_id, placed_at, total)
           values ('ord_' || lpad(nextval('shop.order_number')::text, 7, '0'), $1, now(), $2) returning id, placed_at`,
          [cart.rows[0].customer_id, items.rows.reduce((s, i) => s + i.quantity * i.price, 0)],
        );
        const placed = rows[0]!;
        await client.query(
          `insert into shop.order_items (order_id, line, sku, quantity, unit_price)
           select $1, row_number() over (order by i.sku), i.sku, i.quantity, p.price
           from shop.cart_items i join shop.products p on p.sku = i.sku where i.cart_id = $2`,
          [placed.id, req.params.id],
        );
        const payload = {
          externalId: placed.id,
          customerExternalId: cart.rows[0].customer_id,
          placedAt: placed.placed_at.toISOString(),
          lines: items.rows.map((i) => ({ productExternalId: i.sku, quantity: i.quantity, unitPrice: i.price })),
        };
        await enqueue(client, [{ kind: 'order', payload }]);
        return { id: placed.id, total: items.rows.reduce((s, i) => s + i.quantity * i.price, 0) };
      });
      await sync();
      res.status(201).json(order);
    }),
  );

  api.post(
    '/orders/:id/cancel',
    asyncRoute(async (req, res) => {
      await transaction(pool, async (client) => {
        const { rows } = await client.query<{ customer_id: string; placed_at: Date }>(
          `update shop.orders set status = 'CANCELLED' where id = $1 and status = 'PLACED' returning customer_id, placed_at`,
          [req.params.id],
        );
        if (!rows[0]) throw new HttpError(404, `No placed order ${String(req.params.id)}.`);
        const items = await client.query<{ sku: string; quantity: number; unit_price: number }>(
          `select sku, quantity, unit_price from shop.order_items where order_id = $1 order by line`,
          [req.params.id],
        );
        await client.query(`update shop.products p set stock = p.stock + i.quantity from shop.order_items i where i.order_id = $1 and p.sku = i.sku`, [req.params.id]);
        await enqueue(client, [
          {
            kind: 'order',
            payload: {
              externalId: String(req.params.id),
              customerExternalId: rows[0].customer_id,
              placedAt: rows[0].placed_at.toISOString(),
              status: 'CANCELLED',
              lines: items.rows.map((i) => ({ productExternalId: i.sku, quantity: i.quantity, unitPrice: i.unit_price })),
            },
          },
        ]);
      });
      await sync();
      res.json({ ok: true });
    }),
  );

  app.use('/api', api);

  // The React storefront (examples/storefront), built by Vite when the shop starts (under a
  // second here) and served from memory under /storefront/.
  if (storefront) {
    const files = await buildStorefront();
    app.get(/^\/storefront(\/.*)?$/, (req, res) => {
      const file = files.get(req.path.replace(/^\/storefront\/?/, '')) ?? files.get('index.html')!;
      res
        .type(file.type)
        .set('Cache-Control', file.type === 'html' ? 'no-cache' : 'public, max-age=31536000, immutable')
        .send(file.body);
    });
  }

  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (error instanceof HttpError) {
      res.status(error.status).json({ error: error.message });
      return;
    }
    log(`shop error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    res.status(500).json({ error: 'Internal error' });
  });

  async function shopper(customerId: string) {
    const { rows } = await pool.query<{ id: string; firstName: string; lastName: string }>(
      `select id, first_name as "firstName", last_name as "lastName" from shop.customers where id = $1`,
      [customerId],
    );
    return rows[0] ?? null;
  }

  return {
    app,
    stop: () => crm.stop(),
    sync,
  };
}

/** Builds examples/storefront with its Vite config, in memory: file name -> type and bytes. */
async function buildStorefront(): Promise<Map<string, { type: string; body: Buffer }>> {
  const { build } = await import('vite');
  const root = path.resolve(import.meta.dirname, '..', '..', 'storefront');
  const result = await build({ configFile: path.join(root, 'vite.config.ts'), build: { write: false } });
  const outputs = (Array.isArray(result) ? result : [result]).flatMap((r) => ('output' in r ? r.output : []));
  return new Map(outputs.map((o) => [o.fileName, { type: path.extname(o.fileName).slice(1) || 'bin', body: Buffer.from(o.type === 'chunk' ? o.code : o.source) }]));
}

const COOKIE = 'kokyaku_shop_session';

/** Signed session cookies (HMAC with a key of this process): `<session id>.<customer id or ->.<signature>`. */
class Sessions {
  private readonly key = randomBytes(32);

  private sign(value: string): string {
    return createHmac('sha256', this.key).update(value).digest('base64url');
  }

  read(req: Request): { id: string; customerId: string | null } | null {
    const raw = /(?:^|;\s*)kokyaku_shop_session=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
    if (!raw) return null;
    const value = decodeURIComponent(raw);
    const cut = value.lastIndexOf('.');
    const [body, signature] = [value.slice(0, cut), value.slice(cut + 1)];
    const expected = Buffer.from(this.sign(body));
    if (cut < 0 || expected.length !== Buffer.from(signature).length || !timingSafeEqual(expected, Buffer.from(signature))) return null;
    const [id, customer] = body.split('.');
    return { id: id!, customerId: customer && customer !== '-' ? Buffer.from(customer, 'base64url').toString() : null };
  }

  start(res: Response, customerId: string | null): { id: string; customerId: string | null } {
    const id = randomUUID();
    const body = `${id}.${customerId ? Buffer.from(customerId).toString('base64url') : '-'}`;
    res.cookie(COOKIE, `${body}.${this.sign(body)}`, { httpOnly: true, sameSite: 'lax', path: '/' });
    return { id, customerId };
  }
}
