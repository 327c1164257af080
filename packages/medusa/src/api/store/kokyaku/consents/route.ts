import { CONSENT_CHANNELS, type ConsentChannel } from '@kokyaku/core';
import type { MedusaRequest, MedusaResponse } from '@medusajs/framework/http';
import { KokyakuMedusa } from '../../../../kokyaku.js';

const customerOf = (req: MedusaRequest) => (req as MedusaRequest & { auth_context?: { actor_id?: string; actor_type?: string } }).auth_context;

/** GET /store/kokyaku/consents: the signed-in customer's consents per channel. */
export async function GET(req: MedusaRequest, res: MedusaResponse) {
  const auth = customerOf(req);
  if (!auth?.actor_id) {
    res.status(401).json({ type: 'unauthorized', message: 'Sign in to see your consents.' });
    return;
  }
  const kokyaku = await KokyakuMedusa.from(req.scope);
  const ctx = kokyaku.context();
  const known = await kokyaku.kokyaku.customers.findByExternalId(ctx, auth.actor_id);
  res.json({ consents: known ? await kokyaku.kokyaku.privacy.consents(ctx, { externalId: auth.actor_id }) : [] });
}

/** POST /store/kokyaku/consents { channel, granted }: the signed-in customer gives or withdraws consent. */
export async function POST(req: MedusaRequest, res: MedusaResponse) {
  const auth = customerOf(req);
  if (!auth?.actor_id) {
    res.status(401).json({ type: 'unauthorized', message: 'Sign in to give or withdraw consent.' });
    return;
  }
  const body = (req.body ?? {}) as { channel?: string; granted?: unknown };
  const channel = String(body.channel ?? '').toUpperCase();
  if (!(CONSENT_CHANNELS as readonly string[]).includes(channel) || typeof body.granted !== 'boolean') {
    res.status(400).json({ type: 'invalid_data', message: `Give { channel: ${CONSENT_CHANNELS.join(' | ')}, granted: true | false }.` });
    return;
  }
  const kokyaku = await KokyakuMedusa.from(req.scope);
  const ctx = kokyaku.context();
  // The customer may be newer than the last delivery: send them first.
  await kokyaku.kokyaku.customers.upsert(ctx, await kokyaku.loadCustomers([auth.actor_id]));
  const consent = await kokyaku.kokyaku.privacy.recordConsent(
    ctx,
    { externalId: auth.actor_id },
    { channel: channel as ConsentChannel, granted: body.granted, source: 'Medusa storefront' },
  );
  res.json({ consent });
}
