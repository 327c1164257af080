import type { Actor } from '@kokyaku/core';
import type { KokyakuFetchHandler } from '@kokyaku/server/fetch';

/**
 * Kokyaku's GraphQL API at /api/crm and the staff console at /api/console (one catch-all route
 * gets both, and the probes /api/crm/healthz and /api/crm/readyz). One Kokyaku per server process: Next.js may evaluate a route
 * module more than once in development, so the handler lives on globalThis.
 *
 * Installed from npm, write plain static imports and list the packages in
 * `serverExternalPackages` (next.config.mjs). In this repository they are workspace links, which
 * Turbopack bundles despite that setting (vercel/next.js#84388); so they are imported at run
 * time, by Node, which is what serverExternalPackages does for packages in node_modules.
 */
const g = globalThis as { kokyakuHandler?: Promise<KokyakuFetchHandler> };

/** Stands in for the app's own sessions: a staff session and a shopper's (customer S-1). */
function actorOf(authorization: string | null): Actor | null {
  if (authorization === 'Bearer staff-session') return { id: 'staff-1', roles: ['ADMIN'] };
  if (authorization === 'Bearer shopper-session') return { id: 'shopper-1', roles: ['STOREFRONT'], customerExternalId: 'S-1' };
  return null;
}

async function start(): Promise<KokyakuFetchHandler> {
  const { createKokyaku } = await import(/* webpackIgnore: true */ /* turbopackIgnore: true */ '@kokyaku/core');
  const { kokyakuFetchHandler } = await import(/* webpackIgnore: true */ /* turbopackIgnore: true */ '@kokyaku/server/fetch');
  const kokyaku = await createKokyaku({ shop: { currency: 'JPY', defaultCountry: 'JP' } }); // DATABASE_URL, else embedded
  return kokyakuFetchHandler(kokyaku, { path: '/api/crm', console: true, identify: (request) => ({ actor: actorOf(request.headers.get('authorization')) }) });
}

export async function POST(request: Request): Promise<Response> {
  g.kokyakuHandler ??= start();
  return (await g.kokyakuHandler)(request);
}
export const GET = POST;
export const runtime = 'nodejs';
