import { kokyakuExpress } from '@kokyaku/server/express';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { KokyakuMedusa, type MedusaScope } from './kokyaku.js';

let mounted: Promise<RequestHandler> | null = null;

async function mount(scope: MedusaScope): Promise<RequestHandler> {
  const kokyaku = await KokyakuMedusa.from(scope);
  let staffConsole = kokyaku.options.console ?? true;
  if (staffConsole) {
    try {
      await import('@kokyaku/console');
    } catch {
      staffConsole = false;
    }
  }
  const router = await kokyakuExpress(kokyaku.kokyaku, {
    path: '/graphql',
    console: staffConsole ? { title: 'Kokyaku · Medusa' } : false,
    identify: async (req) => {
      // Medusa's `authenticate('user', …)` ran before: an admin user's id, or nothing.
      const auth = (req as Request & { auth_context?: { actor_id?: string; actor_type?: string } }).auth_context;
      if (!auth?.actor_id || auth.actor_type !== 'user') return { actor: null, tenantId: kokyaku.options.tenant };
      return { actor: { id: `medusa-user:${auth.actor_id}`, roles: await kokyaku.rolesOf(auth.actor_id) }, tenantId: kokyaku.options.tenant };
    },
  });
  const outer = express.Router();
  outer.use('/kokyaku', router);
  return outer;
}

/**
 * `/kokyaku/graphql` and `/kokyaku/console/` in the Medusa application: Kokyaku's own router,
 * given the whole path back (Medusa mounts middlewares under their matcher).
 */
export const kokyakuHttp = (req: Request, res: Response, next: NextFunction) => {
  mounted ??= mount((req as Request & { scope: MedusaScope }).scope).catch((error) => {
    mounted = null;
    throw error;
  });
  mounted.then(
    (handler) => {
      req.url = req.originalUrl;
      (req as { baseUrl: string }).baseUrl = '';
      handler(req, res, next);
    },
    (error) => next(error),
  );
};
