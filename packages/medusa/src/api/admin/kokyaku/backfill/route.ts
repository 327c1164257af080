import type { MedusaRequest, MedusaResponse } from '@medusajs/framework/http';
import { KokyakuMedusa } from '../../../../kokyaku.js';

async function admin(req: MedusaRequest, res: MedusaResponse): Promise<KokyakuMedusa | null> {
  const kokyaku = await KokyakuMedusa.from(req.scope);
  const actor = (req as MedusaRequest & { auth_context?: { actor_id?: string } }).auth_context?.actor_id;
  if (!actor || !(await kokyaku.rolesOf(actor)).includes('ADMIN')) {
    res.status(403).json({ type: 'not_allowed', code: 'FORBIDDEN', message: 'The backfill needs the Kokyaku role ADMIN.' });
    return null;
  }
  return kokyaku;
}

/** POST /admin/kokyaku/backfill { restart?, batch_size?, pause? }: start, resume or pause the history backfill. */
export async function POST(req: MedusaRequest, res: MedusaResponse) {
  const kokyaku = await admin(req, res);
  if (!kokyaku) return;
  const body = (req.body ?? {}) as { restart?: boolean; batch_size?: number; pause?: boolean };
  if (body.pause) {
    res.json({ backfill: await kokyaku.pauseBackfill() });
    return;
  }
  const batchSize = body.batch_size == null ? undefined : Math.min(Math.max(Math.trunc(Number(body.batch_size)), 1), 5000);
  res.json({ backfill: await kokyaku.startBackfill({ restart: !!body.restart, batchSize }) });
}

/** GET /admin/kokyaku/backfill: its progress. */
export async function GET(req: MedusaRequest, res: MedusaResponse) {
  const kokyaku = await admin(req, res);
  if (!kokyaku) return;
  res.json({ backfill: await kokyaku.backfillState() });
}
