import type { MedusaRequest, MedusaResponse } from '@medusajs/framework/http';
import { KokyakuMedusa } from '../../../../kokyaku.js';

/** GET /admin/kokyaku/sync: the outbox (pending, failing, last error), the backfill, where the CRM answers. */
export async function GET(req: MedusaRequest, res: MedusaResponse) {
  const kokyaku = await KokyakuMedusa.from(req.scope);
  const actor = (req as MedusaRequest & { auth_context?: { actor_id?: string } }).auth_context?.actor_id;
  if (!actor || (await kokyaku.rolesOf(actor)).length === 0) {
    res.status(403).json({ type: 'not_allowed', code: 'FORBIDDEN', message: 'This user has no Kokyaku role.' });
    return;
  }
  res.json({ ...(await kokyaku.syncStatus()), console_path: '/kokyaku/console/', graphql_path: '/kokyaku/graphql' });
}
