import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Actor, Kokyaku } from '@kokyaku/core';
import express, { type Request, type Router } from 'express';
import { type Logger, createLogger } from '../logger.js';

/** The three mandatory privacy webhooks of a Shopify app. */
export const SHOPIFY_PRIVACY_TOPICS = ['customers/data_request', 'customers/redact', 'shop/redact'] as const;
export type ShopifyPrivacyTopic = (typeof SHOPIFY_PRIVACY_TOPICS)[number];

export interface ShopifyPrivacyOptions {
  /** The app's client secret: every request must carry its HMAC-SHA256 (X-Shopify-Hmac-Sha256). */
  secret: string;
  /** Which Kokyaku tenant a shop is (default: the configured default tenant for every shop). */
  tenantForShop?: (shopDomain: string) => string | null | undefined | Promise<string | null | undefined>;
  /**
   * Delivers a customer's data to the merchant (customers/data_request), e.g. by email to the
   * shop owner. Without it the request is audited and logged, and an admin fetches the data with
   * the `customerDataExport` query.
   */
  onDataRequest?: (request: { shopDomain: string; customerId: string; data: Record<string, unknown> }) => Promise<void> | void;
  logger?: Logger;
}

interface PrivacyPayload {
  shop_domain?: string;
  customer?: { id?: number | string; email?: string | null; phone?: string | null };
}

const WEBHOOK_ACTOR: Actor = Object.freeze({ id: 'shopify-privacy-webhook', roles: Object.freeze(['ADMIN'] as const) });

/** True when `hmac` (base64) is the HMAC-SHA256 of `body` under `secret`, compared in constant time. */
export function verifyShopifyHmac(body: Buffer, hmac: string | undefined, secret: string): boolean {
  if (!hmac) return false;
  const expected = createHmac('sha256', secret).update(body).digest();
  const given = Buffer.from(hmac, 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * An Express router for Shopify's privacy webhooks (GDPR / APPI): `customers/data_request`
 * exports the customer's data, `customers/redact` erases the customer (orders stay as anonymous
 * figures), `shop/redact` deletes every row of the shop's tenant. Mount it where the app's
 * compliance webhooks point; the topic comes from X-Shopify-Topic or the path
 * (`/customers/redact`...). Requests without a valid HMAC get 401 and change nothing.
 *
 * @example
 * app.use('/webhooks/shopify', shopifyPrivacyWebhooks(kokyaku, { secret: process.env.SHOPIFY_API_SECRET! }));
 */
export function shopifyPrivacyWebhooks(kokyaku: Kokyaku, options: ShopifyPrivacyOptions): Router {
  if (!options.secret) throw new Error('shopifyPrivacyWebhooks needs the app secret to verify requests.');
  const logger = options.logger ?? createLogger();
  const router = express.Router();
  router.post(['/', '/:scope/:action'], express.raw({ type: '*/*', limit: '1mb' }), async (req: Request, res) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (!verifyShopifyHmac(body, req.get('x-shopify-hmac-sha256'), options.secret)) {
      res.status(401).json({ error: 'invalid HMAC' });
      return;
    }
    const topic = (req.get('x-shopify-topic') ?? (req.params.scope ? `${req.params.scope}/${req.params.action}` : '')) as ShopifyPrivacyTopic;
    if (!SHOPIFY_PRIVACY_TOPICS.includes(topic)) {
      res.status(400).json({ error: `unknown topic "${topic}"; one of ${SHOPIFY_PRIVACY_TOPICS.join(', ')}` });
      return;
    }
    let payload: PrivacyPayload;
    try {
      payload = JSON.parse(body.toString('utf8')) as PrivacyPayload;
    } catch {
      res.status(400).json({ error: 'the body is not JSON' });
      return;
    }
    const shopDomain = String(payload.shop_domain ?? '');
    try {
      const tenantId = (await options.tenantForShop?.(shopDomain)) ?? kokyaku.config.defaultTenant;
      const ctx = kokyaku.context({ tenantId, actor: WEBHOOK_ACTOR });
      if (topic === 'shop/redact') {
        const { rows } = await kokyaku.privacy.eraseShop(ctx);
        logger.info({ topic, shopDomain, tenantId, rows }, 'shop data erased');
        res.json({ topic, handled: true });
        return;
      }
      const externalId = payload.customer?.id != null ? String(payload.customer.id) : null;
      const customerId = await kokyaku.privacy.findCustomer(ctx, { externalId, email: payload.customer?.email ?? null });
      if (!customerId) {
        logger.info({ topic, shopDomain, tenantId }, 'privacy webhook for a customer Kokyaku does not hold');
        res.json({ topic, handled: false });
        return;
      }
      if (topic === 'customers/redact') {
        await kokyaku.privacy.eraseCustomer(ctx, { id: customerId }, { reason: 'shopify customers/redact' });
      } else {
        const data = await kokyaku.privacy.exportCustomer(ctx, { id: customerId });
        await options.onDataRequest?.({ shopDomain, customerId, data });
      }
      logger.info({ topic, shopDomain, tenantId, customerId }, 'privacy webhook handled');
      res.json({ topic, handled: true, customerId });
    } catch (error) {
      logger.error({ err: error, topic, shopDomain }, 'privacy webhook failed');
      res.status(500).json({ error: 'internal error; Shopify will retry' });
    }
  });
  return router;
}
