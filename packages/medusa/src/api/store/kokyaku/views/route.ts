import type { MedusaRequest, MedusaResponse } from '@medusajs/framework/http';
import { KokyakuMedusa } from '../../../../kokyaku.js';

/** POST /store/kokyaku/views { variant_id }: the signed-in customer viewed a product (guests: not recorded). */
export async function POST(req: MedusaRequest, res: MedusaResponse) {
  const customerId = (req as MedusaRequest & { auth_context?: { actor_id?: string } }).auth_context?.actor_id;
  const variantId = (req.body as { variant_id?: unknown } | undefined)?.variant_id;
  if (typeof variantId !== 'string' || !variantId) {
    res.status(400).json({ type: 'invalid_data', message: 'Give { variant_id }.' });
    return;
  }
  if (!customerId) {
    res.json({ recorded: false });
    return;
  }
  const kokyaku = await KokyakuMedusa.from(req.scope);
  await kokyaku.enqueue([{ kind: 'view', ref: customerId, payload: { variantId, occurredAt: new Date().toISOString() } }]);
  res.json({ recorded: true });
}
