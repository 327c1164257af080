import { STRATEGIES, type Strategy } from '@kokyaku/core';
import type { MedusaRequest, MedusaResponse } from '@medusajs/framework/http';
import { KokyakuMedusa } from '../../../../kokyaku.js';

/**
 * GET /store/kokyaku/recommendations?strategy=&variant_id=&limit=
 * FOR_CUSTOMER for a signed-in customer (POPULAR for guests), BOUGHT_TOGETHER or SIMILAR with a variant.
 */
export async function GET(req: MedusaRequest, res: MedusaResponse) {
  const kokyaku = await KokyakuMedusa.from(req.scope);
  const customerId = (req as MedusaRequest & { auth_context?: { actor_id?: string } }).auth_context?.actor_id;
  const q = req.query as Record<string, string | undefined>;
  const variantId = q.variant_id || null;
  const asked = q.strategy?.toUpperCase();
  if (asked && !(STRATEGIES as readonly string[]).includes(asked)) {
    res.status(400).json({ type: 'invalid_data', message: `strategy must be one of ${STRATEGIES.join(', ')}` });
    return;
  }
  let strategy = (asked as Strategy | undefined) ?? (variantId ? 'BOUGHT_TOGETHER' : customerId ? 'FOR_CUSTOMER' : 'POPULAR');
  if (strategy === 'FOR_CUSTOMER' && !customerId) strategy = 'POPULAR';
  if ((strategy === 'BOUGHT_TOGETHER' || strategy === 'SIMILAR') && !variantId) {
    res.status(400).json({ type: 'invalid_data', message: `${strategy} needs a variant_id` });
    return;
  }
  const first = Math.min(Math.max(Number(q.limit ?? 10) || 10, 1), 50);
  const list = await kokyaku.kokyaku.recommendations.recommend(kokyaku.context(), {
    strategy,
    first,
    customerExternalId: customerId ?? null,
    productExternalId: variantId,
  });
  res.json({
    recommendations: list.map((r) => ({ variant_id: r.product.externalId, name: r.product.name, price: r.product.price, score: r.score, reason: r.reason, strategy: r.strategy })),
  });
}
